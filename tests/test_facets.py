"""Facet filters and counts: OR within a facet, AND across facets, hierarchies through skos:broader*."""

from __future__ import annotations

from pathlib import Path

import pytest

from evidencemap.errors import InvalidParameter
from evidencemap.graph.store import EvidenceMap
from evidencemap.model.facets import Selection, facet_counts, select_studies, studies_query
from evidencemap.model.vocabulary import Vocabulary, load_vocabulary
from evidencemap.settings import Settings

STUDY = "https://w3id.org/evidencemap/data/dufour-2025/study/"


@pytest.fixture
def loaded(bundled: EvidenceMap, vocabulary: Vocabulary) -> tuple[EvidenceMap, Vocabulary]:
    """conftest's bundled map and its vocabulary, as one pair."""
    return bundled, vocabulary


def refs(evidence_map: EvidenceMap, vocabulary: Vocabulary, **params: list[str]) -> list[int]:
    selection = Selection.parse(vocabulary, params)
    iris = select_studies(evidence_map, selection)
    rows = evidence_map.select(
        "PREFIX evm: <https://w3id.org/evidencemap/ontology#> SELECT ?s ?ref WHERE { ?s evm:referenceNumber ?ref }"
    )
    by_iri = {r["s"]: r["ref"] for r in rows}
    return [by_iri[i] for i in iris]


def test_broader_concept_covers_narrower_ones(loaded: tuple[EvidenceMap, Vocabulary]) -> None:
    assert refs(*loaded, delivery=["in-person"]) == [35, 37, 39, 41, 43]


def test_values_of_one_facet_are_or(loaded: tuple[EvidenceMap, Vocabulary]) -> None:
    assert refs(*loaded, delivery=["clinical-setting", "community-setting"]) == [35, 37, 39, 41, 43]
    assert refs(*loaded, delivery=["clinical-setting,community-setting"]) == [35, 37, 39, 41, 43]


def test_different_facets_are_and(loaded: tuple[EvidenceMap, Vocabulary]) -> None:
    assert refs(*loaded, delivery=["online"], challenge=["emotional-vulnerability-burnout"]) == [40, 42, 44, 45]
    assert refs(*loaded, modality=["community-based"], challenge=["role-clarity-boundaries"]) == [39, 41]


def test_year_facet_filters_literals(loaded: tuple[EvidenceMap, Vocabulary]) -> None:
    assert refs(*loaded, year=["2022"]) == [38, 44, 45]


def test_no_filter_lists_every_study(loaded: tuple[EvidenceMap, Vocabulary]) -> None:
    assert refs(*loaded) == list(range(35, 46))


def test_unknown_facet_lists_valid_facets(loaded: tuple[EvidenceMap, Vocabulary]) -> None:
    with pytest.raises(InvalidParameter, match="Unknown facet 'colour'") as info:
        Selection.parse(loaded[1], {"colour": ["blue"]})
    assert "delivery" in str(info.value) and "challenge" in str(info.value)


def test_unknown_value_lists_valid_values(loaded: tuple[EvidenceMap, Vocabulary]) -> None:
    with pytest.raises(InvalidParameter, match="Unknown value 'carrier-pigeon' for facet 'delivery'") as info:
        Selection.parse(loaded[1], {"delivery": ["carrier-pigeon"]})
    assert "online" in str(info.value)


def test_non_year_value_for_year_is_refused(loaded: tuple[EvidenceMap, Vocabulary]) -> None:
    with pytest.raises(InvalidParameter, match="takes years"):
        Selection.parse(loaded[1], {"year": ["2022 } DROP ALL"]})


def test_user_text_never_reaches_the_query(loaded: tuple[EvidenceMap, Vocabulary]) -> None:
    selection = Selection.parse(loaded[1], {"delivery": ["online"]})
    query = studies_query(selection)
    assert "<https://w3id.org/evidencemap/concept/delivery/online>" in query


def test_counts_include_broader_concepts(loaded: tuple[EvidenceMap, Vocabulary]) -> None:
    evidence_map, vocabulary = loaded
    counts = facet_counts(evidence_map, vocabulary.facet("delivery"), Selection())
    concept = "https://w3id.org/evidencemap/concept/delivery/"
    assert counts[concept + "online"] == 6
    assert counts[concept + "in-person"] == 5
    assert counts[concept + "clinical-setting"] == 4


def test_counts_respect_the_selection(loaded: tuple[EvidenceMap, Vocabulary]) -> None:
    evidence_map, vocabulary = loaded
    selection = Selection.parse(vocabulary, {"delivery": ["online"]})
    counts = facet_counts(evidence_map, vocabulary.facet("challenge"), selection)
    concept = "https://w3id.org/evidencemap/concept/challenge/"
    assert counts == {
        concept + "emotional-vulnerability-burnout": 4,
        concept + "online-digital-challenges": 4,
        concept + "role-clarity-boundaries": 1,
        concept + "misinformation": 1,
        concept + "skepticism-toward-peer-roles": 1,
    }


def test_new_concept_appears_without_code_changes(tmp_path: Path) -> None:
    from evidencemap.resources import bundled_map_dir

    extra = tmp_path / "extra-concept.ttl"
    extra.write_text(
        "@prefix skos: <http://www.w3.org/2004/02/skos/core#> .\n"
        "<https://w3id.org/evidencemap/concept/delivery/telephone> a skos:Concept ;\n"
        "  skos:inScheme <https://w3id.org/evidencemap/concept/delivery> ;\n"
        "  skos:broader <https://w3id.org/evidencemap/concept/delivery/online> ;\n"
        '  skos:prefLabel "telephone"@en ; skos:altLabel "phone"@en ;\n'
        '  skos:definition "A remote delivery mode by telephone calls."@en .\n'
    )
    evidence_map = EvidenceMap.load(Settings(data=[bundled_map_dir(), extra]))
    facet = load_vocabulary(evidence_map).facet("delivery")
    telephone = facet.concept("telephone")
    assert telephone.alt_labels == ("phone",)
    assert [c.slug for c in facet.ancestors(telephone)] == ["telephone", "online"]
