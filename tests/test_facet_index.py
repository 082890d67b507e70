"""The facet index gives the answers of the facet SPARQL, on the bundled map and on a synthetic map of 300 studies.

The SPARQL of facets.py is the definition (it is what an analyst reruns on /sparql); the index must agree with it
for every single value of every facet, for OR-ed values, for crossed facets, for the counts of every facet under a
selection, and for studies the list leaves out (no reference number) or values it cannot select (blank nodes).
"""

from __future__ import annotations

import random
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pyoxigraph as ox
import pytest

from evidencemap.graph.store import EvidenceMap
from evidencemap.model import facet_index
from evidencemap.model.facets import (
    PREFIXES,
    Choice,
    Selection,
    facet_counts,
    select_studies,
    sparql_facet_counts,
    sparql_select_studies,
)
from evidencemap.model.vocabulary import Facet, Vocabulary
from evidencemap.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
SYNTHETIC_STUDIES = 300

# Not valid data (the shapes would refuse both), but loadable: what the index does with it must still be what the
# SPARQL does. A study without a reference number is counted but not listed; a blank-node value is counted only.
ODD_STUDIES = """
@prefix evm: <https://w3id.org/evidencemap/ontology#> .
<https://w3id.org/evidencemap/data/dufour-2025/study/unnumbered-2026> a evm:IncludedStudy ;
    evm:studyDesign <https://w3id.org/evidencemap/concept/design/qualitative-study> ;
    evm:reportsChallenge <https://w3id.org/evidencemap/concept/challenge/misinformation> .
<https://w3id.org/evidencemap/data/dufour-2025/study/odd-2026> a evm:IncludedStudy ; evm:referenceNumber 98 ;
    evm:reportsChallenge [ a evm:Thing ] , <https://w3id.org/evidencemap/concept/challenge/misinformation> .
"""


def single_values(vocabulary: Vocabulary, evidence_map: EvidenceMap) -> Iterator[Selection]:
    for facet in vocabulary.facets:
        if facet.is_concept_facet:
            for concept in facet.concepts:
                yield Selection((Choice(facet, concepts=(concept,)),))
        else:
            for value in sparql_facet_counts(evidence_map, facet, Selection()):
                yield Selection((Choice(facet, literals=(value,)),))
            yield Selection((Choice(facet, literals=("1900",)),))  # a year no study has


def random_selections(vocabulary: Vocabulary, seed: int, n: int) -> Iterator[Selection]:
    rng = random.Random(seed)
    concept_facets = vocabulary.concept_facets
    for _ in range(n):
        facets = rng.sample(concept_facets, rng.randint(2, 3))
        choices = []
        for facet in facets:
            concepts = tuple(rng.sample(facet.concepts, min(len(facet.concepts), rng.randint(1, 2))))
            choices.append(Choice(facet, concepts=concepts))
        yield Selection(tuple(sorted(choices, key=lambda c: c.facet.order)))


def assert_same(evidence_map: EvidenceMap, selection: Selection, facets: tuple[Facet, ...]) -> None:
    where = selection.as_params()
    assert select_studies(evidence_map, selection) == sparql_select_studies(evidence_map, selection), where
    for facet in facets:
        assert facet_counts(evidence_map, facet, selection) == sparql_facet_counts(evidence_map, facet, selection), (
            where, facet.name)


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory: pytest.TempPathFactory) -> EvidenceMap:
    out = tmp_path_factory.mktemp("synthetic")
    done = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "synthetic.py"), "--studies", str(SYNTHETIC_STUDIES),
         "--out", str(out)],
        capture_output=True, text=True, timeout=120, check=True, cwd=ROOT,
    )
    return EvidenceMap.load(Settings(data=[Path(done.stdout.split("\t")[0])]))


def test_no_selection_lists_every_numbered_study(bundled: EvidenceMap, vocabulary: Vocabulary) -> None:
    assert_same(bundled, Selection(), vocabulary.facets)
    assert len(select_studies(bundled, Selection())) == 11


def test_every_single_value_of_every_facet(bundled: EvidenceMap, vocabulary: Vocabulary) -> None:
    for selection in single_values(vocabulary, bundled):
        assert_same(bundled, selection, vocabulary.facets)


def test_or_within_a_facet_and_across_facets(bundled: EvidenceMap, vocabulary: Vocabulary) -> None:
    for selection in random_selections(vocabulary, seed=2025, n=150):
        assert_same(bundled, selection, vocabulary.facets[:4])


def test_a_broader_concept_covers_its_narrower_ones(bundled: EvidenceMap, vocabulary: Vocabulary) -> None:
    delivery = vocabulary.facet("delivery")
    in_person = Selection((Choice(delivery, concepts=(delivery.concept("in-person"),)),))
    settings = Selection((Choice(delivery, concepts=tuple(delivery.children(delivery.concept("in-person")))),))
    assert select_studies(bundled, in_person) == select_studies(bundled, settings) != []


def test_synthetic_map(synthetic: EvidenceMap, vocabulary: Vocabulary) -> None:
    assert len(select_studies(synthetic, Selection())) == SYNTHETIC_STUDIES
    for selection in single_values(vocabulary, synthetic):
        assert_same(synthetic, selection, vocabulary.facets[:3])
    for selection in random_selections(vocabulary, seed=7, n=60):
        assert_same(synthetic, selection, vocabulary.facets)


def test_unlisted_studies_and_blank_node_values(tmp_path: Path, vocabulary: Vocabulary) -> None:
    odd = tmp_path / "odd.ttl"
    odd.write_text(ODD_STUDIES)
    evidence_map = EvidenceMap.load(Settings(data=[ROOT / "maps" / "dufour-2025", odd]))
    challenge = vocabulary.facet("challenge")
    misinformation = Selection((Choice(challenge, concepts=(challenge.concept("misinformation"),)),))
    for selection in (Selection(), misinformation):
        assert_same(evidence_map, selection, vocabulary.facets)
    listed = select_studies(evidence_map, misinformation)
    assert listed[-1].endswith("/odd-2026") and not any(s.endswith("/unnumbered-2026") for s in listed)
    counts = facet_counts(evidence_map, challenge, Selection())
    assert counts[challenge.concept("misinformation").iri] == 3  # the review's study, unnumbered and odd
    assert any(key.startswith("_:") for key in counts)


def test_the_index_is_built_once_and_rebuilt_after_forget(bundled: EvidenceMap) -> None:
    first = facet_index.index_of(bundled)
    assert facet_index.index_of(bundled) is first
    facet_index.forget(bundled)
    second = facet_index.index_of(bundled)
    assert second is not first and second.studies == first.studies


def values_query(facet: Facet) -> str:
    """The (study, value) pairs of ``facet`` in the one pattern of ``facets.counts_query``."""
    if facet.is_concept_facet:
        value = f"?study {facet.sparql_path()} ?direct . ?direct skos:broader* ?value ."
    else:
        value = f"?study {facet.sparql_path()} ?value ."
    return PREFIXES + f"SELECT ?study ?value WHERE {{\n  ?study a evm:IncludedStudy .\n  {value}\n}}"


def pairs_by_sparql(evidence_map: EvidenceMap, facet: Facet) -> set[tuple[str, ox.NamedNode | ox.Literal]]:
    return {(study.value, value) for study, value in evidence_map.query(values_query(facet))}


def pairs_in_index(evidence_map: EvidenceMap, facet: Facet) -> set[tuple[str, ox.NamedNode | ox.Literal]]:
    index = facet_index.index_of(evidence_map)
    masks = index.facet(facet).masks
    return {(index.studies[i], value) for value, mask in masks.items() for i in mask.nonzero()[0]}


@pytest.mark.parametrize("which", ["bundled", "synthetic"])
def test_the_index_holds_the_pairs_of_the_counts_pattern(which: str, request: pytest.FixtureRequest,
                                                         vocabulary: Vocabulary) -> None:
    """Read in two steps (direct values, then the hierarchy), the index holds exactly the (study, value) pairs of
    the one-pattern query ``?study path ?direct . ?direct skos:broader* ?value``."""
    evidence_map: EvidenceMap = request.getfixturevalue(which)
    for facet in vocabulary.facets:
        expected = pairs_by_sparql(evidence_map, facet)
        assert expected, facet.name
        assert pairs_in_index(evidence_map, facet) == expected, facet.name
