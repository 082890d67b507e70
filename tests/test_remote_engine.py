"""The map on a remote SPARQL engine (issue 14): ``oxigraph serve`` (the CLI from PyPI) started once for the module,
the bundled map pushed into it, then the same answers asked of ``serve --endpoint`` and of the embedded store.

Also, with a scripted engine (httpx's MockTransport): Virtuoso's silent truncation at its row limit is detected and
stated, a slow engine is a 503 and an oversized answer a 413.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pyoxigraph as ox
import pytest

from app_support import TestClient, free_port
from evidencemap.errors import DataError
from evidencemap.graph.loading import build_store
from evidencemap.graph.push import push_store
from evidencemap.graph.remote import (
    Endpoint,
    EngineTruncated,
    EngineUnavailable,
    RemoteEngine,
    ResultTooLarge,
    open_remote,
)
from evidencemap.resources import bundled_map_dir
from evidencemap.settings import Settings
from evidencemap.sparql.execution import QueryRequest
from evidencemap.sparql.proxy import run_remote
from evidencemap.web.app import create_app


def oxigraph_binary() -> str | None:
    beside = Path(sys.executable).parent / "oxigraph"
    return str(beside) if beside.exists() else shutil.which("oxigraph")


@pytest.fixture(scope="module")
def oxigraph() -> Iterator[str]:
    """The base URL of an in-memory ``oxigraph serve`` holding the bundled map, pushed with the Graph Store
    Protocol."""
    binary = oxigraph_binary()
    if binary is None:
        pytest.skip("the oxigraph CLI is not installed (pip install oxigraph; the test extras include it)")
    port = free_port()
    try:
        process = subprocess.Popen([binary, "serve", "--bind", f"127.0.0.1:{port}"], stdout=subprocess.DEVNULL,
                                   stderr=subprocess.DEVNULL)
    except OSError as exc:
        pytest.skip(f"the oxigraph CLI cannot run here: {exc}")
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                httpx.get(f"{base}/query", params={"query": "ASK {}"}, timeout=1)
                break
            except httpx.TransportError:
                if process.poll() is not None or time.monotonic() > deadline:
                    pytest.skip("oxigraph serve did not start")
                time.sleep(0.1)
        push_store(build_store([bundled_map_dir()]), graph_store=f"{base}/store")
        yield base
    finally:
        process.terminate()
        process.wait(10)


@pytest.fixture(scope="module")
def remote(oxigraph: str) -> Iterator[TestClient]:
    """``serve --endpoint``'s app, lifespan on."""
    settings = Settings(endpoint=f"{oxigraph}/query", max_rows=ROW_CAP)
    with TestClient(create_app(settings, open_remote(settings))) as test_client:
        yield test_client


ROW_CAP = 1000  # below the map's 7,000 quads: /sparql's own cap shows
ANSWERS = [
    "/api/facets",
    "/api/studies?delivery=online&challenge=emotional-vulnerability-burnout",
    "/api/studies?design=qualitative-study&limit=3",
    "/api/ask?q=which+online+studies+reported+burnout",
    "/api/ask?q=how+many+studies+used+psychoeducation",
    "/api/gapmap",
    "/api/gapmap?rows=component&cols=delivery",
    "/api/studies/blay-2025",
    "/api/review",
    "/studies/blay-2025",
]


@pytest.mark.parametrize("path", ANSWERS)
def test_the_same_answers_from_the_remote_engine(path: str, remote: TestClient, client: TestClient) -> None:
    embedded = client.get(path)
    answered = remote.get(path)
    assert embedded.status_code == 200
    assert answered.status_code == 200
    if path.startswith("/api/"):
        assert answered.json() == embedded.json()
    else:
        assert answered.text == embedded.text


@pytest.fixture(scope="module")
def engine(oxigraph: str) -> Iterator[RemoteEngine]:
    remote_engine = RemoteEngine(Endpoint(f"{oxigraph}/query", timeout=5, max_bytes=10_000_000))
    yield remote_engine
    remote_engine.endpoint.close()


def test_the_engine_holds_what_the_embedded_store_holds(engine: RemoteEngine) -> None:
    local = build_store([bundled_map_dir()])
    assert engine.size() == len(local)
    assert sorted(g.value for g in engine.named_graphs()) == sorted(str(g.value) for g in local.named_graphs()
                                                                     if isinstance(g, ox.NamedNode))


def test_an_engine_that_does_not_hold_the_validated_map_is_refused(oxigraph: str) -> None:
    """serve --endpoint validates the map's files (cached) and checks by counting that the engine holds them."""
    extra = ("INSERT DATA { GRAPH <https://w3id.org/evidencemap/graph/dufour-2025/data> "
             "{ <http://example.org/s> <http://example.org/p> 1 } }")
    httpx.post(f"{oxigraph}/update", content=extra, headers={"Content-Type": "application/sparql-update"})
    files = len(build_store([bundled_map_dir()]))
    try:
        with pytest.raises(DataError, match=re.escape(f"holds {files + 1:,} quads in the map's graphs; the map's "
                                                      f"files make {files:,}")):
            open_remote(Settings(endpoint=f"{oxigraph}/query"))
    finally:
        httpx.post(f"{oxigraph}/update", content=extra.replace("INSERT", "DELETE"),
                   headers={"Content-Type": "application/sparql-update"})


def _graph(text: bytes) -> set[str]:
    """The triples without blank nodes, as N-Triples lines (blank node labels differ between engines)."""
    return {str(t) for t in ox.parse(text, ox.RdfFormat.TURTLE)
            if not isinstance(t.subject, ox.BlankNode) and not isinstance(t.object, ox.BlankNode)}


def test_linked_data_of_a_study(remote: TestClient, client: TestClient) -> None:
    path = "/data/dufour-2025/study/blay-2025"
    moved = remote.get(path, headers={"Accept": "text/turtle"}, follow_redirects=False)
    assert moved.status_code == 303
    embedded = client.get(path, headers={"Accept": "text/turtle"})
    answered = remote.get(path, headers={"Accept": "text/turtle"})
    assert answered.status_code == 200
    assert _graph(answered.content) == _graph(embedded.content)
    assert len(_graph(answered.content)) > 20


def _rows(response: httpx.Response) -> list[dict[str, str]]:
    body = response.json()
    return sorted(({k: v["value"] for k, v in row.items()} for row in body["results"]["bindings"]),
                  key=lambda row: json.dumps(row, sort_keys=True))


def test_sparql_through_the_proxy(remote: TestClient, client: TestClient) -> None:
    query = (Path(__file__).resolve().parents[1] / "maps" / "dufour-2025" / "queries" / "online-studies-burnout.rq"
             ).read_text()
    accept = {"Accept": "application/sparql-results+json"}
    answered = remote.post("/sparql", data={"query": query}, headers=accept)
    embedded = client.post("/sparql", data={"query": query}, headers=accept)
    assert answered.status_code == 200
    assert _rows(answered) == _rows(embedded)
    assert _rows(answered)
    assert answered.headers["evidencemap-truncated"] == "false"
    ask = remote.get("/sparql", params={"query": "ASK { ?s a <https://w3id.org/evidencemap/ontology#IncludedStudy> }"},
                     headers=accept)
    assert ask.json()["boolean"] is True


def test_the_proxy_caps_rows_and_keeps_to_the_maps_graphs(remote: TestClient) -> None:
    accept = {"Accept": "application/sparql-results+json"}
    capped = remote.get("/sparql", params={"query": "SELECT * { ?s ?p ?o }"}, headers=accept)
    assert capped.headers["evidencemap-truncated"] == "true"
    assert capped.headers["evidencemap-rows"] == str(ROW_CAP)
    # a graph the map does not have is read as empty, never the engine's own default graph
    other = remote.get("/sparql", params={"query": "SELECT * { ?s ?p ?o }", "default-graph-uri": "http://example.org/g"},
                       headers=accept)
    assert other.status_code == 200
    assert _rows(other) == []


@pytest.mark.parametrize(("query", "status"), [
    ("INSERT DATA { <http://e/s> <http://e/p> 1 }", 403),
    ("SELECT * { SERVICE <http://127.0.0.1:1/> { ?s ?p ?o } }", 403),
    ("SELECT * FROM <http://example.org/g> { ?s ?p ?o }", 400),
    ("SELECT * { ?s ?p }", 400),
])
def test_the_guard_checks_every_query_before_it_goes_out(remote: TestClient, query: str, status: int) -> None:
    response = remote.post("/sparql", data={"query": query}, headers={"Accept": "application/sparql-results+json"})
    assert response.status_code == status, response.text
    assert response.json()["ok"] is False


# -- a scripted engine: truncation, time-outs, size caps ----------------------------------------------------------

MAP_GRAPH = "https://w3id.org/evidencemap/graph/vocabulary"


def scripted(rows: int, headers: dict[str, str] | None = None,
             fail: Exception | None = None) -> Callable[[httpx.Request], httpx.Response]:
    """An engine that lists the one map graph, and answers every other query with ``rows`` rows."""

    def answer(request: httpx.Request) -> httpx.Response:
        if fail is not None:
            raise fail
        query = dict(httpx.QueryParams(request.content.decode()))["query"]
        if "DISTINCT ?g" in query:
            bindings = [{"g": {"type": "uri", "value": MAP_GRAPH}}]
            return httpx.Response(200, json={"head": {"vars": ["g"]}, "results": {"bindings": bindings}},
                                  headers={"Content-Type": "application/sparql-results+json"})
        bindings = [{"n": {"type": "literal", "value": str(i)}} for i in range(rows)]
        return httpx.Response(200, json={"head": {"vars": ["n"]}, "results": {"bindings": bindings}},
                              headers={"Content-Type": "application/sparql-results+json", **(headers or {})})

    return answer


def engine_of(handler: Callable[[httpx.Request], httpx.Response], *, max_bytes: int = 1_000_000,
              known_cap: int = 0) -> RemoteEngine:
    endpoint = Endpoint("http://engine.test/sparql", timeout=2, max_bytes=max_bytes,
                        client=httpx.Client(transport=httpx.MockTransport(handler)))
    return RemoteEngine(endpoint, known_cap=known_cap)


def proxied(engine: RemoteEngine) -> QueryRequest:
    return QueryRequest(text="SELECT ?n { ?s ?p ?n }", serialisers={"tabular": "json"}, max_rows=1000)


def test_virtuoso_truncation_is_detected_and_stated() -> None:
    engine = engine_of(scripted(3, {"X-SPARQL-MaxRows": "3"}))
    outcome = run_remote(engine, proxied(engine))
    assert outcome.truncated
    assert outcome.rows == 3
    with pytest.raises(EngineTruncated, match="limit of 3 rows"):
        engine.query("SELECT ?n { ?s ?p ?n }")


def test_a_result_of_exactly_the_declared_cap_is_stated_as_truncated() -> None:
    assert run_remote(engine_of(scripted(5), known_cap=5), proxied(engine_of(scripted(5)))).truncated
    whole = engine_of(scripted(4), known_cap=5)
    assert not run_remote(whole, proxied(whole)).truncated
    assert len(whole.query("SELECT ?n { ?s ?p ?n }")) == 4  # type: ignore[arg-type]


def test_a_slow_engine_is_503_and_an_oversized_answer_413() -> None:
    slow = engine_of(scripted(1, fail=httpx.ReadTimeout("slow")))
    with pytest.raises(EngineUnavailable) as unavailable:
        slow.query("SELECT ?n { ?s ?p ?n }")
    assert unavailable.value.status == 503
    large = engine_of(scripted(1000), max_bytes=2_000)
    with pytest.raises(ResultTooLarge) as too_large:
        large.query("SELECT ?n { ?s ?p ?n }")
    assert too_large.value.status == 413


def test_push_with_sparql_update_keeps_blank_nodes_whole(oxigraph: str, engine: RemoteEngine) -> None:
    """The same map pushed again with SPARQL Update in small batches: the same number of quads, and every passage's
    selector still attached to its passage (a blank node split over two INSERT DATA would be two nodes)."""
    local = build_store([bundled_map_dir()])
    pushed = push_store(local, update_endpoint=f"{oxigraph}/update", batch=50)
    assert sum(p.triples for p in pushed) == len(local)
    engine.refresh()
    assert engine.size() == len(local)
    orphans = engine.query("SELECT (COUNT(*) AS ?n) { GRAPH ?g { ?sel <http://www.w3.org/ns/oa#exact> ?q "
                           "FILTER NOT EXISTS { ?passage <http://www.w3.org/ns/oa#hasSelector> ?sel } } }",
                           union=False)
    assert orphans[0]["n"].value == "0"  # type: ignore[index]


def test_an_engine_that_goes_away_is_a_503_in_the_one_error_shape(remote: TestClient) -> None:
    """REST routes and /sparql answer 503 (never a 500) when the engine cannot be reached."""
    engine = remote.app.state.context.evidence_map.engine  # type: ignore[attr-defined]
    working = engine.endpoint.client

    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    engine.endpoint.client = httpx.Client(transport=httpx.MockTransport(refuse))
    try:
        study = remote.get("/api/studies/grenyer-2025")
        assert study.status_code == 503
        assert study.json()["ok"] is False
        assert "cannot be reached" in study.json()["error"]
        query = remote.post("/sparql", data={"query": "ASK { ?s ?p ?o }"},
                            headers={"Accept": "application/sparql-results+json"})
        assert query.status_code == 503
    finally:
        engine.endpoint.client = working


def test_the_sparql_editor_shows_the_engines_results(remote: TestClient) -> None:
    query = "SELECT ?label { ?s <http://purl.org/dc/terms/title> ?label } ORDER BY ?label LIMIT 3"
    page = remote.get("/sparql", params={"query": query}, headers={"Accept": "text/html"})
    assert page.status_code == 200
    assert "text/html" in page.headers["content-type"]
    assert "A clinical trial of a psychoeducation group intervention" in page.text


def test_push_and_serve_from_the_command_line(oxigraph: str, capsys: pytest.CaptureFixture[str]) -> None:
    from evidencemap.cli import main

    assert main(["push", "--graph-store", f"{oxigraph}/store", "--endpoint", f"{oxigraph}/query"]) == 0
    out = capsys.readouterr().out
    assert "graphs with the Graph Store Protocol" in out
    assert f"evidencemap serve --endpoint {oxigraph}/query" in out
