"""/api/concepts/{scheme}/{slug} and /api/review."""

from __future__ import annotations

import httpx
from fastapi import FastAPI

from evidencemap.model.claims import check_claims


def test_concept_has_definition_mappings_and_studies(client: httpx.Client) -> None:
    body = client.get("/api/concepts/challenge/emotional-vulnerability-burnout").json()
    concept = body["concept"]
    assert concept["label"] == "emotional vulnerability and burnout" and concept["facet"] == "challenge"
    assert "burnout" in concept["alt_labels"] and concept["definition"]
    assert {"relation": "closeMatch", "target": "http://id.nlm.nih.gov/mesh/D002055"} in concept["mappings"]
    assert body["total"] == 6 and [s["ref"] for s in body["studies"]] == [39, 40, 41, 42, 44, 45]
    assert body["studies_url"] == "/api/studies?challenge=emotional-vulnerability-burnout"


def test_concept_broader_concept_counts_studies_of_narrower_ones(client: httpx.Client) -> None:
    body = client.get("/api/concepts/delivery/in-person").json()
    assert [c["slug"] for c in body["concept"]["narrower_concepts"]] == ["clinical-setting", "community-setting"]
    assert [s["ref"] for s in body["studies"]] == [35, 37, 39, 41, 43]
    child = client.get("/api/concepts/delivery/community-setting").json()
    assert [c["slug"] for c in child["concept"]["broader_concepts"]] == ["in-person"]


def test_concept_unknown_scheme_or_slug_is_404_listing_valid_ones(client: httpx.Client) -> None:
    scheme = client.get("/api/concepts/colour/red")
    assert scheme.status_code == 404 and "challenge" in scheme.json()["hint"]
    slug = client.get("/api/concepts/challenge/burnout")
    assert slug.status_code == 404 and "emotional-vulnerability-burnout" in slug.json()["hint"]


def test_review_record_is_read_from_the_map(client: httpx.Client) -> None:
    body = client.get("/api/review").json()
    review = body["review"]
    assert review["doi"] == "10.3389/fpsyt.2025.1663685"
    assert review["license"] == "https://creativecommons.org/licenses/by/4.0/"
    assert review["authors"] == "Dufour A-S, Nadeau L and Cailhol L" and review["study_count"] == 11
    assert {c["element"] for c in body["criteria"]} == {"Population", "Concept", "Context", "Other"}
    assert len(body["sources"]) == 7


def test_review_prisma_flow_numbers(client: httpx.Client) -> None:
    flow = {s["iri"].rsplit("/", 1)[-1]: s for s in client.get("/api/review").json()["flow"]}
    assert flow["identified"]["records"] == 2114 and flow["duplicates-removed"]["records"] == 1
    assert flow["screened"]["records"] == 2113 and flow["screened"]["derived"] is True
    assert flow["excluded-screening"]["records"] == 2048 and flow["full-text-assessed"]["records"] == 65
    assert flow["excluded-full-text"]["records"] == 56 and flow["included"]["records"] == 11
    assert [s["order"] for s in flow.values()] == sorted(s["order"] for s in flow.values())


def test_review_claims_check_is_the_claims_module(client: httpx.Client, app: FastAPI) -> None:
    body = client.get("/api/review").json()
    context = app.state.context
    expected = check_claims(context.evidence_map, context.vocabulary)
    assert [c["iri"] for c in body["claims"]] == [r.iri for r in expected]
    assert sum(body["claims_summary"].values()) == len(body["claims"])
    online = next(c for c in body["claims"] if c["iri"].endswith("/claim/delivered-online"))
    assert online["stated"] == 6 and online["recomputed"] == 6 and online["verdict"] == "agrees"
    assert online["studies"] == [36, 38, 40, 42, 44, 45]
