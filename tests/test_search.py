"""Free-text study search (evidencemap.model.search) on the bundled map, checked against the review's reference
list: authors, titles, programme names, journals and years, with accents, case and one-letter slips forgiven."""

from __future__ import annotations

import pytest
from fastapi import FastAPI

from evidencemap.model.search import SearchIndex, SearchResult, search_index_of, search_studies


@pytest.fixture(scope="module")
def index(app: FastAPI) -> SearchIndex:
    return SearchIndex.build(app.state.context.evidence_map)


def refs(result: SearchResult) -> list[int]:
    return [hit.reference for hit in result.hits]


def test_the_index_holds_every_included_study(index: SearchIndex) -> None:
    assert [r.reference for r in index.records] == list(range(35, 46))
    fields = {t.field for r in index.records for t in r.texts}
    assert {"author", "title", "journal", "year", "programme"} <= fields


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Grenyer", [36, 38, 39, 44]),  # Grenyer BFS in the authors of 36, 38, 39 and 44
        ("studies by grenyer", [36, 38, 39, 44]),
        ("Townsend", [38, 39]),
        ("Barr", [36, 38, 39]),  # Barr KR; not Bartsch (42)
        ("Leon", [45]),  # León VI
        ("Sadag", [43]),
    ],
)
def test_author_surnames(index: SearchIndex, text: str, expected: list[int]) -> None:
    result = index.search(text)
    assert sorted(refs(result)) == expected
    assert all(m.field == "author" for hit in result.hits for m in hit.matches)


def test_art_therapy_finds_jewell(index: SearchIndex) -> None:
    result = index.search("art therapy")
    assert refs(result) == [44]
    assert {m.field for m in result.hits[0].matches} <= {"title", "programme"}


@pytest.mark.parametrize(
    ("text", "expected", "field"),
    [
        ("AIR Peers", [36], "programme"),  # 3.3.2: 'the AIR Peers group'
        ("BAP-EFL", [37], "programme"),
        ("Ridolfi's programme", [35], "programme"),
        ("Project Air", [36], "manual"),  # the manual of reference 51, implemented by 36
        ("empathy", [40], "title"),  # 'Doing Emotions and Displaying Empathy'
        ("feasibility", [35, 37], "title"),
        ("L'Encéphale", [35], "journal"),
    ],
)
def test_programme_names_title_words_and_journals(index: SearchIndex, text: str, expected: list[int],
                                                  field: str) -> None:
    result = index.search(text)
    assert sorted(refs(result)) == expected
    assert field in {m.field for hit in result.hits for m in hit.matches}


def test_a_year_narrows_an_author(index: SearchIndex) -> None:
    assert refs(index.search("Bates 2023")) == [40]
    assert sorted(refs(index.search("Grenyer 2022"))) == [38, 44]
    assert refs(index.search("Grenyer 2025")) == [36]
    assert refs(index.search("Grenyer 2021")) == []


def test_case_accents_prefixes_and_one_letter_slips(index: SearchIndex) -> None:
    assert refs(index.search("LEÓN")) == [45]
    assert refs(index.search("Dahl")) == [42]  # a prefix of Dahlenburg
    slip = index.search("Grenyr")  # one letter left out
    assert sorted(refs(slip)) == [36, 38, 39, 44]
    assert slip.hits[0].matches[0].matched == "grenyer"
    assert sorted(refs(index.search("Gre"))) == [36, 38, 39, 44]  # three letters make a prefix
    assert refs(index.search("Gr")) == []  # two do not
    assert refs(index.search("Grnyr")) == []  # two slips


def test_exact_words_rank_before_prefixes_and_titles_before_journals(index: SearchIndex) -> None:
    result = index.search("emotion")
    qualities = [hit.matches[0].quality for hit in result.hits]
    assert qualities == sorted(qualities, reverse=True) and qualities[0] > qualities[-1]
    assert refs(result)[0] == 44  # 'emotion dysregulation' in its title; 39 has it in its journal's name only
    assert refs(result).index(44) < refs(result).index(39)


@pytest.mark.parametrize("text", ["Linehan", "studies by Turner", "Herrick", "zumba"])
def test_an_unknown_name_finds_nothing_and_is_reported(index: SearchIndex, text: str) -> None:
    result = index.search(text)
    assert result.hits == () and result.unmatched == result.words and result.words


def test_every_word_must_match_and_the_unmatched_ones_are_named(index: SearchIndex) -> None:
    result = index.search("Grenyer zumba")
    assert result.hits == () and result.unmatched == ("zumba",)


def test_generic_words_alone_find_nothing(index: SearchIndex) -> None:
    assert index.search("studies by the").hits == ()


def test_search_studies_reads_the_map_once_per_call(app: FastAPI) -> None:
    result = search_studies(app.state.context.evidence_map, "Jewell")
    assert [hit.reference for hit in result.hits] == [44]
    assert result.study_iris == [hit.study for hit in result.hits]


def test_a_question_searches_whole_words_only(index: SearchIndex) -> None:
    """A question's leftover word "work" is not a search for "workers" (prefixes off); a slip is still forgiven."""
    assert refs(index.search("work")) and not index.search("work", prefixes=False).hits
    assert index.search("work", prefixes=False).unmatched == ("work",)
    assert sorted(refs(index.find(("grenyr",), prefixes=False))) == [36, 38, 39, 44]


def test_has_word_knows_the_words_of_the_studies_exactly(index: SearchIndex) -> None:
    assert index.has_word("grenyer") and index.has_word("encephale")
    assert not index.has_word("grenyr") and not index.has_word("gren")


def test_the_map_keeps_one_search_index(app: FastAPI) -> None:
    evidence_map = app.state.context.evidence_map
    assert search_index_of(evidence_map) is search_index_of(evidence_map)
    assert [r.reference for r in search_index_of(evidence_map).records] == list(range(35, 46))
