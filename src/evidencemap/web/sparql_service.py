"""The SPARQL 1.1 Service Description of /sparql (https://www.w3.org/TR/sparql11-service-description/): what the
endpoint speaks, which formats it writes, its dataset and its limits, as RDF."""

from __future__ import annotations

from collections.abc import Iterator

import pyoxigraph as ox

from evidencemap.graph.formats import RDF_FORMATS, W3C_FORMATS
from evidencemap.namespaces import DCTERMS, RDF, RDFS
from evidencemap.sparql.results import WRITABLE, uses_prefixes
from evidencemap.web.context import AppContext

SD = "http://www.w3.org/ns/sparql-service-description#"
PREFIXES = {"sd": SD, "formats": W3C_FORMATS, "dcterms": DCTERMS, "rdfs": RDFS}


def _n(iri: str) -> ox.NamedNode:
    return ox.NamedNode(iri)


def describe(context: AppContext, endpoint: str) -> Iterator[ox.Triple]:
    settings = context.settings
    service, dataset, default = _n(endpoint), ox.BlankNode(), ox.BlankNode()
    a = _n(RDF + "type")
    yield ox.Triple(service, a, _n(SD + "Service"))
    yield ox.Triple(service, _n(SD + "endpoint"), service)
    yield ox.Triple(service, _n(SD + "supportedLanguage"), _n(SD + "SPARQL11Query"))
    for fmt in dict.fromkeys(f for kind in ("tabular", "graph") for f in WRITABLE[kind]):
        if fmt.iri:
            yield ox.Triple(service, _n(SD + "resultFormat"), _n(fmt.iri))
    if settings.union_default_graph:
        yield ox.Triple(service, _n(SD + "feature"), _n(SD + "UnionDefaultGraph"))
    yield ox.Triple(service, _n(SD + "defaultEntailmentRegime"), _n("http://www.w3.org/ns/entailment/Simple"))
    yield ox.Triple(service, _n(DCTERMS + "title"), ox.Literal("evidencemap SPARQL endpoint (read-only)"))
    yield ox.Triple(service, _n(RDFS + "comment"), ox.Literal(
        f"Read-only SPARQL 1.1 Query endpoint. A query is stopped after {settings.query_timeout:g} s and returns at "
        f"most {settings.max_rows:,} rows (a cut result carries the response header Evidencemap-Truncated: true). "
        "SPARQL Update, LOAD and SERVICE are refused: the server never sends requests to other servers. "
        + ("The default graph is the union of the named graphs." if settings.union_default_graph
           else "The default graph is the store's default graph.")
    ))
    yield ox.Triple(service, _n(SD + "defaultDataset"), dataset)
    yield ox.Triple(dataset, a, _n(SD + "Dataset"))
    yield ox.Triple(dataset, _n(SD + "defaultGraph"), default)
    yield ox.Triple(default, a, _n(SD + "Graph"))
    for name in sorted(context.evidence_map.named_graphs()):
        named = ox.BlankNode()
        yield ox.Triple(dataset, _n(SD + "namedGraph"), named)
        yield ox.Triple(named, a, _n(SD + "NamedGraph"))
        yield ox.Triple(named, _n(SD + "name"), _n(name))


def service_description(context: AppContext, endpoint: str, serialiser: str) -> bytes:
    """The description of the endpoint at ``endpoint``, written in an RDF format named by ``serialiser``
    (``ttl``...)."""
    fmt = RDF_FORMATS[serialiser]
    assert fmt.rdf_format is not None  # every format of the RDF family has one
    prefixes = PREFIXES if uses_prefixes(fmt) else None
    return ox.serialize(list(describe(context, endpoint)), format=fmt.rdf_format, prefixes=prefixes) or b""
