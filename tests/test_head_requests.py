"""HEAD is answered as GET without a body: same status, same headers (tools probe links and caches with HEAD)."""

from __future__ import annotations

import pytest
from fastapi import FastAPI

from app_support import TestClient, app_fixtures
from evidencemap.settings import Settings

app, client = app_fixtures(Settings())

PATHS = ["/", "/studies", "/api/studies?delivery=online", "/data/dufour-2025/study/blay-2025", "/review",
         "/api/gapmap", "/static/style.css", "/ontology", "/no/such/page"]


@pytest.mark.parametrize("path", PATHS)
def test_head_has_the_status_and_headers_of_get_and_no_body(app: FastAPI, path: str) -> None:
    with TestClient(app, follow_redirects=False) as test_client:
        got = test_client.get(path)
        head = test_client.head(path)
    assert head.status_code == got.status_code
    assert head.content == b""
    for name in ("content-type", "content-length", "etag", "content-security-policy", "location"):
        assert head.headers.get(name) == got.headers.get(name), name


def test_head_of_sparql_without_a_query_is_the_protocols_answer(client: TestClient) -> None:
    assert client.head("/sparql").status_code == client.get("/sparql").status_code
