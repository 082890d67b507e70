"""/sparql used by real clients (SPARQLWrapper, rdflib's SPARQLStore, httpx, Chromium) against a real uvicorn server."""

from __future__ import annotations

import csv
import io
import shutil
import threading
import time
import urllib.error
from collections.abc import Iterator

import httpx
import pytest
from rdflib import Graph, Literal, Namespace, URIRef
from rdflib.namespace import RDF
from rdflib.plugins.stores.sparqlstore import SPARQLStore
from SPARQLWrapper import CSV, JSON, POST, TURTLE, XML, SPARQLWrapper
from SPARQLWrapper.SPARQLExceptions import QueryBadFormed

from evidencemap.web.app import create_app
from sparql_support import PREFIX, RUNAWAY, TEST_SETTINGS, running_server

pytestmark = pytest.mark.server

EVM = Namespace("https://w3id.org/evidencemap/ontology#")
STUDIES = PREFIX + "SELECT ?study ?ref WHERE { ?study a evm:IncludedStudy ; evm:referenceNumber ?ref } ORDER BY ?ref"
REFS = list(range(35, 46))


@pytest.fixture(scope="module")
def endpoint() -> Iterator[str]:
    with running_server(create_app(TEST_SETTINGS)) as url:
        yield url


def _wrapper(endpoint: str, query: str, fmt: str) -> SPARQLWrapper:
    sparql = SPARQLWrapper(endpoint)
    sparql.setQuery(query)
    sparql.setReturnFormat(fmt)
    return sparql


# -- SPARQLWrapper -----------------------------------------------------------------------------------------------


def test_sparqlwrapper_json(endpoint: str) -> None:
    results = _wrapper(endpoint, STUDIES, JSON).queryAndConvert()
    assert isinstance(results, dict)
    assert [int(b["ref"]["value"]) for b in results["results"]["bindings"]] == REFS


def test_sparqlwrapper_xml_by_post(endpoint: str) -> None:
    sparql = _wrapper(endpoint, STUDIES, XML)
    sparql.setMethod(POST)
    document = sparql.queryAndConvert()
    literals = [int(node.firstChild.data) for node in document.getElementsByTagName("literal")]
    assert literals == REFS


def test_sparqlwrapper_csv(endpoint: str) -> None:
    body = _wrapper(endpoint, STUDIES, CSV).queryAndConvert()
    rows = list(csv.DictReader(io.StringIO(body.decode("utf-8"))))
    assert [int(r["ref"]) for r in rows] == REFS


def test_sparqlwrapper_ask(endpoint: str) -> None:
    results = _wrapper(endpoint, PREFIX + "ASK { ?s evm:referenceNumber 44 }", JSON).queryAndConvert()
    assert results["boolean"] is True


def test_sparqlwrapper_construct_gives_an_rdflib_graph(endpoint: str) -> None:
    query = PREFIX + (
        "CONSTRUCT { ?s evm:referenceNumber ?ref } WHERE { ?s a evm:IncludedStudy ; evm:referenceNumber ?ref }"
    )
    graph = _wrapper(endpoint, query, XML).queryAndConvert()
    assert isinstance(graph, Graph)
    assert sorted(int(o) for o in graph.objects(None, EVM.referenceNumber)) == REFS


def test_sparqlwrapper_construct_as_turtle(endpoint: str) -> None:
    query = PREFIX + "CONSTRUCT { ?s a evm:IncludedStudy } WHERE { ?s a evm:IncludedStudy }"
    body = _wrapper(endpoint, query, TURTLE).queryAndConvert()
    graph = Graph().parse(data=body, format="turtle")
    assert len(set(graph.subjects(RDF.type, EVM.IncludedStudy))) == 11


def test_sparqlwrapper_syntax_error_is_query_bad_formed(endpoint: str) -> None:
    with pytest.raises(QueryBadFormed) as caught:
        _wrapper(endpoint, "SELECT * WHERE { ?s ?p }", JSON).query()
    assert "line 1, column 24" in str(caught.value)  # the } that cuts the triple short


def test_sparqlwrapper_update_is_refused(endpoint: str) -> None:
    sparql = SPARQLWrapper(endpoint)
    sparql.setQuery("CLEAR ALL")  # SPARQLWrapper sends it as an update (POST update=...)
    sparql.setMethod(POST)
    with pytest.raises(urllib.error.HTTPError) as caught:
        sparql.query()
    with caught.value as refusal:  # SPARQLWrapper leaves the response of an unexpected status open
        assert refusal.code == 403
        assert "SPARQL Update is refused" in refusal.read().decode()
    assert _wrapper(endpoint, STUDIES, JSON).queryAndConvert()["results"]["bindings"]


# -- rdflib's SPARQLStore ----------------------------------------------------------------------------------------


def test_sparqlstore_query(endpoint: str) -> None:
    graph = Graph(store=SPARQLStore(endpoint))
    rows = list(graph.query(STUDIES))
    assert [int(r.ref) for r in rows] == REFS  # type: ignore[union-attr]


def test_sparqlstore_triples_and_ask(endpoint: str) -> None:
    graph = Graph(store=SPARQLStore(endpoint))
    studies = set(graph.subjects(RDF.type, EVM.IncludedStudy))
    assert len(studies) == 11 and all(isinstance(s, URIRef) for s in studies)
    assert (None, EVM.referenceNumber, Literal(44)) in graph
    assert graph.query(PREFIX + "ASK { ?s evm:referenceNumber 99 }").askAnswer is False


def test_sparqlstore_is_read_only(endpoint: str) -> None:
    graph = Graph(store=SPARQLStore(endpoint))
    with pytest.raises(TypeError):
        graph.add((URIRef("http://example.org/s"), URIRef("http://example.org/p"), Literal(1)))


# -- the server keeps answering ----------------------------------------------------------------------------------


def test_server_answers_others_while_a_runaway_query_is_stopped(endpoint: str) -> None:
    outcome: dict[str, object] = {}

    def run_away() -> None:
        started = time.perf_counter()
        # from another client (uvicorn takes X-Forwarded-For from 127.0.0.1): one client's runaway holds its own slot
        outcome["status"] = httpx.get(endpoint, params={"query": RUNAWAY}, timeout=30,
                                      headers={"X-Forwarded-For": "192.0.2.20"}).status_code
        outcome["seconds"] = time.perf_counter() - started

    thread = threading.Thread(target=run_away)
    thread.start()
    time.sleep(0.2)
    answered_while_it_ran = 0
    with httpx.Client(timeout=10) as client:
        for _ in range(5):
            assert client.get(endpoint, params={"query": STUDIES}).status_code == 200
            assert client.get(endpoint).status_code == 200  # service description: no worker needed
            answered_while_it_ran += thread.is_alive()
    thread.join(timeout=30)
    assert outcome["status"] == 503  # stopped at the limit (unstopped, this cross join would run for hours)
    assert float(outcome["seconds"]) >= 1.0  # type: ignore[arg-type]
    assert answered_while_it_ran >= 1


# -- a browser, without JavaScript -----------------------------------------------------------------------------------


@pytest.mark.browser
@pytest.mark.skipif(shutil.which("chromium") is None, reason="Debian's chromium is not installed")
def test_editor_runs_a_query_in_a_browser_without_javascript(endpoint: str) -> None:
    from playwright.sync_api import sync_playwright

    args = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync"]
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=shutil.which("chromium"), args=args)
        try:
            page = browser.new_context(java_script_enabled=False).new_page()
            page.goto(endpoint)
            page.fill("#sparql-query", STUDIES)
            page.select_option("#sparql-format", "html")
            page.click("button[type=submit]")
            page.wait_for_selector("table.sparql-table")
            cells = page.locator("table.sparql-table tbody tr td:nth-child(2)").all_inner_texts()
            assert [int(c.split()[0]) for c in cells] == REFS
        finally:
            browser.close()
