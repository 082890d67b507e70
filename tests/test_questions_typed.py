"""Questions as clinicians type them: misspelt question words, "all studies", comparisons, a country no study has,
a count the review gives without naming the studies under a second filter."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from evidencemap.views.question_years import read_years
from evidencemap.views.questions import UNDERSTOOD, Answer, ask, question_word, singular


def run(app: FastAPI, question: str) -> Answer:
    context = app.state.context
    return ask(question, context.evidence_map, context.vocabulary)


def api(client: TestClient, question: str) -> dict[str, Any]:
    response = client.get("/api/ask", params={"q": question})
    assert response.status_code == 200
    body: dict[str, Any] = response.json()
    return body


@pytest.mark.parametrize(("typed", "meant"), [
    ("wich studys reportd burnot", "which studies reported burnout"),
    ("whcih studies reported burnout", "which studies reported burnout"),
    ("waht studies were online", "what studies were online"),
])
def test_misspelt_question_words_are_read_as_what_they_are(app: FastAPI, typed: str, meant: str) -> None:
    answer, right = run(app, typed), run(app, meant)
    assert answer.understanding == UNDERSTOOD
    assert not answer.unknown and not answer.search_words
    assert sorted(answer.study_iris) == sorted(right.study_iris) and answer.headline_count == right.headline_count
    assert {c.corrected for c in answer.corrections} & {"which", "what"}


def test_a_misspelt_how_many_is_a_count(app: FastAPI) -> None:
    answer = run(app, "hwo many studies were online")
    assert answer.intent == "count" and answer.understanding == UNDERSTOOD
    assert [(c.word, c.corrected) for c in answer.corrections] == [("hwo", "how")]


def test_short_words_of_their_own_are_not_turned_into_question_words() -> None:
    assert [question_word(w) for w in ("care", "cost", "form", "online", "what")] == [None] * 5


@pytest.mark.parametrize("question", ["show me everything", "all studies", "list the studies"])
def test_asking_for_everything_lists_every_study(app: FastAPI, question: str) -> None:
    answer, total = run(app, question), run(app, "how many studies")
    assert answer.understanding == UNDERSTOOD and answer.intent == "studies"
    assert answer.headline_count == total.headline_count and answer.headline_count


def test_a_comparison_counts_the_studies_of_each_value(app: FastAPI) -> None:
    answer, either = run(app, "online vs in person"), run(app, "online or in person")
    assert answer.understanding == UNDERSTOOD and not answer.unknown
    assert answer.values_facet is not None and answer.values_facet.name == "delivery" and answer.breakdown
    assert sorted(answer.study_iris) == sorted(either.study_iris)  # either value, never both
    assert "not how the results" in answer.message


def test_a_country_no_study_has_is_recognised_and_answered_with_the_reviews_coverage(
    app: FastAPI, client: TestClient
) -> None:
    answer = run(app, "in person studies in canada")
    assert answer.understanding == UNDERSTOOD and not answer.unknown
    assert [m.target.concept.slug for m in answer.unused if m.target.concept] == ["canada"]
    assert "No study of this map is recorded with country Canada" in answer.message
    assert "the review gives the country of all" in answer.message  # why "none" is true here
    body = api(client, "how many studies in canada")
    assert body["headline"] == 0 and body["studies_url"] is None  # no link with a value the facet does not list


def test_a_review_count_under_a_second_filter_is_no_bare_zero(app: FastAPI) -> None:
    answer = run(app, "online studies in Spain")
    assert not answer.study_iris and answer.headline_count is None
    assert "without naming it" in answer.message and "cannot say whether" in answer.message


def test_taking_away_a_value_the_review_counts_without_naming_states_no_count(app: FastAPI) -> None:
    answer = run(app, "studies not from the UK")
    assert answer.selection.exclusions and answer.headline_count is None
    assert "without naming them" in answer.message and "cannot take away" in answer.message
    assert run(app, "except Australia").headline_count == 6  # the review's five Australian studies are all named


def test_the_years_verb_before_a_year_is_not_a_question_about_the_years(app: FastAPI) -> None:
    answer, plain = run(app, "published in 2023"), run(app, "studies published in 2023")
    assert answer.intent == "studies" and answer.values_facet is None
    assert sorted(answer.study_iris) == sorted(plain.study_iris)


@pytest.mark.parametrize(("words", "low", "high"), [
    ("in the last 3 years", 2024, None), ("over the past two years", 2025, None), ("last year", 2025, 2025),
    ("since last year", 2025, None), ("in the past year", 2025, None), ("in the last 100 years", 1927, None),
])
def test_the_last_years_count_back_from_this_year(words: str, low: int, high: int | None) -> None:
    pairs = [(w, w.lower()) for w in words.split()]
    tokens = [singular(w) for _, w in pairs]
    [found] = read_years(tokens, [o for o, _ in pairs], this_year=2026)
    assert (found.low, found.high, found.start, found.end) == (low, high, 0, len(tokens))
    assert str(low) in found.text  # the reading says which years


def test_a_question_about_the_last_years_is_understood_and_says_which(app: FastAPI) -> None:
    this_year = datetime.date.today().year
    answer = run(app, "online studies in the last 3 years")
    assert answer.understanding == UNDERSTOOD and not answer.unknown
    assert [(y.low, y.high) for y in answer.years] == [(this_year - 2, None)]
    assert f"({this_year - 2} or later)" in answer.reading
    assert read_years(["the", "last", "study"], ["the", "last", "study"], this_year=2026) == []


def test_harms_ask_for_the_challenges_but_not_inside_a_hyphenated_word(app: FastAPI) -> None:
    answer = run(app, "what are the harms")
    assert answer.values_facet is not None and answer.values_facet.name == "challenge"
    compound = run(app, "any studies on self-harm")
    assert compound.unknown == ["self-harm"] and not compound.matches  # not "any challenge"


def test_safety_is_not_answered_and_the_answer_says_what_the_map_can_answer(app: FastAPI) -> None:
    answer = run(app, "is peer support safe")
    assert answer.understanding == "not" and answer.unknown == ["safe"]
    assert "safety verdicts" in answer.can_answer and "challenge" in answer.can_answer


def test_a_slip_in_a_word_ending_in_ss_is_corrected_as_typed_not_as_its_singular(app: FastAPI) -> None:
    answer, right = run(app, "studies reporting hopefulnes"), run(app, "studies reporting hopefulness")
    assert answer.understanding == UNDERSTOOD and [(c.word, c.corrected) for c in answer.corrections] == [
        ("hopefulnes", "hopefulness")]
    assert sorted(answer.study_iris) == sorted(right.study_iris) and right.study_iris
