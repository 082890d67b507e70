"""Every response carries the security headers; results link only http(s) IRIs; stylesheet URLs never come from
the Host header; bodies are capped while they stream; one client's share of /sparql is bounded (429). Issue 9."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest

from app_support import TestClient, app_fixtures
from evidencemap.settings import Settings
from evidencemap.sparql.fairness import ClientGate, TooManyRequests
from evidencemap.web.security import SECURITY_HEADERS
from evidencemap.web.sparql_editor import EDITOR_CONTENT_SECURITY_POLICY

app, client = app_fixtures(Settings(query_timeout=2.0, sparql_workers=1, max_rows=50))

HTML = {"Accept": "text/html"}


@pytest.mark.parametrize("path", ["/", "/studies", "/sparql", "/gapmap", "/network", "/review", "/nowhere",
                                  "/api/facets", "/sparql?query=ASK%20%7B%7D", "/static/style.css"])
def test_every_response_carries_the_security_headers(client: TestClient, path: str) -> None:
    response = client.get(path, headers=HTML)
    # the SPARQL editor's page alone also allows YASGUI's two column-resizer stylesheets, by hash (docs/sparql.md)
    editor = path.startswith("/sparql") and response.headers.get("content-type", "").startswith("text/html")
    expected = {**SECURITY_HEADERS, **({"content-security-policy": EDITOR_CONTENT_SECURITY_POLICY} if editor else {})}
    for name, value in expected.items():
        assert response.headers.get(name) == value, (path, name)
    assert "'unsafe-inline'" not in response.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]


def test_pages_have_no_inline_script_or_style(client: TestClient) -> None:
    for path in ["/", "/studies", "/gapmap", "/network", "/review"]:
        text = client.get(path, headers=HTML).text
        assert "<script" not in text and "<style" not in text and ' style="' not in text, path
    # the SPARQL editor is the one page with scripts: two same-origin files, nothing inline
    text = client.get("/sparql", headers=HTML).text
    assert "<style" not in text and ' style="' not in text
    scripts = text.split("<script")[1:]
    assert len(scripts) == 2 and all(s.startswith(' src="/static/') and "></script>" in s for s in scripts)


def test_javascript_iri_is_text_not_a_link(client: TestClient) -> None:
    query = "SELECT ?x WHERE { BIND(IRI('javascript:alert(1)') AS ?x) }"
    response = client.get("/sparql", params={"query": query, "format": "html"})
    assert response.status_code == 200
    assert "javascript:alert(1)" in response.text
    assert 'href="javascript:' not in response.text.lower()
    safe = client.get("/sparql", params={"query": "SELECT ?x WHERE { BIND(<https://example.org/> AS ?x) }",
                                         "format": "html"})
    assert 'href="https://example.org/"' in safe.text


def test_stylesheet_urls_do_not_come_from_the_host_header(client: TestClient) -> None:
    response = client.get("/sparql", headers={**HTML, "Host": "evil.example"})
    assert "evil.example" not in response.text
    assert 'href="/static/style.css"' in response.text


def _chunks(total: int, size: int = 64 * 1024) -> Iterator[bytes]:
    sent = 0
    while sent < total:
        yield b"a" * size
        sent += size


def test_a_chunked_body_past_the_cap_is_413(client: TestClient) -> None:
    response = client.post("/sparql", content=_chunks(5 * 1024 * 1024),
                           headers={"Content-Type": "application/sparql-query"})
    assert response.status_code == 413
    assert "longer than" in response.json()["error"]


def test_a_declared_body_past_the_request_cap_is_413(client: TestClient) -> None:
    response = client.post("/api/facets", content=b"x" * 2_000_000)
    assert response.status_code == 413


def test_truncation_is_stated_inside_json_and_csv(client: TestClient) -> None:
    query = "SELECT * WHERE { ?s ?p ?o }"
    data = client.get("/sparql", params={"query": query}).json()
    assert (data["truncated"], data["rowLimit"], len(data["results"]["bindings"])) == (True, 50, 50)
    assert "Result cut at the row limit" in data["note"]
    csv = client.get("/sparql", params={"query": query, "format": "csv"}).text.rstrip().splitlines()
    assert len(csv) == 52 and csv[-1].startswith("# Result cut at the row limit: only the first 50 rows")
    small = client.get("/sparql", params={"query": "SELECT * WHERE { ?s ?p ?o } LIMIT 3"}).json()
    assert "truncated" not in small


def test_a_client_beyond_its_share_gets_429() -> None:
    async def body() -> None:
        gate = ClientGate(concurrency=1, queue=1, total=10, retry_seconds=5)
        release = asyncio.Event()

        async def hold(client: str) -> None:
            async with gate.slot(client):
                await release.wait()

        running = asyncio.create_task(hold("a"))
        waiting = asyncio.create_task(hold("a"))
        await asyncio.sleep(0.01)
        with pytest.raises(TooManyRequests) as refused:
            async with gate.slot("a"):
                pass
        assert refused.value.status == 429 and refused.value.retry_after == 5
        async with gate.slot("b"):  # another client is not held up by a's queries
            pass
        release.set()
        await asyncio.gather(running, waiting)
        assert gate.admitted == 0 and not gate._clients

    asyncio.run(body())
