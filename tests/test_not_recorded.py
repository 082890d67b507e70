"""A facet a map does not record is "not recorded in this map", never "0 studies" (model/recorded.py).

tests/resources/maps/loneliness-2026 records no evidence type, design feature, modality, component, challenge or
country: its pages, API, gap map, network and answers must say so rather than count every value as none. The bundled
map records every facet it offers.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from evidencemap.graph.store import EvidenceMap
from evidencemap.model.recorded import is_recorded, not_recorded_sentence, recorded_facets
from evidencemap.model.vocabulary import vocabulary_of
from evidencemap.settings import Settings
from evidencemap.web.app import create_app

ROOT = Path(__file__).resolve().parents[1]
BUNDLED = ROOT / "maps" / "dufour-2025"
LONELY = ROOT / "tests" / "resources" / "maps" / "loneliness-2026"
UNRECORDED = {"design-feature", "evidence-type", "modality", "component", "schedule", "facilitation", "challenge",
              "country"}


@pytest.fixture(scope="module")
def lonely() -> EvidenceMap:
    return EvidenceMap.load(Settings(data=[LONELY]))


@pytest.fixture(scope="module")
def client(lonely: EvidenceMap) -> Iterator[TestClient]:
    with TestClient(create_app(Settings(data=[LONELY]), lonely)) as served:
        yield served


def test_a_facet_is_recorded_when_a_study_has_a_value_of_it(lonely: EvidenceMap) -> None:
    vocabulary = vocabulary_of(lonely)
    assert {f.name for f in vocabulary.facets if not is_recorded(lonely, f)} == UNRECORDED
    bundled = EvidenceMap.load(Settings(data=[BUNDLED]))
    assert recorded_facets(bundled, vocabulary_of(bundled).facets) == vocabulary_of(bundled).facets
    assert not_recorded_sentence(vocabulary.facet("evidence-type")) == "This map does not record evidence type."


def test_api_facets_says_not_recorded_with_no_zero_counts(client: TestClient) -> None:
    facets = {f["name"]: f for f in client.get("/api/facets").json()["facets"]}
    evidence = facets["evidence-type"]
    assert evidence["recorded"] is False and evidence["values"] == []
    assert evidence["note"] == "This map does not record evidence type."
    assert facets["design"]["recorded"] is True and facets["design"]["note"] is None
    assert [v["count"] for v in facets["design"]["values"] if v["slug"] == "qualitative-study"] == [3]


def test_api_studies_facet_counts_say_not_recorded(client: TestClient) -> None:
    facets = {f["name"]: f for f in client.get("/api/studies").json()["facets"]}
    assert {n for n, f in facets.items() if not f["recorded"]} == UNRECORDED
    assert all(f["values"] == [] and f["note"].startswith("This map does not record") for n, f in facets.items()
               if n in UNRECORDED)
    refused = client.get("/api/studies?evidence-type=quantitative")  # not "total 0": the map does not say
    assert refused.status_code == 400
    assert refused.json()["error"].startswith("This map does not record evidence type.")
    assert "evidence-type" not in refused.json()["allowed"] and "design" in refused.json()["allowed"]


def test_the_filter_form_offers_no_unrecorded_facet(client: TestClient) -> None:
    for path in ("/", "/studies"):
        page = client.get(path).text
        assert 'id="facet-design"' in page and 'id="facet-evidence-type"' not in page, path
        assert 'name="evidence-type"' not in page and 'name="country"' not in page, path
    chosen = client.get("/studies?evidence-type=quantitative")  # a link made on another map
    assert chosen.status_code == 400 and "This map does not record evidence type." in chosen.text
    for path in ("/api/cite/studies?evidence-type=quantitative&format=ris",
                 "/api/studies.atom?evidence-type=quantitative", "/api/gapmap?evidence-type=quantitative",
                 "/network?evidence-type=quantitative"):
        assert client.get(path).status_code == 400, path


def test_the_gap_map_offers_and_draws_only_recorded_facets(client: TestClient) -> None:
    body = client.get("/api/gapmap").json()
    assert [f["name"] for f in body["rows"]["facets"]] == ["design"]  # modality and component: not recorded
    assert [f["name"] for f in body["breakdown_facets"]] == ["design"]  # not evidence type, all "not stated"
    page = client.get("/gapmap").text
    assert page.count('<option value="evidence-type"') == 0 and page.count('<option value="design"') == 3
    assert 'name="country"' not in page and 'name="delivery"' in page  # the filters too
    for params in ("rows=evidence-type", "cols=component", "breakdown=evidence-type", "colour=evidence-type"):
        refused = client.get(f"/api/gapmap?{params}")
        assert refused.status_code == 400, params
        error = refused.json()
        assert error["error"].startswith("This map does not record") and "design" in error["allowed"], (params, error)


def test_the_network_offers_only_recorded_facets(client: TestClient) -> None:
    kinds = [k["kind"] for k in client.get("/api/network").json()["kinds"]]
    assert "design-cooccurrence" in kinds and "evidence-type-cooccurrence" not in kinds
    refused = client.get("/api/network/evidence-type-cooccurrence")
    assert refused.status_code == 404 and refused.json()["error"].startswith("This map does not record evidence type")
    page = client.get("/network").text
    assert 'value="evidence-type-cooccurrence"' not in page and 'value="design-cooccurrence"' in page
    assert 'id="pairs-heading"' not in page and 'Concepts reported together' in page  # no challenge recorded


@pytest.mark.parametrize(("question", "facet"), [
    ("how many studies used quantitative data", "evidence-type"),
    ("which studies used qualitative data", "evidence-type"),
    ("studies without quantitative data", "evidence-type"),
    ("what evidence types did the studies use", "evidence-type"),
    ("how many studies by country", "country"),
])
def test_a_question_about_an_unrecorded_facet_is_answered_not_recorded(
    client: TestClient, question: str, facet: str
) -> None:
    answer = client.get("/api/ask", params={"q": question}).json()
    assert answer["understanding"] == "not recorded" and answer["not_recorded"] == [facet], answer
    assert answer["headline"] is None and answer["studies"] == [] and answer["values"] == []
    assert answer["studies_url"] is None and answer["sparql"] is None
    assert answer["message"].startswith(f"This map does not record {facet.replace('-', ' ')}.")
    page = client.get("/ask", params={"q": question}).text
    assert 'id="not-recorded"' in page and "This map does not record" in page
    assert 'id="answer-count"' not in page and 'id="answer-values"' not in page


def test_a_question_about_a_recorded_facet_is_still_counted(client: TestClient) -> None:
    answer = client.get("/api/ask", params={"q": "how many qualitative studies"}).json()
    assert answer["understanding"] == "understood" and answer["not_recorded"] == [] and answer["headline"] == 3


def test_beside_the_bundled_map_each_map_says_what_it_records() -> None:
    with TestClient(create_app(Settings(data=[BUNDLED, LONELY]))) as both:
        def evidence_type(slug: str) -> dict[str, object]:
            facets = both.get(f"/maps/{slug}/api/facets").json()["facets"]
            return next(f for f in facets if f["name"] == "evidence-type")

        assert evidence_type("loneliness-2026")["recorded"] is False
        bundled = evidence_type("dufour-2025")
        assert bundled["recorded"] is True and bundled["note"] is None and len(bundled["values"]) == 2
        answer = both.get("/maps/dufour-2025/api/ask", params={"q": "how many studies used quantitative data"}).json()
        assert answer["understanding"] == "understood" and answer["headline"] == 3
