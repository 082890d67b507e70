"""IRIs of the evidencemap namespaces and of the named graphs a map is loaded into.

Only namespace roots live here: the terms themselves (classes, facets, concepts) are read from the ontology.
"""

from __future__ import annotations

CANONICAL_BASE = "https://w3id.org/evidencemap/"

EVM = CANONICAL_BASE + "ontology#"
ONTOLOGY = CANONICAL_BASE + "ontology"
CONCEPT = CANONICAL_BASE + "concept/"
DATA = CANONICAL_BASE + "data/"
SHAPES = CANONICAL_BASE + "shapes#"
GRAPH = CANONICAL_BASE + "graph/"

GRAPH_VOCABULARY = GRAPH + "vocabulary"
GRAPH_DATA = GRAPH + "data"
GRAPH_CLAIMS = GRAPH + "claims"
GRAPH_INFERRED = GRAPH + "inferred"

# The parts of one map, each in its own named graph under the map's slug (several maps share one store).
MAP_GRAPH_PARTS = ("data", "claims", "vocabulary", "inferred", "changes")


def map_graph(map_slug: str, part: str) -> str:
    """The named graph holding one part of one map.

    >>> map_graph("dufour-2025", "data")
    'https://w3id.org/evidencemap/graph/dufour-2025/data'
    """
    if part not in MAP_GRAPH_PARTS:
        raise ValueError(f"unknown part of a map: {part!r} (one of {', '.join(MAP_GRAPH_PARTS)})")
    return f"{GRAPH}{map_slug}/{part}"

RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
RDFS = "http://www.w3.org/2000/01/rdf-schema#"
SKOS = "http://www.w3.org/2004/02/skos/core#"
PROV = "http://www.w3.org/ns/prov#"
DCTERMS = "http://purl.org/dc/terms/"
OA = "http://www.w3.org/ns/oa#"
FABIO = "http://purl.org/spar/fabio/"
PRISM = "http://prismstandard.org/namespaces/basic/2.0/"
SCHEMA = "http://schema.org/"
XSD = "http://www.w3.org/2001/XMLSchema#"
SH = "http://www.w3.org/ns/shacl#"

PREFIXES: dict[str, str] = {
    "evm": EVM,
    "rdf": RDF,
    "rdfs": RDFS,
    "xsd": XSD,
    "skos": SKOS,
    "prov": PROV,
    "dcterms": DCTERMS,
    "oa": OA,
    "fabio": FABIO,
    "prism": PRISM,
    "schema": SCHEMA,
}


def last_segment(iri: str) -> str:
    """The last path segment of an IRI (``.../data/dufour-2025/study/blay-2025`` -> ``blay-2025``): the slug of a
    resource whose data give none, or of a concept scheme.

    >>> last_segment("https://w3id.org/evidencemap/data/dufour-2025/study/blay-2025")
    'blay-2025'
    >>> last_segment("https://w3id.org/evidencemap/concept/delivery/")
    'delivery'
    """
    return iri.rstrip("/").rsplit("/", 1)[-1]


def sparql_prefixes(names: tuple[str, ...] | None = None) -> str:
    """The PREFIX lines for the given prefix names (all known prefixes by default).

    >>> print(sparql_prefixes(("evm", "skos")), end="")
    PREFIX evm: <https://w3id.org/evidencemap/ontology#>
    PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
    """
    chosen = names if names is not None else tuple(PREFIXES)
    return "".join(f"PREFIX {name}: <{PREFIXES[name]}>\n" for name in chosen)
