"""The SPARQL 1.1 Service Description of /sparql (https://www.w3.org/TR/sparql11-service-description/): what the
endpoint speaks, which formats it writes, its dataset and its limits, as RDF."""

from __future__ import annotations

from collections.abc import Iterator

import pyoxigraph as ox

from evidencemap.namespaces import DCTERMS, RDF, RDFS
from evidencemap.sparql.results import RDF_FORMATS
from evidencemap.web.context import AppContext

SD = "http://www.w3.org/ns/sparql-service-description#"
FORMATS = "http://www.w3.org/ns/formats/"
RESULT_FORMATS = (
    "SPARQL_Results_JSON", "SPARQL_Results_XML", "SPARQL_Results_CSV", "SPARQL_Results_TSV",
    "Turtle", "N-Triples", "JSON-LD", "RDF_XML",
)
PREFIXES = {"sd": SD, "formats": FORMATS, "dcterms": DCTERMS, "rdfs": RDFS}


def _n(iri: str) -> ox.NamedNode:
    return ox.NamedNode(iri)


def describe(context: AppContext, endpoint: str) -> Iterator[ox.Triple]:
    settings = context.settings
    service, dataset, default = _n(endpoint), ox.BlankNode(), ox.BlankNode()
    a = _n(RDF + "type")
    yield ox.Triple(service, a, _n(SD + "Service"))
    yield ox.Triple(service, _n(SD + "endpoint"), service)
    yield ox.Triple(service, _n(SD + "supportedLanguage"), _n(SD + "SPARQL11Query"))
    for name in RESULT_FORMATS:
        yield ox.Triple(service, _n(SD + "resultFormat"), _n(FORMATS + name))
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
    """The description of the endpoint at ``endpoint``, written with a graph serialiser (``turtle``...)."""
    prefixes = PREFIXES if serialiser in {"turtle", "rdfxml"} else None
    return ox.serialize(list(describe(context, endpoint)), format=RDF_FORMATS[serialiser], prefixes=prefixes) or b""
