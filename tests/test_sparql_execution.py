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
