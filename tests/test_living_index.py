"""The facet index follows a change (issue 13): after each write of a random series (studies added, updated with new
facts and sometimes a new reference number, retracted), the index the write made from the previous one equals an
index built from scratch on the same store: the same studies in the same order, the same listed ones, every facet's
values with the same studies, the same counts at every support level; and so does the search index (the texts of
/api/ask and of searches). No whole build of either happens during the series.
The studies written here are test data in a temporary state folder, never the bundled map's."""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pyoxigraph as ox
import pytest

from evidencemap import namespaces as ns
from evidencemap.graph.store import Delta, EvidenceMap
from evidencemap.graph.tokens import TokenEntry, TokenStore
from evidencemap.graph.writes import LivingMap
from evidencemap.model import changes, edits
from evidencemap.model.changes import Refused
from evidencemap.model.facet_index import FacetIndex, index_of
from evidencemap.model.review_counts import facet_claims
from evidencemap.model.search import SearchIndex, search_index_of
from evidencemap.model.studies import find_study
from evidencemap.model.support import support_levels
from evidencemap.model.vocabulary import Vocabulary, vocabulary_of
from evidencemap.settings import Settings

BUILD = FacetIndex.build
SEARCH = SearchIndex.build
PASSAGE = "https://w3id.org/evidencemap/data/review/dufour-2025/passage/reference-52"
FACETS = ("delivery", "outcome", "challenge", "component", "schedule", "facilitation", "modality", "country")


@pytest.fixture()
def living(tmp_path: Path) -> Iterator[LivingMap]:
    opened = LivingMap(EvidenceMap.load(Settings(persistent_store=False)), tmp_path)
    yield opened
    opened.close()


def snapshot(index: FacetIndex, vocabulary: Vocabulary) -> dict[str, Any]:
    """Everything the index answers, by study IRI (not position), at every support level."""
    levels = support_levels(index.evidence_map)
    facets: dict[str, Any] = {}
    for facet in vocabulary.facets:
        for level in (None, *levels.names):
            masks = index.value_masks(facet, level)
            facets[f"{facet.name}@{level}"] = {
                str(value): tuple(index.studies[i] for i in np.flatnonzero(mask)) for value, mask in masks.items()
                if mask.any()}
        facets[f"{facet.name} keys"] = {str(v): k for v, k in index.facet(facet).keys.items()}
        everything = np.ones(index.size, dtype=bool)
        facets[f"{facet.name} counts"] = index.counts(facet, everything)
    return {"studies": index.studies, "listed": index.listing(np.ones(index.size, dtype=bool)),
            "without value": {f.name: index.listing(~np.logical_or.reduce(
                [np.zeros(index.size, dtype=bool), *index.value_masks(f).values()])) for f in vocabulary.facets},
            "facets": facets}


def fresh(living: LivingMap, vocabulary: Vocabulary) -> dict[str, Any]:
    """A snapshot of an index built from scratch on the same store."""
    index = BUILD(EvidenceMap(store=living.map.store, settings=living.map.settings))
    return snapshot(index.warm(vocabulary.facets), vocabulary)


def random_facts(rng: random.Random, vocabulary: Vocabulary, design: bool = True) -> list[dict[str, str]]:
    chosen = [("design", rng.choice(vocabulary.facet("design").concepts).slug)] if design else []
    for name in rng.sample([f for f in FACETS if _has(vocabulary, f)], 3):
        chosen.append((name, rng.choice(vocabulary.facet(name).concepts).slug))
    return [{"facet": f, "value": v, "support": rng.choice(["inferred", "derived"]),
             "rationale": "Test data.", "passage": PASSAGE} for f, v in chosen]


def _has(vocabulary: Vocabulary, name: str) -> bool:
    return any(f.name == name and f.concepts for f in vocabulary.concept_facets)


def body(slug: str, ref: int, facts: list[dict[str, str]], title: str = "A peer group") -> bytes:
    return json.dumps({"id": slug, "ref": ref, "citation": f"Random {slug}", "title": title, "year": 2026,
                       "authors": "Random R", "intervention": {"label": "A group"}, "facts": facts}).encode()


def one_edit(rng: random.Random, living: LivingMap, vocabulary: Vocabulary, added: list[str],
             holder: TokenEntry, step: int) -> str:
    """Make and submit one random change; its kind ("refused" when the checks refused it)."""
    kind = rng.choice(["add", "add", "update", "update", "retract"] if added else ["add"])
    if kind == "add":
        slug = f"random-{step}"
        edit = edits.add_study(living, edits.parse_body(living, vocabulary, body(slug, 2000 + step,
                                                                                 random_facts(rng, vocabulary)),
                                                        edits.JSON))
        added.append(slug)
    elif kind == "update":  # new facts, and half the time a new reference number (a new place in the list)
        slug = rng.choice(added)
        iri = living.map.canonical(find_study(living.map, slug))
        ref = 3000 + step if rng.random() < 0.5 else int(living.map.select(
            "SELECT ?ref WHERE { ?s <https://w3id.org/evidencemap/ontology#referenceNumber> ?ref }",
            {"s": ox.NamedNode(living.map.iri(iri))})[0]["ref"])
        triples = edits.parse_body(living, vocabulary, body(slug, ref, random_facts(rng, vocabulary),
                                                            f"Randomised title {step}"), edits.JSON, iri)
        edit = edits.update_study(living, slug, triples, json_shape=True)
    else:
        slug = rng.choice(added)
        added.remove(slug)
        edit = edits.retract_study(living, slug)
    if not edit.added and not edit.removed:
        return "nothing"
    try:
        changes.submit(living, vocabulary, edit, holder, f"random {kind} {step}")
    except Refused:
        if kind == "add":
            added.remove(slug)
        return "refused"
    return kind


def test_the_index_after_random_changes_equals_a_fresh_build(living: LivingMap,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    vocabulary = vocabulary_of(living.map)
    holder = TokenStore(living.state).create(living.slug, "Team")[0]
    index = index_of(living.map).warm(vocabulary.facets)
    snapshot(index, vocabulary)  # every facet's support ranks read too, so that they follow as well
    search = search_index_of(living.map)
    claims = facet_claims(living.map)
    builds: list[int] = []
    real_build = FacetIndex.build.__func__  # type: ignore[attr-defined]
    monkeypatch.setattr(FacetIndex, "build", classmethod(lambda cls, m: builds.append(1) or real_build(cls, m)))
    monkeypatch.setattr(SearchIndex, "build", classmethod(lambda cls, m: builds.append(2) or SEARCH(m)))
    rng = random.Random(13)
    added: list[str] = []
    done: list[str] = []
    for step in range(24):
        kind = one_edit(rng, living, vocabulary, added, holder, step)
        done.append(kind)
        if kind in ("refused", "nothing"):
            continue
        followed = index_of(living.map)
        assert not builds, f"step {step} ({kind}): the write built the whole index again"
        assert followed is not index, f"step {step} ({kind}): the index did not change version"
        assert snapshot(followed, vocabulary) == fresh(living, vocabulary), f"step {step}: {kind}"
        index = followed
        searched = search_index_of(living.map)  # the search index follows the same change
        assert searched is not search
        assert searched.records == SEARCH(EvidenceMap(store=living.map.store,
                                                                 settings=living.map.settings)).records, step
        search = searched
        assert facet_claims(living.map) is claims  # a study's change leaves the review's claims as they were
    assert done.count("refused") < len(done) // 2, done
    assert {"add", "update", "retract"} <= set(done), done



def test_a_retracted_bundled_study_leaves_the_followed_index(living: LivingMap) -> None:
    vocabulary = vocabulary_of(living.map)
    holder = TokenStore(living.state).create(living.slug, "Team")[0]
    before = index_of(living.map).warm(vocabulary.facets)
    first = before.studies[0]
    changes.submit(living, vocabulary, edits.retract_study(living, first.rsplit("/", 1)[-1]), holder, "duplicate")
    after = index_of(living.map)
    assert first in before.studies and first not in after.studies  # the old version is left whole for its readers
    assert after.size == before.size - 1
    assert snapshot(after, vocabulary) == fresh(living, vocabulary)


def test_a_change_to_the_vocabulary_builds_the_index_again(living: LivingMap) -> None:
    vocabulary = vocabulary_of(living.map)
    index = index_of(living.map).warm(vocabulary.facets)
    concept = vocabulary.facet("delivery").concepts[0]
    broader = ox.Quad(ox.NamedNode(concept.iri), ox.NamedNode("http://www.w3.org/2004/02/skos/core#broader"),
                      ox.NamedNode(vocabulary.facet("delivery").concepts[-1].iri),
                      ox.NamedNode(living.map.iri(ns.GRAPH_VOCABULARY)))
    assert index.following(Delta(added=(broader,))) is None
    claims_only = ox.Quad(ox.NamedNode("https://w3id.org/evidencemap/data/claim/x"),
                          ox.NamedNode("http://www.w3.org/2000/01/rdf-schema#label"), ox.Literal("x"),
                          ox.NamedNode(living.map.iri(ns.GRAPH_CLAIMS)))
    same = index.following(Delta(added=(claims_only,)))
    assert same is not None and same is not index and same.studies == index.studies


CLAIM = b"""
    @prefix evm: <https://w3id.org/evidencemap/ontology#> .
    @prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
    @prefix prov: <http://www.w3.org/ns/prov#> .
    <https://w3id.org/evidencemap/data/review/dufour-2025/claim/index-test> a evm:StudyCountClaim ;
        rdfs:label "Online studies (facet index test)"@en ; evm:statedCount 3 ;
        evm:section <https://w3id.org/evidencemap/data/review/dufour-2025/section/abstract> ;
        prov:wasDerivedFrom <https://w3id.org/evidencemap/data/review/dufour-2025/passage/abstract-included> ;
        evm:attribution evm:AttributedByDerivation ;
        evm:condition [ a evm:Condition ; evm:onFacet evm:facet-delivery ;
                        evm:hasValue <https://w3id.org/evidencemap/concept/delivery/online> ] .
"""


def test_a_new_claim_is_read_again_and_the_index_carried_over(living: LivingMap) -> None:
    vocabulary = vocabulary_of(living.map)
    holder = TokenStore(living.state).create(living.slug, "Team")[0]
    index = index_of(living.map).warm(vocabulary.facets)
    before = facet_claims(living.map)
    edit = edits.add_claims(living, edits.parse_body(living, vocabulary, CLAIM, edits.TURTLE))
    changes.submit(living, vocabulary, edit, holder, "A claim of the abstract")
    after = facet_claims(living.map)
    claim = "https://w3id.org/evidencemap/data/review/dufour-2025/claim/index-test"
    assert after is not before
    assert claim in {row["claim"] for rows in after.values() for row in rows}
    assert claim not in {row["claim"] for rows in before.values() for row in rows}
    followed = index_of(living.map)
    assert followed is not index and followed.studies == index.studies  # no study touched: the rows as they were
    assert snapshot(followed, vocabulary) == fresh(living, vocabulary)
