"""/sparql through the ASGI app (TestClient, lifespan on, real worker processes): protocol, errors, limits."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable

import httpx
import pytest
from fastapi import FastAPI
from rdflib import Graph, Namespace, URIRef
from rdflib.namespace import RDF

from app_support import app_fixtures
from evidencemap.model.queries import get_named_query, named_queries
from evidencemap.sparql.workers import process_alive
from evidencemap.web.app import create_app
from evidencemap.web.context import AppContext
from evidencemap.web.sparql_editor import with_trailing_values
from sparql_support import PREFIX, RUNAWAY, TEST_SETTINGS, TestClient

SD = Namespace("http://www.w3.org/ns/sparql-service-description#")
JSON_RESULTS = "application/sparql-results+json"
STUDIES = PREFIX + "SELECT ?study ?ref WHERE { ?study a evm:IncludedStudy ; evm:referenceNumber ?ref } ORDER BY ?ref"


app, client = app_fixtures(TEST_SETTINGS)


def _bindings(response: httpx.Response) -> list[dict[str, str]]:
    assert response.status_code == 200, response.text
    return [{k: v["value"] for k, v in b.items()} for b in response.json()["results"]["bindings"]]


def _error(response: httpx.Response, status: int) -> dict[str, object]:
    assert response.status_code == status, response.text
    body: dict[str, object] = response.json()
    assert body["ok"] is False and body["status"] == status
    return body


# -- the three ways of sending a query ---------------------------------------------------------------------------


def test_sparql_get_returns_json_results_with_headers(client: TestClient) -> None:
    response = client.get("/sparql", params={"query": STUDIES})
    rows = _bindings(response)
    assert [int(r["ref"]) for r in rows] == list(range(35, 46))
    assert response.headers["content-type"].startswith(JSON_RESULTS)
    assert response.headers["evidencemap-truncated"] == "false"
    assert response.headers["evidencemap-row-limit"] == "200"
    assert response.headers["evidencemap-rows"] == "11"
    assert response.headers["access-control-allow-origin"] == "*"


def test_sparql_post_form_and_direct_give_the_same_rows(client: TestClient) -> None:
    form = client.post("/sparql", data={"query": STUDIES})
    direct = client.post("/sparql", content=STUDIES.encode(), headers={"Content-Type": "application/sparql-query"})
    assert _bindings(form) == _bindings(direct) == _bindings(client.get("/sparql", params={"query": STUDIES}))


@pytest.mark.parametrize(
    ("accept", "media_type"),
    [
        ("application/sparql-results+xml", "application/sparql-results+xml"),
        ("text/csv", "text/csv"),
        ("text/tab-separated-values", "text/tab-separated-values"),
    ],
)
def test_sparql_select_negotiates_accept(client: TestClient, accept: str, media_type: str) -> None:
    response = client.get("/sparql", params={"query": STUDIES}, headers={"Accept": accept})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].split(";")[0] == media_type
    assert "Accept" in response.headers["vary"]


def test_sparql_construct_negotiates_graph_types(client: TestClient) -> None:
    query = PREFIX + "CONSTRUCT { ?s a evm:IncludedStudy } WHERE { ?s a evm:IncludedStudy }"
    for accept, fmt in [("application/n-triples", "nt"), ("application/ld+json", "json-ld"),
                        ("application/rdf+xml", "xml"), ("text/turtle", "turtle")]:
        response = client.get("/sparql", params={"query": query}, headers={"Accept": accept})
        assert response.headers["content-type"].split(";")[0] == accept
        assert len(Graph().parse(data=response.content, format=fmt)) == 11


def test_sparql_format_parameter_overrides_accept(client: TestClient) -> None:
    response = client.get("/sparql", params={"query": STUDIES, "format": "csv"}, headers={"Accept": JSON_RESULTS})
    assert response.headers["content-type"].startswith("text/csv")
    assert response.text.splitlines()[0] == "study,ref"


# -- refusals ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "send",
    [
        lambda c: c.get("/sparql", params={"update": "CLEAR ALL"}),
        lambda c: c.post("/sparql", data={"update": "CLEAR ALL"}),
        lambda c: c.post("/sparql", content=b"CLEAR ALL", headers={"Content-Type": "application/sparql-update"}),
        lambda c: c.post("/sparql?using-graph-uri=http%3A%2F%2Fexample.org%2F", content=b"ASK {}",
                         headers={"Content-Type": "application/sparql-query"}),
        lambda c: c.get("/sparql", params={"query": "INSERT DATA { <http://e.org/s> <http://e.org/p> 1 }"}),
    ],
    ids=["GET update", "form update", "direct update", "using-graph-uri", "update as query"],
)
def test_sparql_update_is_refused(client: TestClient, send: object) -> None:
    body = _error(send(client), 403)  # type: ignore[operator]
    assert "SPARQL Update is refused" in str(body["error"]) and "read-only" in str(body["hint"])
    assert _bindings(client.get("/sparql", params={"query": STUDIES}))  # the data is still there


def test_sparql_service_is_refused_before_execution(client: TestClient) -> None:
    query = "SELECT * WHERE { ?s ?p ?o OPTIONAL { SERVICE <http://127.0.0.1:9/sparql> { ?s ?q ?r } } }"
    body = _error(client.get("/sparql", params={"query": query}), 403)
    assert str(body["error"]).startswith("SERVICE is refused")
    assert "<http://127.0.0.1:9/sparql>" in str(body["error"])


def test_sparql_load_is_refused(client: TestClient) -> None:
    body = _error(client.post("/sparql", data={"query": "LOAD <http://example.org/data.ttl>"}), 403)
    assert str(body["error"]).startswith("LOAD is refused")


def test_sparql_malformed_query_is_400_with_position(client: TestClient) -> None:
    body = _error(client.get("/sparql", params={"query": "SELECT ?s\nWHERE { ?s ?p }"}), 400)
    assert (body["line"], body["column"]) == (2, 15)  # the offending token: the } that cuts the triple short
    assert "line 2, column 15: unexpected '}'" in str(body["error"])
    assert str(body["excerpt"]).splitlines()[0] == "WHERE { ?s ?p }"


@pytest.mark.parametrize(
    ("request_", "status"),
    [
        (lambda c: c.get("/sparql?query=ASK%7B%7D&query=ASK%7B%7D"), 400),
        (lambda c: c.post("/sparql", content=b"query=ASK%7B%7D&query=ASK%7B%7D",
                          headers={"Content-Type": "application/x-www-form-urlencoded"}), 400),
        (lambda c: c.post("/sparql", data={"format": "json"}), 400),
        (lambda c: c.post("/sparql", content=b"ASK {}", headers={"Content-Type": "text/plain"}), 415),
        (lambda c: c.post("/sparql", content=b"ASK {}"), 415),
        (lambda c: c.post("/sparql", content="ASK {}".encode("utf-16"),
                          headers={"Content-Type": "application/sparql-query; charset=UTF-16"}), 415),
        (lambda c: c.post("/sparql?query=ASK%7B%7D", data={"format": "json"}), 400),
        (lambda c: c.request("GET", "/sparql?query=ASK%7B%7D", content=b"body"), 400),
        (lambda c: c.put("/sparql?query=ASK%7B%7D"), 405),
        (lambda c: c.get("/sparql", params={"query": "ASK {}", "default-graph-uri": "not an iri"}), 400),
        (lambda c: c.get("/sparql", params={"query": "  "}), 400),
        (lambda c: c.get("/sparql", params={"query": "ASK {}", "format": "excel"}), 400),
    ],
    ids=["two queries GET", "two queries form", "POST without query", "text/plain body", "no content type",
         "UTF-16", "query in URL of POST", "GET with body", "PUT", "bad graph IRI", "blank query", "bad format"],
)
def test_sparql_malformed_requests_are_4xx(client: TestClient, request_: object, status: int) -> None:
    body = _error(request_(client), status)  # type: ignore[operator]
    assert body["error"]


def test_sparql_unacceptable_accept_is_406(client: TestClient) -> None:
    body = _error(client.get("/sparql", params={"query": STUDIES}, headers={"Accept": "image/png"}), 406)
    assert "text/csv" in str(body["hint"])


def test_sparql_accept_fitting_another_query_form_is_406(client: TestClient) -> None:
    body = _error(client.get("/sparql", params={"query": "ASK {}"}, headers={"Accept": "text/csv"}), 406)
    assert "ASK" in str(body["error"]) and JSON_RESULTS in str(body["hint"])


def test_sparql_query_longer_than_the_limit_is_413(client: TestClient) -> None:
    limit = TEST_SETTINGS.max_query_length
    query = "ASK {}" + "#" * limit
    body = _error(client.post("/sparql", content=query.encode(), headers={"Content-Type": "application/sparql-query"}),
                  413)
    assert f"{limit:,}" in str(body["error"])


# -- limits ------------------------------------------------------------------------------------------------------


def test_sparql_truncated_result_is_reported_in_headers(client: TestClient) -> None:
    response = client.get("/sparql", params={"query": "SELECT * WHERE { ?s ?p ?o }"})
    assert len(_bindings(response)) == 200
    assert response.headers["evidencemap-truncated"] == "true"
    assert response.headers["evidencemap-row-limit"] == "200"
    assert "Evidencemap-Truncated" in response.headers["access-control-expose-headers"]


def another_client(client: TestClient, address: str) -> TestClient:
    """A client of the same running app (same event loop, same worker pool) that comes from another address."""
    other = TestClient(client.app, client=(address, 50001))
    other.portal = client.portal
    other.app_state.update(client.app_state)
    return other


def _wait_until(condition: Callable[[], bool], seconds: float = 10.0) -> bool:
    deadline = time.monotonic() + seconds
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.02)
    return condition()


def test_sparql_runaway_query_is_stopped_while_other_requests_are_answered(app: FastAPI, client: TestClient) -> None:
    pool = app.state.sparql_pool
    workers = app.state.context.settings.sparql_workers
    assert _bindings(client.get("/sparql", params={"query": STUDIES}))  # the pool is up
    assert _wait_until(lambda: len(pool.worker_pids()) == workers), "the workers did not start"
    before = set(pool.worker_pids())
    runaway: dict[str, object] = {}
    other_client = another_client(client, "192.0.2.10")  # one client's runaway holds only that client's slot

    def run_away() -> None:
        started = time.perf_counter()
        runaway["response"] = other_client.get("/sparql", params={"query": RUNAWAY})
        runaway["seconds"] = time.perf_counter() - started
        runaway["done"] = time.perf_counter()

    thread = threading.Thread(target=run_away)
    thread.start()
    time.sleep(0.3)  # let the runaway query reach a worker first
    assert client.get("/sparql", params={"query": STUDIES}).status_code == 200
    answered_meanwhile = time.perf_counter()
    for _ in range(2):
        assert client.get("/sparql", params={"query": STUDIES}).status_code == 200
    thread.join(timeout=30)

    response = runaway["response"]
    assert isinstance(response, httpx.Response)
    body = _error(response, 503)
    assert "1 s limit" in str(body["error"]) and "--query-timeout" in str(body["hint"])
    assert float(runaway["seconds"]) >= 1.0  # type: ignore[arg-type]
    # the other requests were answered while the runaway query was still running
    assert answered_meanwhile < float(runaway["done"])  # type: ignore[arg-type]
    # the worker that ran it was killed, and a successor forked in the background
    assert _wait_until(lambda: len(pool.worker_pids()) == len(before) and set(pool.worker_pids()) != before)
    killed = before - set(pool.worker_pids())
    assert len(killed) == 1
    pid = killed.pop()
    assert _wait_until(lambda: not process_alive(pid), 5), "the runaway worker is still running"
    assert _bindings(client.get("/sparql", params={"query": STUDIES}))


# -- the map's own questions --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def context(app: FastAPI) -> AppContext:
    ctx: AppContext = app.state.context
    return ctx


@pytest.mark.parametrize("name", [q.name for q in named_queries()])
def test_sparql_runs_every_named_query(client: TestClient, context: AppContext, name: str) -> None:
    query = get_named_query(name)
    rows = _bindings(client.post("/sparql", data={"query": query.text}))
    assert len(rows) == len(context.evidence_map.select(query.text)) > 0


def test_sparql_online_burnout_with_defaults_bound(client: TestClient, context: AppContext) -> None:
    query = get_named_query("online-studies-burnout")
    bound = with_trailing_values(query.text, query.bindings(context.vocabulary, {}))
    rows = _bindings(client.post("/sparql", data={"query": bound}))
    assert [int(r["ref"]) for r in rows] == [40, 42, 44, 45]


def test_sparql_online_burnout_raw_result_holds_the_default_rows(client: TestClient, context: AppContext) -> None:
    query = get_named_query("online-studies-burnout")
    defaults = query.bindings(context.vocabulary, {})
    rows = _bindings(client.get("/sparql", params={"query": query.text}))
    refs = {int(r["ref"]) for r in rows
            if r["delivery"] == defaults["delivery"].value and r["challenge"] == defaults["challenge"].value}
    assert refs == {40, 42, 44, 45}


# -- service description and CORS --------------------------------------------------------------------------------


def test_sparql_service_description_is_turtle_by_default(client: TestClient, context: AppContext) -> None:
    response = client.get("/sparql")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/turtle")
    graph = Graph().parse(data=response.text, format="turtle")
    service = URIRef("http://testserver/sparql")
    assert (service, RDF.type, SD.Service) in graph
    assert (service, SD.endpoint, service) in graph
    assert (service, SD.supportedLanguage, SD.SPARQL11Query) in graph
    assert (service, SD.feature, SD.UnionDefaultGraph) in graph
    names = {str(o) for o in graph.objects(None, SD.name)}
    assert names == set(context.evidence_map.named_graphs())


def test_sparql_service_description_in_json_ld(client: TestClient) -> None:
    response = client.get("/sparql", headers={"Accept": "application/ld+json"})
    graph = Graph().parse(data=response.text, format="json-ld")
    assert (URIRef("http://testserver/sparql"), RDF.type, SD.Service) in graph
    assert json.loads(response.text)


def test_sparql_cors_preflight_allows_get_and_post(client: TestClient) -> None:
    response = client.options("/sparql", headers={
        "Origin": "https://yasgui.example", "Access-Control-Request-Method": "GET",
        "Access-Control-Request-Headers": "accept"})
    assert response.status_code == 204
    assert response.headers["access-control-allow-origin"] == "*"
    assert {m.strip() for m in response.headers["access-control-allow-methods"].split(",")} >= {"GET", "POST"}


def test_sparql_errors_carry_cors_headers(client: TestClient) -> None:
    response = client.get("/sparql", params={"query": "ASK {"}, headers={"Origin": "https://yasgui.example"})
    assert response.status_code == 400 and response.headers["access-control-allow-origin"] == "*"


def test_sparql_choice_errors_have_the_shared_error_shape_with_allowed(client: TestClient) -> None:
    unknown = client.get("/sparql", params={"query": "ASK {}", "format": "excel"})
    assert unknown.status_code == 400 and {"csv", "turtle"} <= set(unknown.json()["allowed"])
    ask_as_csv = client.get("/sparql", params={"query": "ASK {}"}, headers={"Accept": "text/csv"})
    assert ask_as_csv.status_code == 406
    assert ask_as_csv.json()["allowed"] == ["application/sparql-results+json", "application/sparql-results+xml"]


def test_sparql_works_without_the_lifespan() -> None:
    """Outside ``with``, TestClient runs each request in a new event loop; the pool starts over in each."""
    client = TestClient(create_app(TEST_SETTINGS))
    try:
        for _ in range(2):
            assert _bindings(client.get("/sparql", params={"query": STUDIES}))
    finally:
        client.app.state.sparql_pool.zygote.stop()  # type: ignore[attr-defined]
