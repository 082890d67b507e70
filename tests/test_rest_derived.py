"""What the REST API derives once per version of the map (issue 14: a first request within its targets) gives the
answers it gave when it computed them on each request, and follows a living-map write.

- the facet counts as bitsets (model/facet_counts.py) equal the facet index's, for many selections and every
  support level, and the counts among every study are those of a selection that filters nothing;
- the tallies and facet models of an unfiltered list, made once per version, equal those computed afresh;
- the study cards kept for a version (model/study_cards.py) equal those read from the store, within their bound;
- a list's facet counts written as JSON once give the same bytes as the whole model written at once;
- after writes (a study added, its title changed, its delivery changed), the unfiltered list, /api/facets, a
  question and the card of the study say what the map now holds.

The study written here is test data in a temporary state folder, never the bundled map's.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from app_support import TestClient
from evidencemap.graph.store import EvidenceMap
from evidencemap.graph.tokens import TokenStore
from evidencemap.model.facet_counts import bits_of, facet_bits
from evidencemap.model.facet_index import index_of
from evidencemap.model.facets import Choice, Listed, Selection, facet_counts, matching_studies, select_studies
from evidencemap.model.studies import study_summaries
from evidencemap.model.study_cards import SummaryCache, card_summaries, summary_cache
from evidencemap.model.support import support_levels
from evidencemap.model.vocabulary import Vocabulary, vocabulary_of
from evidencemap.settings import Settings
from evidencemap.views.listing import _tallies, facet_tallies, hierarchy, study_listing
from evidencemap.web.api import FACET_LIST, build_study_list, facet_count_models, rendered_fields
from evidencemap.web.api_common import json_with, study_models
from evidencemap.web.app import create_app
from evidencemap.web.inputs import Page, support_params
from evidencemap.web.models import ListLinks

SLUG = "dufour-2025"
PASSAGE = "https://w3id.org/evidencemap/data/review/dufour-2025/passage/reference-52"


@pytest.fixture(scope="module")
def evidence_map() -> EvidenceMap:
    return EvidenceMap.load(Settings(persistent_store=False))


@pytest.fixture(scope="module")
def vocabulary(evidence_map: EvidenceMap) -> Vocabulary:
    return vocabulary_of(evidence_map)


def selections(vocabulary: Vocabulary) -> list[Selection]:
    """Selections of one and two facets, two values of one facet, an exclusion, a set of studies and none."""
    delivery, challenge, design = (vocabulary.facet(n) for n in ("delivery", "challenge", "design"))
    online = Choice(delivery, concepts=(delivery.concept("online"),))
    burnout = Choice(challenge, concepts=(challenge.concept("emotional-vulnerability-burnout"),))
    either = Choice(design, concepts=tuple(design.concepts[:3]))
    year = Choice(vocabulary.facet("year"), literals=("2022",))
    return [Selection(), Selection((online,)), Selection((online, burnout)), Selection((either,)),
            Selection((year,)), Selection(exclusions=(burnout,)), Selection((online,), exclusions=(burnout,))]


def test_bitset_counts_equal_the_index_counts(evidence_map: EvidenceMap, vocabulary: Vocabulary) -> None:
    index = index_of(evidence_map)
    some = tuple(index.studies[::3])
    for level, selection in itertools.product((None, *support_levels(evidence_map).names),
                                              [*selections(vocabulary), Selection(among=some)]):
        mask = selection.mask(index, level)
        for facet in vocabulary.facets:
            expected = index.counts(facet, mask, level)
            assert facet_counts(evidence_map, facet, selection, level) == expected, (facet.name, level, selection)
            assert list(facet_bits(evidence_map, level).counts(facet, mask)) == list(expected)  # same order
    assert bits_of(np.array([True, False, True])) == 0b101


def test_a_selection_that_filters_nothing_counts_among_every_study(evidence_map: EvidenceMap,
                                                                   vocabulary: Vocabulary) -> None:
    index = index_of(evidence_map)
    everyone = np.ones(index.size, dtype=bool)
    bits = facet_bits(evidence_map)
    assert bits.everyone == bits_of(everyone)
    for facet in vocabulary.facets:
        assert bits.facet(facet).counts() == index.counts(facet, everyone) == bits.facet(facet).counts(bits.everyone)


def test_among_keeps_only_the_studies_named(evidence_map: EvidenceMap) -> None:
    index = index_of(evidence_map)
    some = (index.studies[1], index.studies[4], "https://example.org/not-a-study")
    found = Selection(among=some).mask(index)
    assert [index.studies[i] for i in np.flatnonzero(found)] == [index.studies[1], index.studies[4]]


def test_matching_studies_is_select_studies_read_lazily(evidence_map: EvidenceMap, vocabulary: Vocabulary) -> None:
    for selection in selections(vocabulary):
        listed = matching_studies(evidence_map, selection)
        expected = select_studies(evidence_map, selection)
        assert isinstance(listed, Listed) and listed == expected and list(listed) == expected
        assert len(listed) == len(expected) and listed[1:3] == expected[1:3]
        if expected:
            assert listed[0] == expected[0] and listed[-1] == expected[-1]
    assert Listed(("a", "b"), np.array([1])) != ["a"] and Listed(("a",), np.array([0])) != "a"


def test_unfiltered_tallies_made_once_equal_those_computed(evidence_map: EvidenceMap, vocabulary: Vocabulary) -> None:
    for level in (None, *support_levels(evidence_map).names):
        once = facet_tallies(evidence_map, vocabulary, Selection(), level)
        assert facet_tallies(evidence_map, vocabulary, Selection(), level) is once  # made once for the version
        assert once == _tallies(evidence_map, vocabulary, Selection(), level)
    other = vocabulary_of(EvidenceMap(store=evidence_map.store, settings=evidence_map.settings))
    assert facet_tallies(evidence_map, other, Selection()) is not facet_tallies(evidence_map, vocabulary, Selection())


def test_hierarchy_places_each_concept_once_after_its_broader_one(vocabulary: Vocabulary) -> None:
    for facet in vocabulary.concept_facets:
        tree = hierarchy(facet)
        assert sorted(c.iri for c, _ in tree) == sorted(c.iri for c in facet.concepts)
        seen: dict[str, int] = {}
        for concept, depth in tree:
            parents = [b for b in concept.broader if b in {c.iri for c in facet.concepts}]
            assert depth == (seen[parents[0]] + 1 if parents and parents[0] in seen else 0)
            seen[concept.iri] = depth


def test_cards_kept_for_the_version_equal_those_read(evidence_map: EvidenceMap, vocabulary: Vocabulary) -> None:
    iris = select_studies(evidence_map, Selection())
    page = [iris[3], iris[0], iris[3], "https://example.org/not-a-study", iris[5]]
    for provenance in (True, False):
        expected = study_summaries(evidence_map, vocabulary, [iris[3], iris[0], iris[5]], provenance=provenance)
        assert card_summaries(evidence_map, vocabulary, page, provenance=provenance) == expected
        assert card_summaries(evidence_map, vocabulary, page, provenance=provenance) == expected  # kept this time
    cache = summary_cache(evidence_map, vocabulary)
    assert cache.get((iris[3], True)) is not None and cache.get((iris[3], False)) is not None
    assert cache.get((iris[3], True)) != cache.get((iris[3], False))  # without provenance: no support or section
    small = SummaryCache(vocabulary, capacity=2)
    for summary in study_summaries(evidence_map, vocabulary, iris[:3]):
        small.put((summary.iri, True), summary)
    small.get((iris[1], True))  # iris[0] was dropped; iris[1] used since iris[2] was kept: iris[2] goes next
    small.put((iris[0], True), study_summaries(evidence_map, vocabulary, iris[:1])[0])
    assert len(small) == 2 and small.get((iris[2], True)) is None and small.get((iris[1], True)) is not None


def test_card_models_kept_are_those_made_afresh(evidence_map: EvidenceMap, vocabulary: Vocabulary) -> None:
    summaries = card_summaries(evidence_map, vocabulary, select_studies(evidence_map, Selection())[:6])
    online = selections(vocabulary)[1]
    first = study_models(summaries, Selection(), evidence_map)
    assert all(a is b for a, b in zip(study_models(summaries, Selection(), evidence_map), first, strict=True))
    assert first == study_models(summaries, Selection())  # made afresh, not kept
    kept = study_models(summaries, online, evidence_map)
    assert kept == study_models(summaries, online) and any(card.why for card in kept)  # each with its own why
    assert all(not card.why for card in first)  # the kept card was copied, not changed


def test_facets_written_once_give_the_bytes_of_the_whole(evidence_map: EvidenceMap) -> None:
    app = create_app(evidence_map.settings, evidence_map=evidence_map)
    ctx = app.state.context
    for level in support_levels(evidence_map).names:
        model = build_study_list(ctx, Selection(), Page(4, 2, 4), level)
        rendered = rendered_fields(ctx, model)
        assert list(rendered) == ["facets"], level  # the shared facet models of this version, written once
        assert rendered["facets"] == FACET_LIST.dump_json(model.facets, by_alias=True)
        assert json_with(model, rendered) == model.model_dump_json(by_alias=True).encode()
        listing = study_listing(ctx.evidence_map, ctx.vocabulary, Selection(), 0, max_support=level)
        assert model.facets == facet_count_models(listing, support_params(ctx.evidence_map, level))
    filtered = build_study_list(ctx, selections(ctx.vocabulary)[1], Page(4, 0, 4))
    assert rendered_fields(ctx, filtered) == {}  # counted for this request: nothing written before
    links = ListLinks(self_="/a", html="/b", csv="/c")
    assert json_with(links, {"self_": b'"/x"'}) == b'{"self":"/x","html":"/b","csv":"/c","next":null,"prev":null}'


# -- across living-map writes ---------------------------------------------------------------------------------


def fact(facet: str, value: str) -> dict[str, str]:
    return {"facet": facet, "value": value, "support": "inferred", "rationale": "Test data.", "passage": PASSAGE}


def study(title: str, delivery: str) -> dict[str, Any]:
    return {"id": "derived-2026", "ref": 950, "citation": "Derived et al. 2026", "title": title, "year": 2026,
            "authors": "Derived A", "intervention": {"label": "A peer group"},
            "facts": [fact("design", "qualitative-study"), fact("delivery", delivery),
                      fact("challenge", "emotional-vulnerability-burnout")]}


@pytest.fixture(scope="module")
def living(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TestClient, dict[str, str]]]:
    state: Path = tmp_path_factory.mktemp("rest-derived-state")
    token = TokenStore(state).create(SLUG, "Review team")[1]
    app = create_app(Settings(state=str(state), persistent_store=False, sparql_workers=1))
    with TestClient(app) as client:
        yield client, {"Authorization": f"Bearer {token}"}
    app.state.living.close()


def value_count(listing: dict[str, Any], facet: str, value: str) -> int:
    found = next(f for f in listing["facets"] if f["name"] == facet)
    return int(next(v["count"] for v in found["values"] if v.get("value", v.get("slug")) == value))


def last_card(client: TestClient) -> dict[str, Any]:
    total = int(client.get("/api/studies?limit=1").json()["total"])
    card: dict[str, Any] = client.get(f"/api/studies?limit=1&offset={total - 1}").json()["studies"][0]
    return card


def test_derived_answers_follow_writes(living: tuple[TestClient, dict[str, str]]) -> None:
    client, auth = living
    before = client.get("/api/studies?limit=20").json()
    facets_before = client.get("/api/facets").json()
    asked = "which online studies reported burnout"
    answer_before = client.get("/api/ask", params={"q": asked}).json()
    last_card(client)  # the cards of this version are kept: the write must not leave them
    added = client.post(f"/api/maps/{SLUG}/studies?message=Derived+test", json=study("First title", "online"),
                        headers=auth)
    assert added.status_code == 201, added.text
    after = client.get("/api/studies?limit=20").json()
    assert after["total"] == before["total"] + 1
    assert value_count(after, "delivery", "online") == value_count(before, "delivery", "online") + 1
    assert value_count(client.get("/api/facets").json(), "delivery", "online") == value_count(
        facets_before, "delivery", "online") + 1
    assert client.get("/api/ask", params={"q": asked}).json()["total"] == answer_before["total"] + 1
    assert last_card(client)["title"] == "First title"
    updated = client.put("/api/studies/derived-2026?message=New+title+and+delivery", headers=auth,
                         json=study("Second title", "in-person"))
    assert updated.status_code == 200, updated.text
    card = last_card(client)
    assert card["title"] == "Second title" and [v["slug"] for v in card["intervention"]["facets"]["delivery"]] == [
        "in-person"]
    now = client.get("/api/studies?limit=20").json()
    assert value_count(now, "delivery", "online") == value_count(before, "delivery", "online")
    assert client.get("/api/ask", params={"q": asked}).json()["total"] == answer_before["total"]
    online = client.get("/api/studies?delivery=online&limit=100").json()
    assert "derived-2026" not in [s["id"] for s in online["studies"]]
