"""The whole surface works when the map is served under another base IRI (settings.base_iri)."""

from __future__ import annotations

import pytest
from rdflib import Graph, URIRef

from app_support import TestClient, app_fixtures
from evidencemap.settings import Settings

BASE = "http://127.0.0.1:8000/"


app, client = app_fixtures(Settings(base_iri=BASE, sparql_workers=1))


@pytest.mark.parametrize(
    "path",
    ["/", "/studies?delivery=online", "/review", "/gapmap", "/network", "/concepts/delivery/online", "/validation"],
)
def test_pages_render_under_another_base(client: TestClient, path: str) -> None:
    response = client.get(path, headers={"Accept": "text/html"})
    assert response.status_code == 200, response.text[-500:]


def test_study_iri_resolves_under_another_base(client: TestClient) -> None:
    response = client.get("/data/dufour-2025/study/blay-2025", headers={"Accept": "text/turtle"})
    graph = Graph().parse(data=response.text, format="turtle")
    assert (URIRef(BASE + "data/dufour-2025/study/blay-2025"), None, None) in graph


def test_api_answers_under_another_base(client: TestClient) -> None:
    params = {"delivery": "online", "challenge": "emotional-vulnerability-burnout"}
    body = client.get("/api/studies", params=params).json()
    assert [s["ref"] for s in body["studies"]] == [40, 42, 44, 45]
    assert body["studies"][0]["iri"] == BASE + "data/dufour-2025/study/bates-2023"
