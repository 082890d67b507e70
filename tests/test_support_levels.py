"""Strengths of attribution (issue 10): the support level held everywhere, and what the review counts without naming.

The strictest level ("cited") is held to an independent SPARQL query over the findings; the facet index to its SPARQL
twin at every level; review counts to the claims of claims.ttl.
"""

from __future__ import annotations

import itertools
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import httpx
import pyoxigraph as ox
import pytest

from evidencemap.graph.store import EvidenceMap
from evidencemap.model import facets
from evidencemap.model.facets import Choice, Selection
from evidencemap.model.review_counts import review_counts, unattributed_by_value
from evidencemap.model.studies import study_summaries
from evidencemap.model.support import support_levels
from evidencemap.model.vocabulary import Vocabulary, load_vocabulary
from evidencemap.settings import Settings
from evidencemap.views.gapmap import GAP, NOT_ATTRIBUTED, build_gap_map
from visuals_fixtures import copy_map

LEVELS = ("cited", "derived", "inferred")
PREFIXES = """PREFIX evm: <https://w3id.org/evidencemap/ontology#>
PREFIX rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
"""

# Studies with a finding of one of the kinds bound to ?kind that states ?concept, or a narrower concept, of the study
# or of the intervention it evaluates. Written here, apart from the code under test.
SUPPORTED_STUDIES = PREFIXES + """
SELECT DISTINCT ?study WHERE {
  ?study a evm:IncludedStudy ; evm:referenceNumber ?ref .
  { ?finding rdf:subject ?study } UNION { ?study evm:evaluates ?intervention . ?finding rdf:subject ?intervention }
  ?finding a evm:Finding ; rdf:object ?value ; evm:support ?kind .
  ?value skos:broader* ?concept .
}
"""


def get_json(client: httpx.Client, path: str, status: int = 200) -> dict[str, Any]:
    response = client.get(path)
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    return body


def test_the_three_strengths_are_in_the_graph(bundled: EvidenceMap) -> None:
    rows = bundled.select(PREFIXES + """
        SELECT ?kind (COUNT(?finding) AS ?n) WHERE { ?finding a evm:Finding ; evm:support ?kind } GROUP BY ?kind""")
    counts = {str(r["kind"]).rsplit("#", 1)[-1]: int(r["n"]) for r in rows}
    assert counts == {"Cited": 135, "Derived": 14, "Inferred": 7}
    names = support_levels(bundled).names  # the ontology's order, strongest first
    assert tuple(n for n in names if n in LEVELS) == LEVELS and names[-1] == "inferred"


@pytest.mark.parametrize("level", LEVELS)
def test_index_answers_what_the_sparql_twin_answers_at_every_level(
    bundled: EvidenceMap, vocabulary: Vocabulary, level: str
) -> None:
    for facet in vocabulary.facets:
        assert facets.facet_counts(bundled, facet, Selection(), level) == facets.sparql_facet_counts(
            bundled, facet, Selection(), level
        ), facet.name
        for concept in facet.concepts:
            selection = Selection((Choice(facet, concepts=(concept,)),))
            assert facets.select_studies(bundled, selection, level) == facets.sparql_select_studies(
                bundled, selection, level
            ), (facet.name, concept.slug)


def test_at_level_cited_every_listed_study_has_a_cited_finding_for_the_value(
    bundled: EvidenceMap, vocabulary: Vocabulary
) -> None:
    cited = ox.NamedNode("https://w3id.org/evidencemap/ontology#Cited")
    checked = 0
    for facet in vocabulary.concept_facets:
        for concept in facet.concepts:
            listed = set(facets.select_studies(bundled, Selection((Choice(facet, concepts=(concept,)),)), "cited"))
            rows = bundled.select(SUPPORTED_STUDIES, {"kind": cited, "concept": ox.NamedNode(concept.iri)})
            with_cited = {str(r["study"]) for r in rows}
            assert listed <= with_cited, (facet.name, concept.slug)
            checked += len(listed)
    assert checked > 0


@pytest.mark.parametrize(("level", "expected"), [("cited", 0), ("derived", 0), ("inferred", 5), (None, 5)])
def test_australia_rests_on_inferred_facts_only(
    bundled: EvidenceMap, vocabulary: Vocabulary, level: str | None, expected: int
) -> None:
    australia = Selection.parse(vocabulary, {"country": ["australia"]})
    assert len(facets.select_studies(bundled, australia, level)) == expected


def test_a_stricter_level_never_lists_more(bundled: EvidenceMap, vocabulary: Vocabulary) -> None:
    for facet in vocabulary.concept_facets:
        counts = [facets.facet_counts(bundled, facet, Selection(), level) for level in LEVELS]
        for stricter, weaker in itertools.pairwise(counts):
            assert all(n <= weaker.get(value, 0) for value, n in stricter.items()), facet.name


def test_review_counts_say_the_review_does_not_name_the_uk_studies(
    bundled: EvidenceMap, vocabulary: Vocabulary
) -> None:
    country = vocabulary.facet("country")
    uk = country.concept("united-kingdom")
    counts = review_counts(bundled, vocabulary, country, uk.iri)
    assert [(c.stated, c.section, c.attributed, c.attribution) for c in counts] == [(2, "3.2", 0, "NotAttributable")]
    assert counts[0].sentence == "The review counts 2 studies from United Kingdom (3.2) without naming them"
    assert counts[0].quote and "United Kingdom" in counts[0].quote
    by_value = unattributed_by_value(bundled, vocabulary, country)
    assert {ns_last(v) for v in by_value} == {"united-kingdom", "mexico", "south-africa", "spain", "france"}
    # At level cited, the five Australian studies are counted by the review but named by no cited fact.
    strict = unattributed_by_value(bundled, vocabulary, country, "cited")
    assert strict[country.concept("australia").iri].unattributed == 5


def ns_last(iri: str) -> str:
    return iri.rsplit("/", 1)[-1]


def test_api_facets_and_studies_take_the_support_level(client: httpx.Client) -> None:
    assert get_json(client, "/api/studies?country=australia")["total"] == 5
    body = get_json(client, "/api/studies?country=australia&support=cited")
    assert body["total"] == 0 and body["support"] == "cited"
    assert "support=cited" in body["links"]["self"]
    assert all("support=cited" in v["toggle_url"] for f in body["facets"] for v in f["values"])
    derived = get_json(client, "/api/studies?design=qualitative-study&support=derived")
    assert derived["total"] == 4  # the fifth qualitative study (40) is inferred
    error = get_json(client, "/api/studies?support=plausible", 400)
    assert [n for n in error["allowed"] if n in LEVELS] == list(LEVELS)
    facets = get_json(client, "/api/facets?support=cited")
    country = next(f for f in facets["facets"] if f["name"] == "country")
    values = {v["slug"]: v for v in country["values"]}
    assert values["australia"]["count"] == 0 and values["australia"]["review_count"] == 5
    assert values["united-kingdom"]["review_count"] == 2
    assert "without naming them" in values["united-kingdom"]["review_note"]


def test_api_study_marks_the_facts_weaker_than_the_level(client: httpx.Client) -> None:
    study = get_json(client, "/api/studies/44?support=cited")
    excluded = {(f["facet"], f["value"]["slug"], f["support"]) for f in study["facts"] if f["excluded"]}
    assert ("country", "australia", "inferred") in excluded
    assert all(f["support"] != "cited" for f in study["facts"] if f["excluded"])
    assert all(not f["excluded"] for f in get_json(client, "/api/studies/44")["facts"])


def test_concept_page_says_the_review_counts_studies_it_does_not_name(client: httpx.Client) -> None:
    body = get_json(client, "/api/concepts/country/united-kingdom")
    assert body["total"] == 0
    assert [r["sentence"] for r in body["review_counts"]] == [
        "The review counts 2 studies from United Kingdom (3.2) without naming them"
    ]
    assert body["concept"]["review_count"] == 2
    page = client.get("/concepts/country/united-kingdom")
    assert "The review counts 2 studies from United Kingdom (3.2) without naming them" in page.text
    assert "No included study has this value" not in page.text
    assert client.get("/concepts/component/mindfulness").text.count("No included study has this value") == 1


def test_gap_map_tells_not_attributed_cells_from_gaps(bundled: EvidenceMap, vocabulary: Vocabulary) -> None:
    gap_map = build_gap_map(bundled, vocabulary, rows="country", cols="outcome")
    data = gap_map.to_dict()
    uk = [c for c in data["cells"] if c["row"] == "united-kingdom"]
    assert uk and all(c["state"] == NOT_ATTRIBUTED and c["review_count"] == 2 and not c["gap"] for c in uk)
    assert not any(g["row"] == "united-kingdom" for g in data["gaps"])
    rows = {v["slug"]: v for v in data["rows"]["values"]}
    assert rows["united-kingdom"]["review_count"] == 2 and rows["australia"]["review_count"] is None
    assert data["counts"]["gaps"] == sum(1 for c in data["cells"] if c["state"] == GAP)
    strict = build_gap_map(bundled, vocabulary, rows="country", cols="outcome", max_support="cited")
    assert all(c.state == NOT_ATTRIBUTED for c in strict.cells.values() if c.row.slug == "australia")


def test_gap_map_svg_and_table_draw_not_attributed_cells_apart(client: httpx.Client) -> None:
    response = client.get("/api/gapmap?rows=country&cols=outcome&format=svg")
    root = ET.fromstring(response.text)
    classes = [g.get("class") for g in root.iter("{http://www.w3.org/2000/svg}g")]
    assert "cell not-attributed" in classes and "cell gap" in classes
    assert "not attributed: the review counts studies" in response.text  # the legend entry
    page = client.get("/gapmap?rows=country&cols=outcome&support=cited")
    assert "is-not-attributed" in page.text and "Not attributed (the review counts studies" in page.text
    assert "support=cited" in get_json(client, "/api/gapmap?rows=country&cols=outcome&support=cited")["links"]["page"]


def test_studies_page_keeps_the_level_and_shows_review_counts(client: httpx.Client) -> None:
    page = client.get("/studies?support=cited")
    assert '<option value="cited" selected>' in page.text
    assert "review counts 2, not named" in page.text


EXTRA_FINDING = """
@prefix evm: <https://w3id.org/evidencemap/ontology#> .
@prefix rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#> .
@prefix prov: <http://www.w3.org/ns/prov#> .
<https://w3id.org/evidencemap/data/review/dufour-2025/finding/baker-2023--studyDesign--protocol-again> a evm:Finding ;
    rdf:subject <https://w3id.org/evidencemap/data/dufour-2025/study/baker-2023> ; rdf:predicate evm:studyDesign ;
    rdf:object <https://w3id.org/evidencemap/concept/design/feasibility-rct-protocol> ;
    evm:support evm:Inferred ;
    prov:wasDerivedFrom <https://w3id.org/evidencemap/data/review/dufour-2025/passage/reference-37> ;
    evm:rationale "A second, weaker finding of a statement a derived finding already states (a test)."@en .
"""


def test_strongest_support_wins_when_a_statement_has_several_findings(tmp_path: Path) -> None:
    """An inferred finding of a statement that a derived finding states does not weaken it, whatever the order."""
    folder = copy_map(tmp_path)
    (folder / "extra-finding.ttl").write_text(EXTRA_FINDING, encoding="utf-8")
    evidence_map = EvidenceMap.load(Settings(data=[folder]))
    vocabulary = load_vocabulary(evidence_map)
    baker = "https://w3id.org/evidencemap/data/dufour-2025/study/baker-2023"
    summary = study_summaries(evidence_map, vocabulary, [baker])[0]
    assert [(v.slug, v.support) for v in summary.values("design")] == [("feasibility-rct-protocol", "derived")]
    protocol = Selection.parse(vocabulary, {"design": ["feasibility-rct-protocol"]})
    assert facets.select_studies(evidence_map, protocol, "derived") == [baker]
    assert facets.sparql_select_studies(evidence_map, protocol, "derived") == [baker]
    assert facets.select_studies(evidence_map, protocol, "cited") == []
