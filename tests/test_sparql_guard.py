"""The guard decides from the parsed query (rdflib's parser and algebra), before anything runs."""

from __future__ import annotations

import pytest

from evidencemap.errors import BadRequest, QueryRefused
from evidencemap.sparql.guard import SparqlSyntaxError, engine_syntax_error, inspect_query

SERVICE_PLACES = {
    "top level": "SELECT * WHERE { SERVICE <http://example.org/sparql> { ?s ?p ?o } }",
    "silent, variable endpoint": "SELECT * WHERE { ?x ?y ?svc SERVICE SILENT ?svc { ?s ?p ?o } }",
    "in OPTIONAL": "SELECT * WHERE { ?s ?p ?o OPTIONAL { SERVICE <http://example.org/sparql> { ?s ?q ?r } } }",
    "in FILTER EXISTS": "SELECT * WHERE { ?s ?p ?o FILTER EXISTS { SERVICE <http://example.org/s> { ?s ?q ?r } } }",
    "in a subquery": "ASK { { SELECT ?s WHERE { SERVICE <http://example.org/sparql> { ?s ?q ?r } } } }",
    "in MINUS": "SELECT * WHERE { ?s ?p ?o MINUS { SERVICE <http://example.org/sparql> { ?s ?q ?r } } }",
    "in UNION": "DESCRIBE ?s WHERE { { ?s ?p ?o } UNION { SERVICE <http://example.org/sparql> { ?s ?b ?c } } }",
    "in a projected EXISTS": "SELECT (EXISTS { SERVICE <http://example.org/s> { ?a ?b ?c } } AS ?e) WHERE { ?s ?p ?o }",
    "in BIND": "CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o BIND(NOT EXISTS { SERVICE <http://e.org/> { ?a ?b ?c } }\n"
               "AS ?e) }",
    "in ORDER BY": "SELECT * WHERE { ?s ?p ?o } ORDER BY (EXISTS { SERVICE <http://example.org/s> { ?a ?b ?c } })",
    "in HAVING": "SELECT ?s WHERE { ?s ?p ?o } GROUP BY ?s HAVING (EXISTS { SERVICE <http://e.org/s> { ?a ?b ?c } })",
    "in GRAPH": "SELECT * WHERE { GRAPH ?g { SERVICE <http://example.org/sparql> { ?s ?p ?o } } }",
}


@pytest.mark.parametrize("query", SERVICE_PLACES.values(), ids=SERVICE_PLACES.keys())
def test_inspect_query_refuses_service_anywhere(query: str) -> None:
    with pytest.raises(QueryRefused) as caught:
        inspect_query(query)
    assert caught.value.message.startswith("SERVICE is refused"), caught.value.message


def test_inspect_query_names_the_service_called() -> None:
    with pytest.raises(QueryRefused) as caught:
        inspect_query(SERVICE_PLACES["top level"])
    assert "<http://example.org/sparql>" in caught.value.message


def test_inspect_query_accepts_the_word_service_in_data() -> None:
    """Text search would refuse this; the parsed query has no SERVICE."""
    query = 'SELECT * WHERE { ?s <http://example.org/SERVICE> "SERVICE <http://example.org/>" } # SERVICE'
    assert inspect_query(query).form == "SELECT"


@pytest.mark.parametrize(
    ("update", "keyword"),
    [
        ("LOAD <http://example.org/data.ttl>", "LOAD"),
        ("LOAD SILENT <http://example.org/data.ttl> INTO GRAPH <http://example.org/g>", "LOAD"),
        ("CLEAR ALL", "CLEAR"),
        ("DROP GRAPH <http://example.org/g>", "DROP"),
        ("INSERT DATA { <http://example.org/s> <http://example.org/p> 1 }", "INSERT DATA"),
        ("DELETE WHERE { ?s ?p ?o }", "DELETE WHERE"),
        ("PREFIX ex: <http://example.org/> DELETE { ?s ex:p ?o } INSERT { ?s ex:q ?o } WHERE { ?s ex:p ?o }",
         "DELETE/INSERT"),
    ],
)
def test_inspect_query_refuses_updates_naming_them(update: str, keyword: str) -> None:
    with pytest.raises(QueryRefused) as caught:
        inspect_query(update)
    assert keyword in caught.value.message
    assert "read-only" in str(caught.value)


def test_inspect_query_refuses_load_as_never_fetching() -> None:
    with pytest.raises(QueryRefused) as caught:
        inspect_query("LOAD <http://example.org/data.ttl>")
    assert caught.value.message.startswith("LOAD is refused: this endpoint never fetches data")


@pytest.mark.parametrize(
    ("query", "form"),
    [
        ("SELECT * WHERE { ?s ?p ?o }", "SELECT"),
        ("ASK {}", "ASK"),
        ("CONSTRUCT WHERE { ?s ?p ?o }", "CONSTRUCT"),
        ("DESCRIBE <http://example.org/>", "DESCRIBE"),
    ],
)
def test_inspect_query_reports_the_form(query: str, form: str) -> None:
    assert inspect_query(query).form == form


def test_inspect_query_reports_a_dataset_clause_and_prefixes() -> None:
    inspected = inspect_query("PREFIX ex: <http://example.org/> ASK FROM <http://example.org/g> { ?s ex:p ?o }")
    assert inspected.has_dataset is True
    assert inspected.prefixes == {"ex": "http://example.org/"}
    assert inspect_query("ASK { ?s ?p ?o }").has_dataset is False


def test_a_query_the_scan_decides_is_not_parsed_by_rdflib(monkeypatch: pytest.MonkeyPatch) -> None:
    """A query form without SERVICE or update keywords goes to the engine as it is (issue 14: rdflib's parse cost
    up to 1,500 times the scan); an update is still named by rdflib's reading."""
    from evidencemap.sparql import guard

    def refuse(text: str) -> object:
        raise AssertionError("rdflib parsed a query the scan had decided")

    monkeypatch.setattr(guard, "_inspect_with_rdflib", refuse)
    inspected = inspect_query("PREFIX ex: <http://example.org/>\nSELECT * FROM <http://example.org/g> { ?s ex:p ?o }")
    assert (inspected.form, inspected.has_dataset, inspected.prefixes) == ("SELECT", True,
                                                                          {"ex": "http://example.org/"})
    monkeypatch.undo()
    with pytest.raises(QueryRefused, match="LOAD"):
        inspect_query("LOAD <http://example.org/data.ttl>")


def test_a_syntax_error_has_line_and_column() -> None:
    """The guard passes a text with a query form to the engine, which reports where its syntax is wrong."""
    import pyoxigraph as ox

    from evidencemap.sparql.execution import QueryRequest, run_query

    with pytest.raises(SparqlSyntaxError) as caught:
        run_query(ox.Store(), QueryRequest("SELECT ?s\nWHERE { ?s ?p ?o ", {"tabular": "json"}))
    error = caught.value
    assert (error.status, error.line, error.column) == (400, 2, 18)
    assert "line 2, column 18" in error.message
    assert error.excerpt.splitlines() == ["WHERE { ?s ?p ?o ", " " * 17 + "^"]


def test_inspect_query_unparseable_text_is_a_bad_request_not_a_refusal() -> None:
    with pytest.raises(BadRequest) as caught:
        inspect_query("please list the studies")
    assert not isinstance(caught.value, QueryRefused)


def test_engine_syntax_error_reads_oxigraph_positions() -> None:
    error = engine_syntax_error("error at 2:3: expected OPTIONAL", "SELECT *\nWHERE {\n}")
    assert (error.line, error.column) == (2, 3)
    assert error.excerpt == "WHERE {\n  ^"


NESTED = {
    "groups": "SELECT * WHERE {" + "{" * 3000 + " ?s ?p ?o " + "}" * 3000 + "}",
    "collections": "SELECT * WHERE { ?s ?p " + "(" * 400 + " 1 " + ")" * 400 + " }",
    "blank nodes": "SELECT * WHERE { ?s ?p " + "[ <x:a> " * 500 + "1" + " ]" * 500 + " }",
    "expressions": "SELECT * WHERE { FILTER(" + "(" * 5000 + "1" + ")" * 5000 + ") }",
}


@pytest.mark.parametrize("query", NESTED.values(), ids=NESTED.keys())
def test_inspect_query_refuses_nesting_that_would_exhaust_the_engine_stack(query: str) -> None:
    with pytest.raises(BadRequest) as caught:
        inspect_query(query)
    assert "levels deep" in caught.value.message and "at most 100" in caught.value.message


def test_inspect_query_counts_brackets_of_the_code_only() -> None:
    """Brackets in strings, IRIs and comments are not nesting; a query 100 levels deep is still read."""
    brackets_in_text = 'SELECT * WHERE { ?s ?p "' + "{" * 500 + '" # ' + "(" * 500 + "\n}"
    assert inspect_query(brackets_in_text).form == "SELECT"
    deep_but_allowed = "SELECT * WHERE " + "{" * 100 + " ?s ?p ?o " + "}" * 100
    assert inspect_query(deep_but_allowed).form == "SELECT"
