"""/api/facets, /api/studies and /api/studies/{id} through the app, against the review's reference numbers."""

from __future__ import annotations

import csv
import io
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from evidencemap.model.facets import Selection, select_studies
from evidencemap.model.queries import run_named_query
from evidencemap.model.studies import study_summaries

ALL_REFS = list(range(35, 46))


def refs(body: dict[str, Any]) -> list[int]:
    return [s["ref"] for s in body["studies"]]


def get_json(client: httpx.Client, path: str, status: int = 200, **kwargs: Any) -> dict[str, Any]:
    response = client.get(path, **kwargs)
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    return body


# -- /api/facets -------------------------------------------------------------------------------------------------


def test_facets_list_every_facet_of_the_vocabulary_with_counts(client: httpx.Client, app: FastAPI) -> None:
    body = get_json(client, "/api/facets")
    vocabulary = app.state.context.vocabulary
    assert body["total"] == 11
    assert [f["name"] for f in body["facets"]] == [f.name for f in vocabulary.facets]
    delivery = next(f for f in body["facets"] if f["name"] == "delivery")
    counts = {v["slug"]: v["count"] for v in delivery["values"]}
    # the review names the six online studies but not which of them were fully virtual and which hybrid
    assert counts == {"online": 6, "fully-virtual": 0, "hybrid": 0, "in-person": 5, "clinical-setting": 4,
                      "community-setting": 1}, delivery
    online = next(v for v in delivery["values"] if v["slug"] == "online")
    assert "virtual" in online["alt_labels"] and online["definition"]
    assert online["iri"] == "https://w3id.org/evidencemap/concept/delivery/online"


def test_facets_year_values_are_the_years_of_the_studies(client: httpx.Client) -> None:
    body = get_json(client, "/api/facets")
    year = next(f for f in body["facets"] if f["name"] == "year")
    assert {v["slug"]: v["count"] for v in year["values"]} == {
        "2019": 1, "2020": 1, "2022": 3, "2023": 3, "2024": 1, "2025": 2
    }


# -- /api/studies ------------------------------------------------------------------------------------------------


def test_studies_unfiltered_lists_all_eleven_in_reference_order(client: httpx.Client) -> None:
    body = get_json(client, "/api/studies")
    assert body["total"] == 11 and refs(body) == ALL_REFS
    first = body["studies"][0]
    assert first["id"] == "blay-2025" and first["citation"] == "Blay et al. 2025" and first["year"] == 2025
    assert first["doi"] == "10.1016/j.encep.2025.01.012"
    assert first["doi_url"] == "https://doi.org/10.1016/j.encep.2025.01.012"
    assert [v["slug"] for v in first["facets"]["design"]] == ["naturalistic-pre-post-study"]
    assert first["facets"]["design"][0]["support"] == "derived"
    assert first["intervention"]["facets"]["modality"][0]["slug"] == "structured-manualized"
    assert first["why"] == []


def test_studies_country_is_empty_when_the_review_ties_the_study_to_none(client: httpx.Client) -> None:
    body = get_json(client, "/api/studies")
    countries = {s["ref"]: [v["slug"] for v in s["facets"]["country"]] for s in body["studies"]}
    assert {r for r, c in countries.items() if c == ["australia"]} == {36, 38, 39, 42, 44}
    assert all(c == [] for r, c in countries.items() if r not in {36, 38, 39, 42, 44})


def test_studies_online_and_burnout_match_the_named_query(client: httpx.Client, app: FastAPI) -> None:
    body = get_json(client, "/api/studies?delivery=online&challenge=emotional-vulnerability-burnout")
    context = app.state.context
    rows = run_named_query(context.evidence_map, context.vocabulary, "online-studies-burnout")
    assert refs(body) == [40, 42, 44, 45]
    assert refs(body) == sorted({int(str(r["ref"])) for r in rows})
    assert body["total"] == 4
    assert body["filters"] == {"delivery": ["online"], "challenge": ["emotional-vulnerability-burnout"]}


def test_studies_values_of_one_facet_are_or_and_facets_are_and(client: httpx.Client) -> None:
    either = get_json(client, "/api/studies?challenge=misinformation&challenge=skepticism-toward-peer-roles")
    assert refs(either) == [36, 45]
    comma = get_json(client, "/api/studies?challenge=misinformation,skepticism-toward-peer-roles")
    assert refs(comma) == refs(either)
    both = get_json(client, "/api/studies?modality=structured-manualized&delivery=in-person")
    assert refs(both) == [35, 37]


def test_studies_broader_concept_matches_narrower_values(client: httpx.Client) -> None:
    body = get_json(client, "/api/studies?delivery=in-person")
    assert refs(body) == [35, 37, 39, 41, 43]
    why = {s["ref"]: [r["value"]["slug"] for r in s["why"]] for s in body["studies"]}
    assert why[43] == ["community-setting"] and why[35] == ["clinical-setting"]


def test_studies_why_cites_the_review_section(client: httpx.Client) -> None:
    body = get_json(client, "/api/studies?challenge=role-clarity-boundaries")
    assert refs(body) == [39, 41, 42]
    reason = body["studies"][0]["why"][0]
    assert reason["facet"] == "challenge" and reason["chosen"] == ["role-clarity-boundaries"]
    assert reason["value"]["support"] == "cited" and reason["value"]["section"] == "3.3.3"


def test_studies_year_filter(client: httpx.Client) -> None:
    assert refs(get_json(client, "/api/studies?year=2022&year=2019")) == [38, 41, 44, 45]


def test_studies_facet_counts_are_of_the_filtered_set(client: httpx.Client) -> None:
    body = get_json(client, "/api/studies?delivery=online")
    challenge = next(f for f in body["facets"] if f["name"] == "challenge")
    counts = {v["value"]: v["count"] for v in challenge["values"] if v["count"]}
    assert counts == {"emotional-vulnerability-burnout": 4, "online-digital-challenges": 4,
                      "role-clarity-boundaries": 1, "misinformation": 1, "skepticism-toward-peer-roles": 1}
    delivery = next(f for f in body["facets"] if f["name"] == "delivery")
    selected = [v["value"] for v in delivery["values"] if v["selected"]]
    assert selected == ["online"]
    online = next(v for v in delivery["values"] if v["value"] == "online")
    assert online["toggle_url"] == "/api/studies"


def test_studies_self_link_is_stable_whatever_the_parameter_order(client: httpx.Client) -> None:
    a = get_json(client, "/api/studies?challenge=emotional-vulnerability-burnout&delivery=online")
    b = get_json(client, "/api/studies?delivery=online&challenge=emotional-vulnerability-burnout")
    assert a["links"]["self"] == b["links"]["self"]
    assert a["links"]["self"] == "/api/studies?delivery=online&challenge=emotional-vulnerability-burnout"
    assert refs(get_json(client, a["links"]["self"])) == refs(a)
    assert a["links"]["html"] == "/studies?delivery=online&challenge=emotional-vulnerability-burnout"


def test_studies_paging_with_limit_and_offset(client: httpx.Client) -> None:
    page1 = get_json(client, "/api/studies?limit=4")
    page3 = get_json(client, "/api/studies?limit=4&offset=8")
    assert page1["total"] == 11 and refs(page1) == [35, 36, 37, 38] and page1["limit"] == 4
    assert refs(page3) == [43, 44, 45] and page3["links"]["next"] is None
    assert page1["links"]["next"] == "/api/studies?limit=4&offset=4"
    assert page1["links"]["prev"] is None and page3["links"]["prev"] == "/api/studies?limit=4&offset=4"


def test_studies_default_page_size_comes_from_the_settings(client: httpx.Client, app: FastAPI) -> None:
    body = get_json(client, "/api/studies")
    assert body["limit"] == app.state.context.settings.default_page_size


def test_studies_sparql_is_the_facet_query(client: httpx.Client, app: FastAPI) -> None:
    body = get_json(client, "/api/studies?delivery=online")
    rows = app.state.context.evidence_map.select(body["sparql"])
    assert sorted(r["ref"] for r in rows) == [36, 38, 40, 42, 44, 45]


def test_studies_csv_by_accept_header_one_row_per_study(client: httpx.Client, app: FastAPI) -> None:
    response = client.get("/api/studies?delivery=online", headers={"accept": "text/csv"})
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert [int(r["ref"]) for r in rows] == [36, 38, 40, 42, 44, 45]
    facet_names = [f.name for f in app.state.context.vocabulary.concept_facets]
    assert set(facet_names) <= set(rows[0])
    jewell = next(r for r in rows if r["id"] == "jewell-2022")
    assert jewell["challenge"].split("; ") == ["emotional vulnerability and burnout", "online and digital challenges"]
    assert jewell["doi"] == "10.1186/s40479-022-00203-y"


def test_studies_csv_by_format_parameter_ignores_default_paging(client: httpx.Client) -> None:
    response = client.get("/api/studies?format=csv")
    assert response.status_code == 200
    assert len(list(csv.DictReader(io.StringIO(response.text)))) == 11


@pytest.mark.parametrize(
    ("query", "status", "needle"),
    [
        ("color=red", 400, "delivery"),
        ("delivery=moon", 400, "online"),
        ("challenge=burnout", 400, "emotional-vulnerability-burnout"),
        ("year=abc", 422, "years"),
        ("limit=abc", 422, "limit"),
        ("limit=0", 422, "limit"),
        ("offset=-1", 422, "offset"),
        ("limit=100000", 422, "1000"),
        ("format=xml", 400, "csv"),
    ],
)
def test_studies_bad_input_is_a_clear_4xx(client: httpx.Client, query: str, status: int, needle: str) -> None:
    body = get_json(client, f"/api/studies?{query}", status=status)
    assert body["ok"] is False and body["status"] == status
    assert needle in body["error"] + body.get("hint", ""), body


def test_studies_unacceptable_media_type_is_406(client: httpx.Client) -> None:
    body = get_json(client, "/api/studies", status=406, headers={"accept": "image/png"})
    assert "application/json" in body["hint"]


@pytest.mark.parametrize(
    ("accept", "media_type"),
    [
        ("application/json;q=0.5, application/ld+json", "application/ld+json"),
        ("text/csv;q=0.9, application/json;q=0.1", "text/csv"),
        ("*/*, text/csv;q=0", "application/json"),
    ],
)
def test_studies_accept_q_values_decide_the_media_type(client: httpx.Client, accept: str, media_type: str) -> None:
    response = client.get("/api/studies", headers={"accept": accept})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].split(";")[0] == media_type


# -- /api/studies/{id} -------------------------------------------------------------------------------------------


def test_study_by_slug_and_by_reference_number_are_the_same(client: httpx.Client) -> None:
    assert get_json(client, "/api/studies/jewell-2022") == get_json(client, "/api/studies/44")


def test_study_detail_has_every_fact_with_provenance(client: httpx.Client) -> None:
    body = get_json(client, "/api/studies/jewell-2022")
    assert body["ref"] == 44 and body["doi"] == "10.1186/s40479-022-00203-y"
    assert body["bibliographic_citation"].startswith("Jewell M")
    facts = {(f["facet"], f["value"]["slug"]): f for f in body["facts"]}
    assert len(facts) == len(body["facts"]) == 23
    burnout = facts[("challenge", "emotional-vulnerability-burnout")]
    assert burnout["support"] == "cited" and burnout["section"] == "3.3.3"
    assert burnout["section_title"] == "Challenges identified" and burnout["quote"]
    assert burnout["finding"].endswith("jewell-2022--reportsChallenge--emotional-vulnerability-burnout")
    delivery = facts[("delivery", "online")]
    assert delivery["subject_kind"] == "intervention" and delivery["subject"].endswith("/intervention/jewell-2022")
    design = facts[("design", "mixed-methods-study")]
    assert design["support"] == "derived" and "elimination" in design["rationale"]
    symptoms = facts[("outcome", "bpd-symptom-reduction")]
    assert symptoms["notes"] and symptoms["evidence_type"]["slug"] == "quantitative"


def test_study_derived_facts_always_carry_a_rationale(client: httpx.Client) -> None:
    for ref in ALL_REFS:
        body = get_json(client, f"/api/studies/{ref}")
        for fact in body["facts"]:
            assert fact["support"] in {"cited", "derived", "inferred"}
            assert fact["quote"] and fact["section"], fact
            if fact["support"] in {"derived", "inferred"}:
                assert fact["rationale"], fact


def test_study_source_notes_of_its_report_are_shown(client: httpx.Client) -> None:
    body = get_json(client, "/api/studies/sadag-2023")
    assert any("dollar signs" in n for n in body["notes"])


def test_study_unknown_id_is_404_with_suggestions(client: httpx.Client) -> None:
    body = get_json(client, "/api/studies/jewel-2022", status=404)
    assert "jewel-2022" in body["error"] and "jewell-2022" in body["hint"]
    assert get_json(client, "/api/studies/99", status=404)["status"] == 404


# -- the core: a fixed number of queries per list ----------------------------------------------------------------


def test_study_summaries_take_a_fixed_number_of_queries(app: FastAPI, monkeypatch: Any) -> None:
    """Records, facet values, support kinds and sections: four queries for any number of studies."""
    context = app.state.context
    evidence_map, calls = context.evidence_map, []
    original = type(evidence_map).select

    def counting(self: Any, *args: Any, **kwargs: Any) -> Any:
        calls.append(args[0])
        return original(self, *args, **kwargs)

    monkeypatch.setattr(type(evidence_map), "select", counting)
    everything = study_summaries(evidence_map, context.vocabulary)
    assert len(everything) == 11 and len(calls) == 4
    three = select_studies(evidence_map, Selection())[:3]
    calls.clear()
    some = study_summaries(evidence_map, context.vocabulary, three)
    assert [s.ref for s in some] == [35, 36, 37] and len(calls) == 4
    calls.clear()
    bare = study_summaries(evidence_map, context.vocabulary, three, provenance=False)
    assert len(calls) == 2 and all(v.support is None for s in bare for vs in s.facets.values() for v in vs)


# -- sized to what is shown (issue 14) -----------------------------------------------------------------------------

CARD_KEYS = {"iri", "id", "ref", "citation", "title", "year", "doi", "doi_url", "journal", "facets", "intervention",
             "why", "links"}


def test_study_list_sends_what_a_card_shows_and_the_record_the_rest(client: httpx.Client) -> None:
    card = next(s for s in get_json(client, "/api/studies?delivery=online")["studies"] if s["id"] == "jewell-2022")
    assert set(card) == CARD_KEYS
    assert set(card["intervention"]) == {"iri", "label", "facets"}
    values = [v for vs in [*card["facets"].values(), *card["intervention"]["facets"].values()] for v in vs]
    assert values and all(set(v) == {"iri", "slug", "label", "scheme", "support"} for v in values)
    assert card["why"][0]["value"]["section"]  # why the study is listed keeps the review section
    record = get_json(client, card["links"]["json"])
    assert record["authors"].startswith("Jewell") and record["report"] and "description" in record["intervention"]
    for name, shown in card["facets"].items():
        full = [{k: v[k] for k in ("iri", "slug", "label", "scheme", "support")} for v in record["facets"][name]]
        assert shown == full, name
    for name, shown in card["intervention"]["facets"].items():
        full = [{k: v[k] for k in ("iri", "slug", "label", "scheme", "support")}
                for v in record["intervention"]["facets"][name]]
        assert shown == full, name


def test_study_record_reads_only_its_own_study(app: FastAPI, monkeypatch: Any) -> None:
    """Every query behind /api/studies/{id} is bound to the study (or its findings): none reads the whole map."""
    from evidencemap.web.api import build_study_detail

    context = app.state.context
    evidence_map, calls = context.evidence_map, []
    original = type(evidence_map).select

    def recording(self: Any, sparql: str, bindings: Any = None, **kwargs: Any) -> Any:
        calls.append((sparql, bindings))
        return original(self, sparql, bindings, **kwargs)

    monkeypatch.setattr(type(evidence_map), "select", recording)
    build_study_detail(context, "jewell-2022")
    assert calls and all(bindings for _, bindings in calls), [q[-200:] for q, b in calls if not b]


def test_answers_page_their_studies_with_links(client: httpx.Client) -> None:
    question = "which online studies reported burnout"
    first = get_json(client, "/api/ask", params={"q": question, "limit": 3})
    assert first["total"] == 4 and len(first["studies"]) == 3 and first["links"]["prev"] is None
    second = get_json(client, first["links"]["next"])
    assert second["offset"] == 3 and [s["ref"] for s in second["studies"]] == [45]
    assert second["links"]["next"] is None and get_json(client, second["links"]["prev"])["studies"] == first["studies"]
    assert set(first["studies"][0]) == CARD_KEYS
