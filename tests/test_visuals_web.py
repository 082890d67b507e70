"""HTTP for the gap map, the PRISMA diagram and the network views."""

from __future__ import annotations

import csv
import html
import io
import xml.etree.ElementTree as ET
from typing import Any

import networkx as nx
import pytest

from evidencemap.graph.store import EvidenceMap
from evidencemap.model.vocabulary import Vocabulary
from visuals_fixtures import TestClient, refs, studies_with

SVG = "{http://www.w3.org/2000/svg}"
KINDS = ["study-concept", "challenge-cooccurrence", "outcome-cooccurrence", "study-similarity"]


def ok(client: TestClient, url: str) -> Any:
    response = client.get(url)
    assert response.status_code == 200, response.text
    return response


def test_api_gapmap_default_matrix(client: TestClient) -> None:
    body = ok(client, "/api/gapmap").json()
    assert [f["name"] for f in body["rows"]["facets"]] == ["modality", "component"]
    assert [f["name"] for f in body["cols"]["facets"]] == ["outcome"]
    assert len(body["cells"]) == len(body["rows"]["values"]) * len(body["cols"]["values"])
    assert body["counts"]["gaps"] == len(body["gaps"]) == sum(1 for c in body["cells"] if c["gap"])
    assert "appraises no study's quality" in body["caveat"]
    assert body["links"]["csv"].startswith("/api/gapmap?") and "format=csv" in body["links"]["csv"]


def test_api_gapmap_cell_lists_its_studies(client: TestClient) -> None:
    body = ok(client, "/api/gapmap?rows=component&cols=delivery&cell=emotional-support-validation:online").json()
    cell = body["cell"]
    assert [s["ref"] for s in cell["studies"]] == [36, 38, 40, 42, 45]
    assert cell["studies"][0]["citation"] == "Grenyer et al. 2025"
    assert cell["studies"][0]["url"] == "/data/dufour-2025/study/grenyer-2025"
    assert cell["studies_url"] == "/api/studies?component=emotional-support-validation&delivery=online"
    assert cell["page_url"] == "/studies?component=emotional-support-validation&delivery=online"
    assert {b["slug"]: b["count"] for b in cell["breakdown"]["design"]} == {
        "qualitative-study": 3, "theoretical-review": 1, "randomized-controlled-trial": 1
    }


def test_api_gapmap_applies_the_study_filters(client: TestClient, bundled: EvidenceMap, vocabulary: Vocabulary) -> None:
    body = ok(client, "/api/gapmap?rows=challenge&cols=modality&delivery=online").json()
    assert body["filters"] == {"delivery": ["online"]}
    assert body["total"] == len(studies_with(bundled, vocabulary, delivery=["online"]))
    key = ("emotional-vulnerability-burnout", "community-based")
    cell = next(c for c in body["cells"] if (c["row"], c["col"]) == key)
    assert cell["count"] == 2
    listed = ok(client, cell["studies_url"]).json()
    assert [s["ref"] for s in listed["studies"]] == [40, 45]


def test_api_gapmap_csv_and_svg(client: TestClient) -> None:
    response = ok(client, "/api/gapmap?rows=challenge&cols=modality&format=csv")
    assert response.headers["content-type"].startswith("text/csv")
    table = list(csv.reader(io.StringIO(response.text)))
    header, burnout = table[0], next(r for r in table if r[1].endswith("[emotional-vulnerability-burnout]"))
    assert int(burnout[header.index("community-based peer group [modality:community-based]")]) == 4
    response = ok(client, "/api/gapmap?rows=challenge&cols=modality&format=svg&colour=evidence-type")
    assert response.headers["content-type"] == "image/svg+xml"
    root = ET.fromstring(response.content)
    cells = {g.get("data-cell"): int(g.get("data-count", "0")) for g in root.iter(f"{SVG}g") if g.get("data-cell")}
    assert cells["emotional-vulnerability-burnout:community-based"] == 4


@pytest.mark.parametrize(
    ("url", "status", "hint"),
    [
        ("/api/gapmap?rows=colour", 400, "challenge"),
        ("/api/gapmap?rows=challenge&cols=modality&cell=burnout:online", 400, "row:col"),
        ("/api/gapmap?format=pdf", 400, "json, csv, svg"),
        ("/api/gapmap?colour=strength", 400, "design"),
        ("/api/gapmap?delivery=moon", 400, "online"),
        ("/api/gapmap?sort=best", 400, "rows"),
        ("/api/network/nope", 404, "challenge-cooccurrence"),
        ("/api/network/study-concept?format=png", 400, "graphml"),
    ],
)
def test_visuals_bad_parameters_are_refused_with_what_is_valid(
    client: TestClient, url: str, status: int, hint: str
) -> None:
    response = client.get(url)
    assert response.status_code == status, response.text
    body = response.json()
    assert body["ok"] is False and body["status"] == status
    assert hint in body.get("hint", "") + body["error"]


def test_gapmap_page_draws_links_and_table(client: TestClient) -> None:
    response = ok(client, "/gapmap?rows=component&cols=delivery")
    assert response.template.name == "gapmap.html"
    context = response.context
    gap_map = context["gap_map"]
    filled = [c for c in gap_map.cells.values() if c.count]
    assert context["page"].cell is None
    for cell in filled:
        link = context["href"](cell)
        assert f"cell={cell.key.replace(':', '%3A')}" in link
        assert link in response.text.replace("&amp;", "&")
    assert '<table class="gapmap">' in response.text and context["page"].caveat in html.unescape(response.text)


def test_gapmap_page_shows_the_studies_of_a_cell(client: TestClient) -> None:
    response = ok(client, "/gapmap?rows=component&cols=delivery&cell=emotional-support-validation%3Aonline")
    cell = response.context["page"].cell
    assert [s.ref for s in cell.studies] == [36, 38, 40, 42, 45]
    assert 'id="cell-studies"' in response.text
    for study in cell.studies:
        assert study.citation in response.text


@pytest.mark.parametrize("url", ["/api/prisma.svg", "/review/prisma.svg"])
def test_prisma_svg_is_served(client: TestClient, url: str) -> None:
    response = ok(client, url)
    assert response.headers["content-type"] == "image/svg+xml"
    root = ET.fromstring(response.content)
    counts = [int(g.get("data-count", "0")) for g in root.iter(f"{SVG}g") if g.get("data-stage")]
    assert 2114 in counts and 11 in counts


@pytest.mark.parametrize("kind", KINDS)
def test_api_network_json_graphml_gexf_agree(client: TestClient, kind: str) -> None:
    graph = nx.node_link_graph(ok(client, f"/api/network/{kind}").json(), edges="edges")
    graphml = ok(client, f"/api/network/{kind}?format=graphml")
    gexf = ok(client, f"/api/network/{kind}?format=gexf")
    assert graphml.headers["content-type"] == "application/graphml+xml"
    assert f'filename="evidencemap-{kind}.gexf"' in gexf.headers["content-disposition"]
    for loaded in (nx.read_graphml(io.BytesIO(graphml.content)), nx.read_gexf(io.BytesIO(gexf.content))):
        assert loaded.number_of_nodes() == graph.number_of_nodes()
        assert loaded.number_of_edges() == graph.number_of_edges()


def test_api_network_filters_restrict_the_studies(
    client: TestClient, bundled: EvidenceMap, vocabulary: Vocabulary
) -> None:
    data = ok(client, "/api/network/study-similarity?delivery=online").json()
    expected = refs(bundled, studies_with(bundled, vocabulary, delivery=["online"]))
    assert sorted(n["ref"] for n in data["nodes"]) == expected


def test_api_network_lists_the_kinds(client: TestClient) -> None:
    body = ok(client, "/api/network").json()
    assert body["count"] == len(body["kinds"])
    assert {"kind": "challenge-cooccurrence", "url": "/api/network/challenge-cooccurrence"} in body["kinds"]


def test_network_page_draws_the_cooccurrence(client: TestClient) -> None:
    response = ok(client, "/network")
    assert response.template.name == "network.html"
    context = response.context
    page = context["page"]
    assert page.kind == "challenge-cooccurrence"
    weights = [e["weight"] for e in page.edges]
    assert weights == sorted(weights, reverse=True) and weights[0] == 4
    assert page.edges[0]["refs"] == "40 42 44 45"
    root = ET.fromstring(str(context["svg"]))
    assert len([g for g in root.iter(f"{SVG}g") if g.get("class") == "node"]) == len(page.nodes)
    spring = ok(client, "/network?kind=outcome-cooccurrence&layout=spring")
    assert spring.context["page"].kind == "outcome-cooccurrence"
