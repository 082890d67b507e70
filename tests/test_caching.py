"""Conditional GETs (web/caching.py): a strong ETag on every successful GET, keyed by the map's version and the
representation asked for; If-None-Match answered 304 and a repeated request answered from the response cache, both
without running the handler; a write gives a new ETag and empties the cache."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI

from app_support import app_fixtures
from evidencemap.settings import Settings
from evidencemap.web import api
from evidencemap.web.caching import Entry, ResponseCache, matches, volatile_sparql

# A module-scoped app of its own: these tests bump its map's version.
app, client = app_fixtures(Settings(sparql_workers=1))

PATHS = [
    "/api/studies?delivery=online",
    "/api/studies/jewell-2022",
    "/api/facets",
    "/api/ask?q=which online studies reported burnout",
    "/studies",
    "/review",
    "/sparql?query=ASK%20%7B%7D",
]


@pytest.mark.parametrize("path", PATHS)
def test_repeat_with_the_etag_is_a_304_without_a_body(client: httpx.Client, path: str) -> None:
    first = client.get(path)
    assert first.status_code == 200, first.text[:200]
    tag = first.headers["etag"]
    assert tag.startswith('"') and not tag.startswith("W/")
    assert "accept" in first.headers["vary"].lower() and "no-cache" in first.headers["cache-control"]
    again = client.get(path, headers={"If-None-Match": tag})
    assert again.status_code == 304 and again.content == b""
    assert again.headers["etag"] == tag and again.headers["x-content-type-options"] == "nosniff"
    assert client.get(path, headers={"If-None-Match": '"other"'}).status_code == 200


def test_a_304_and_a_cache_hit_do_not_run_the_handler(client: httpx.Client, app: FastAPI,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[object] = []
    real = api.build_study_list
    monkeypatch.setattr(api, "build_study_list", lambda *a, **k: calls.append(a) or real(*a, **k))
    path = "/api/studies?delivery=online&limit=3"
    first = client.get(path)
    assert len(calls) == 1
    assert client.get(path, headers={"If-None-Match": first.headers["etag"]}).status_code == 304
    again = client.get(path)  # a cache hit: the same bytes and headers, no handler
    assert len(calls) == 1 and again.content == first.content
    assert again.headers["etag"] == first.headers["etag"] and again.headers["content-type"] == "application/json"
    assert again.headers["x-content-type-options"] == "nosniff"
    app.state.context.evidence_map.changed()  # a write: the next request runs the handler
    after = client.get(path)
    assert after.status_code == 200 and after.headers["etag"] != first.headers["etag"] and len(calls) == 2


def test_requests_with_credentials_are_neither_tagged_nor_cached(client: httpx.Client) -> None:
    response = client.get("/api/facets", headers={"Authorization": "Bearer x"})
    assert response.status_code == 200 and "etag" not in response.headers


def test_the_response_cache_keeps_within_its_bounds() -> None:
    cache = ResponseCache(max_bytes=10, max_entry=6)
    cache.put('"a"', Entry(200, [], b"12345"))
    cache.put('"b"', Entry(200, [], b"1234567"))  # larger than an entry may be
    assert cache.get('"b"') is None and cache.get('"a"') == Entry(200, [], b"12345")
    cache.put('"c"', Entry(200, [], b"123456"))  # over the total: the least recently used goes
    assert cache.get('"a"') is None and cache.get('"c"') is not None and cache.size == 6
    cache.seen(1)
    cache.put('"d"', Entry(200, [], b"1"))
    cache.seen(2)
    assert cache.get('"d"') is None and cache.size == 0


def test_the_representation_is_in_the_etag(client: httpx.Client) -> None:
    tags = {
        client.get("/api/studies/44").headers["etag"],
        client.get("/api/studies/44", headers={"Accept": "application/ld+json"}).headers["etag"],
        client.get("/api/studies/44?format=jsonld").headers["etag"],
        client.get("/api/studies/45").headers["etag"],
    }
    assert len(tags) == 4
    assert client.get("/api/studies/44").headers["etag"] == client.get("/api/studies/44").headers["etag"]
    html = client.get("/studies/jewell-2022", headers={"Accept": "text/html"})
    as_json = client.get("/studies/jewell-2022", headers={"Accept": "application/json"})
    assert html.headers["etag"] != as_json.headers["etag"]
    # A cached HTML page is not a 304 for a client asking for JSON.
    assert client.get("/studies/jewell-2022", headers={"Accept": "application/json",
                                                        "If-None-Match": html.headers["etag"]}).status_code == 200


def test_a_write_changes_every_etag_and_no_304_follows(client: httpx.Client, app: FastAPI) -> None:
    before = {p: client.get(p).headers["etag"] for p in PATHS[:3]}
    app.state.context.evidence_map.changed()
    for path, tag in before.items():
        response = client.get(path, headers={"If-None-Match": tag})
        assert response.status_code == 200 and response.headers["etag"] != tag


def test_errors_and_other_methods_are_not_tagged(client: httpx.Client) -> None:
    missing = client.get("/api/studies/no-such-study")
    assert missing.status_code == 404 and "etag" not in missing.headers
    bad = client.get("/api/studies?delivery=by-pigeon")
    assert bad.status_code == 400 and "etag" not in bad.headers
    posted = client.post("/sparql", content="ASK {}", headers={"Content-Type": "application/sparql-query"})
    assert posted.status_code == 200 and "etag" not in posted.headers


def test_static_files_keep_their_own_etag(client: httpx.Client) -> None:
    response = client.get("/static/style.css")
    assert response.status_code == 200 and response.headers["etag"]
    assert client.get("/static/style.css", headers={"If-None-Match": response.headers["etag"]}).status_code == 304


def test_sparql_by_get_is_keyed_by_the_query_and_volatile_queries_are_not_cached(client: httpx.Client) -> None:
    one = client.get("/sparql", params={"query": "SELECT * WHERE { ?s ?p ?o } LIMIT 1"},
                     headers={"Accept": "application/sparql-results+json"})
    two = client.get("/sparql", params={"query": "SELECT * WHERE { ?s ?p ?o } LIMIT 2"},
                     headers={"Accept": "application/sparql-results+json"})
    assert one.status_code == two.status_code == 200 and one.headers["etag"] != two.headers["etag"]
    volatile = client.get("/sparql", params={"query": "SELECT (RAND() AS ?r) WHERE {}"},
                          headers={"Accept": "application/sparql-results+json"})
    assert volatile.status_code == 200 and "etag" not in volatile.headers
    assert volatile.headers["cache-control"] == "no-store"


def test_if_none_match_forms() -> None:
    assert matches('"a", "b"', '"b"') and matches('W/"b"', '"b"') and matches("*", '"b"')
    assert not matches('"a"', '"b"') and not matches("", '"b"')


def test_volatile_queries() -> None:
    assert volatile_sparql("query=SELECT+%28now%28%29+AS+%3Ft%29+%7B%7D")
    assert volatile_sparql("query=CONSTRUCT+%7B+%5B%5D+%3Fp+%3Fo+%7D+WHERE+%7B+%3Fs+%3Fp+%3Fo+%7D")
    assert not volatile_sparql("query=SELECT+%3Frandom+WHERE+%7B+%3Frandom+%3Fp+%3Fo+%7D")
    assert not volatile_sparql("query=CONSTRUCT+%7B+%3Fs+%3Fp+%3Fo+%7D+WHERE+%7B+%3Fs+%3Fp+%5B%5D+%7D")
