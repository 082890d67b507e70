"""One query inside a worker: dataset rules, serialisers with the row cap, and errors as data (no processes here)."""

from __future__ import annotations

import gc
import io
import json
import pickle

import pyoxigraph as ox
import pytest
from rdflib import Graph
from rdflib.query import Result

from evidencemap.errors import NotAcceptable, QueryRefused
from evidencemap.sparql.execution import QueryFailure, QueryOutcome, QueryRequest, run_query, run_query_safely
from evidencemap.sparql.guard import SparqlSyntaxError

EX = "http://example.org/"
ALL = {"tabular": "json", "boolean": "json", "graph": "turtle"}


def _n(local: str) -> ox.NamedNode:
    return ox.NamedNode(EX + local)


@pytest.fixture(scope="module")
def store() -> ox.Store:
    """Three named graphs g1..g3 each holding ``<di> a <Doc>``, plus one default-graph triple with odd literals."""
    s = ox.Store()
    for i in (1, 2, 3):
        s.add(ox.Quad(_n(f"d{i}"), ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type"), _n("Doc"),
                      _n(f"g{i}")))
    s.add(ox.Quad(_n("s"), _n("label"), ox.Literal('a "quoted", comma\nline', language="en")))
    s.add(ox.Quad(_n("s"), _n("count"), ox.Literal("7", datatype=ox.NamedNode("http://www.w3.org/2001/XMLSchema#integer"))))
    s.add(ox.Quad(_n("s"), _n("blank"), ox.BlankNode("b0")))
    return s


def _ask(store: ox.Store, text: str, **dataset: object) -> bool:
    outcome = run_query(store, QueryRequest(text, ALL, **dataset))  # type: ignore[arg-type]
    return bool(json.loads(outcome.body)["boolean"])


def test_run_query_default_graph_is_union_when_asked(store: ox.Store) -> None:
    assert _ask(store, f"ASK {{ <{EX}d1> a ?t }}", union_default_graph=True) is True
    assert _ask(store, f"ASK {{ <{EX}d1> a ?t }}", union_default_graph=False) is False


def test_run_query_from_clause_wins_over_union(store: ox.Store) -> None:
    query = f"ASK FROM <{EX}g3> {{ <{EX}d1> a ?t }}"
    assert _ask(store, query, union_default_graph=True) is False
    assert _ask(store, f"ASK FROM <{EX}g3> {{ <{EX}d3> a ?t }}", union_default_graph=True) is True


def test_run_query_protocol_dataset_replaces_from(store: ox.Store) -> None:
    query = f"ASK FROM <{EX}g3> {{ GRAPH ?a {{ <{EX}d1> a ?t }} GRAPH ?b {{ <{EX}d2> a ?t }} }}"
    assert _ask(store, query, named_graphs=(EX + "g1", EX + "g2")) is True
    assert _ask(store, query) is False


def test_run_query_protocol_default_graph_alone_means_no_named_graphs(store: ox.Store) -> None:
    assert _ask(store, f"ASK {{ <{EX}d1> a ?t }}", default_graphs=(EX + "g1",)) is True
    assert _ask(store, "ASK { GRAPH ?g { ?s ?p ?o } }", default_graphs=(EX + "g1",)) is False


def test_run_query_resolves_relative_iris_against_base(store: ox.Store) -> None:
    outcome = run_query(store, QueryRequest("CONSTRUCT { <s> <p> 1 } WHERE {}", ALL, base_iri="http://host/sparql"))
    graph = Graph().parse(data=outcome.body, format="turtle")
    assert {(str(s), str(p)) for s, p, _ in graph} == {("http://host/s", "http://host/p")}


@pytest.mark.parametrize("serialiser", ["json", "xml", "csv", "tsv"])
def test_run_query_select_serialisers_parse_back(store: ox.Store, serialiser: str) -> None:
    query = f"SELECT ?p ?o WHERE {{ <{EX}s> ?p ?o }} ORDER BY ?p"
    outcome = run_query(store, QueryRequest(query, {"tabular": serialiser}, union_default_graph=False))
    result = Result.parse(io.BytesIO(outcome.body), format=serialiser)
    rows = {str(row[0]): row[1] for row in result}  # type: ignore[index]
    assert set(rows) == {EX + "blank", EX + "count", EX + "label"}
    assert str(rows[EX + "label"]) == 'a "quoted", comma\nline'
    assert int(rows[EX + "count"]) == 7 if serialiser != "csv" else str(rows[EX + "count"]) == "7"
    assert outcome.rows == 3 and outcome.truncated is False


def test_run_query_json_keeps_language_and_datatype(store: ox.Store) -> None:
    outcome = run_query(store, QueryRequest(f"SELECT ?o WHERE {{ <{EX}s> ?p ?o }}", ALL, union_default_graph=False))
    values = {json.dumps(b["o"], sort_keys=True) for b in json.loads(outcome.body)["results"]["bindings"]}
    assert values == {
        json.dumps({"type": "literal", "value": 'a "quoted", comma\nline', "xml:lang": "en"}, sort_keys=True),
        json.dumps({"type": "literal", "value": "7", "datatype": "http://www.w3.org/2001/XMLSchema#integer"},
                   sort_keys=True),
        json.dumps({"type": "bnode", "value": "b0"}, sort_keys=True),
    }


def test_run_query_caps_rows_and_says_so(store: ox.Store) -> None:
    outcome = run_query(store, QueryRequest("SELECT * WHERE { GRAPH ?g { ?s ?p ?o } }", ALL, max_rows=2))
    assert (outcome.rows, outcome.truncated) == (2, True)
    assert len(json.loads(outcome.body)["results"]["bindings"]) == 2
    exact = run_query(store, QueryRequest("SELECT * WHERE { GRAPH ?g { ?s ?p ?o } }", ALL, max_rows=3))
    assert (exact.rows, exact.truncated) == (3, False)


@pytest.mark.parametrize(("serialiser", "rdflib_format"),
                         [("turtle", "turtle"), ("ntriples", "nt"), ("jsonld", "json-ld"), ("rdfxml", "xml")])
def test_run_query_graph_serialisers_parse_back(store: ox.Store, serialiser: str, rdflib_format: str) -> None:
    query = "CONSTRUCT { ?s a ?t } WHERE { GRAPH ?g { ?s a ?t } }"
    outcome = run_query(store, QueryRequest(query, {"graph": serialiser}, max_rows=2))
    graph = Graph().parse(data=outcome.body, format=rdflib_format)
    assert len(graph) == 2 and outcome.truncated is True


def test_run_query_refuses_before_touching_the_store() -> None:
    class Untouchable:
        def query(self, *args: object, **kwargs: object) -> None:
            raise AssertionError("the store was queried")

    with pytest.raises(QueryRefused):
        run_query(Untouchable(), QueryRequest("SELECT * { SERVICE <http://example.org/> { ?s ?p ?o } }", ALL))  # type: ignore[arg-type]


def test_run_query_not_acceptable_for_the_query_form(store: ox.Store) -> None:
    with pytest.raises(NotAcceptable) as caught:
        run_query(store, QueryRequest("ASK {}", {"tabular": "csv"}, accept="text/csv"))
    assert "application/sparql-results+json" in str(caught.value)


def test_run_query_engine_syntax_error_has_position(store: ox.Store) -> None:
    """rdflib's parser accepts a duplicated projection; pyoxigraph's rejects it with a position."""
    with pytest.raises(SparqlSyntaxError) as caught:
        run_query(store, QueryRequest("SELECT ?x (1 AS ?x) WHERE {}", ALL))
    assert caught.value.line == 1 and caught.value.column > 0


def test_run_query_safely_returns_picklable_failures(store: ox.Store) -> None:
    failure = run_query_safely(store, QueryRequest("SELECT * WHERE {", ALL))
    assert isinstance(failure, QueryFailure)
    again = pickle.loads(pickle.dumps(failure)).exception()
    assert isinstance(again, SparqlSyntaxError) and again.line == 1
    outcome = run_query_safely(store, QueryRequest("ASK {}", ALL))
    assert isinstance(pickle.loads(pickle.dumps(outcome)), QueryOutcome)


@pytest.mark.parametrize("query", [f"SELECT * WHERE {{ <{EX}s> ?p ?o }}", f"CONSTRUCT WHERE {{ <{EX}s> ?p ?o }}"])
def test_run_query_keeps_no_result_iterator_alive(store: ox.Store, query: str) -> None:
    """The query's parse leaves reference cycles behind; they must not hold pyoxigraph's result iterator, which a
    garbage collection on another thread (a server's) could not drop."""
    gc.collect()
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        run_query(store, QueryRequest(query, ALL, union_default_graph=False))
        gc.collect()
        kept = [type(o).__name__ for o in gc.garbage if isinstance(o, ox.QuerySolutions | ox.QueryTriples)]
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
    assert kept == []


# -- the engine's serialisers with the row cap (sparql/results.py) ---------------------------------------------------

# Literals that look like the structure of each format: a row separator inside a JSON string, an empty JSON row, a
# CSV line end inside quotes, an XML result tag, escapes.
TRICKY = ["a},{b", '}},{"x', "{},{", "{},{}]", 'q"uo"te', "back\\slash\\", "line\r\nend", "<result>", "tab\tx", ""]


@pytest.fixture(scope="module")
def tricky_store() -> ox.Store:
    """Rows with tricky literals, some rows with an unbound variable and some with none bound at all."""
    s = ox.Store()
    for i in range(1200):
        text = TRICKY[i % len(TRICKY)] * (1 + i % 3)
        s.add(ox.Quad(_n(f"r{i:04}"), _n("v"), ox.Literal(text)))
        if i % 4 == 0:
            s.add(ox.Quad(_n(f"r{i:04}"), _n("w"), ox.Literal(str(i), language="en")))
    return s


QUERY = ("SELECT ?r ?v ?w WHERE { { ?r <http://example.org/v> ?v OPTIONAL { ?r <http://example.org/w> ?w } } "
         "UNION { VALUES ?none { UNDEF } } } ORDER BY ?r")


def _parsed_rows(body: bytes, serialiser: str) -> list[dict[str, str]]:
    """The rows of a result, read back by a parser of its format (empty rows kept), as {variable: value text}."""
    text = body.decode("utf-8")
    if serialiser == "json":
        return [{k: v["value"] for k, v in row.items()} for row in json.loads(text)["results"]["bindings"]]
    if serialiser == "xml":
        from xml.etree import ElementTree

        ns = "{http://www.w3.org/2005/sparql-results#}"
        root = ElementTree.fromstring(text)
        return [{b.attrib["name"]: "".join(b.itertext()) for b in result.iter(ns + "binding")}
                for result in root.iter(ns + "result")]
    lines = text.split("\n# Result cut")[0]
    if serialiser == "csv":
        import csv as csv_module

        reader = csv_module.DictReader(io.StringIO(lines, newline=""))
        return [{k: v for k, v in row.items() if v} for row in reader]
    header, *rows = lines.rstrip("\n").split("\n") if lines.strip() else [""]
    names = [n.lstrip("?") for n in header.split("\t")]
    return [{n: v for n, v in zip(names, row.split("\t"), strict=True) if v} for row in rows]


@pytest.mark.parametrize("serialiser", ["json", "xml", "csv", "tsv"])
@pytest.mark.parametrize("max_rows", [0, 1, 7, 300, 1200, 1201, 5000])
def test_engine_serialisers_cut_exactly_at_the_cap(tricky_store: ox.Store, serialiser: str, max_rows: int) -> None:
    """The engine writes the result; the cut lands on a row boundary whatever the literals hold, the result parses
    back with the first ``max_rows`` rows of the whole result, and the cut is stated inside it."""
    whole = run_query(tricky_store, QueryRequest(QUERY, {"tabular": serialiser}, max_rows=10_000))
    assert (whole.rows, whole.truncated) == (1201, False)
    outcome = run_query(tricky_store, QueryRequest(QUERY, {"tabular": serialiser}, max_rows=max_rows))
    expected = min(max_rows, 1201)
    assert (outcome.rows, outcome.truncated) == (expected, max_rows < 1201)
    rows = _parsed_rows(outcome.body, serialiser)
    assert len(rows) == expected
    assert rows == _parsed_rows(whole.body, serialiser)[:expected]
    if outcome.truncated:
        text = outcome.body.decode("utf-8")
        assert "Result cut at the row limit" in text
        if serialiser == "json":
            assert json.loads(text)["truncated"] is True


def test_engine_serialiser_stops_the_engine_at_the_cap() -> None:
    """A result far larger than the cap is not written whole: the sink stops the engine soon after the cap."""
    s = ox.Store()
    s.extend(ox.Quad(_n(f"s{i}"), _n("p"), ox.Literal("x" * 50)) for i in range(2000))
    query = "SELECT * WHERE { ?a ?p ?o . ?b ?q ?r }"  # 4 million rows
    outcome = run_query(s, QueryRequest(query, {"tabular": "json"}, max_rows=100))
    assert (outcome.rows, outcome.truncated) == (100, True)
    assert len(outcome.body) < 200_000
