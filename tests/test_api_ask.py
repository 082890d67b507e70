"""/api/ask: plain-English questions answered by the same query as /api/studies."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from evidencemap.model.queries import run_named_query

BURNOUT = "which online studies reported burnout"


def ask(client: httpx.Client, question: str, status: int = 200, **params: Any) -> dict[str, Any]:
    response = client.get("/api/ask", params={"q": question, **params})
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    return body


def test_ask_and_studies_return_the_same_studies_as_the_named_query(client: httpx.Client, app: FastAPI) -> None:
    answer = ask(client, BURNOUT)
    listed = client.get("/api/studies?delivery=online&challenge=emotional-vulnerability-burnout").json()
    context = app.state.context
    named = run_named_query(context.evidence_map, context.vocabulary, "online-studies-burnout")
    assert [s["iri"] for s in answer["studies"]] == [s["iri"] for s in listed["studies"]]
    assert [s["ref"] for s in answer["studies"]] == sorted({int(str(r["ref"])) for r in named}) == [40, 42, 44, 45]
    assert answer["sparql"] == listed["sparql"]
    assert answer["interpretation"]["filters"] == listed["filters"]
    assert answer["studies_url"] == listed["links"]["self"]


def test_ask_answer_shows_how_the_question_was_read(client: httpx.Client) -> None:
    answer = ask(client, BURNOUT)
    assert answer["intent"] == "studies" and answer["understood"] is True and answer["total"] == 4
    matches = [(m["text"], m["facet"], m["concept"]["slug"], m["used_as"]) for m in answer["interpretation"]["matches"]]
    assert matches == [("online", "delivery", "online", "filter"),
                       ("burnout", "challenge", "emotional-vulnerability-burnout", "filter")]
    assert answer["interpretation"]["ignored"] == ["which", "studies", "reported"]
    assert answer["interpretation"]["summary"].startswith("Studies with delivery online and challenge")
    assert all(s["why"] for s in answer["studies"])


@pytest.mark.parametrize(
    ("question", "refs"),
    [
        ("structured programs delivered in person", [35, 37]),
        ("community groups that reported role ambiguity", [39, 41]),
        ("how many studies used psychoeducation", [35, 36, 37, 38, 39, 42, 43, 44]),
    ],
)
def test_ask_example_questions_match_the_review(client: httpx.Client, question: str, refs: list[int]) -> None:
    answer = ask(client, question)
    assert [s["ref"] for s in answer["studies"]] == refs and answer["total"] == len(refs)


def test_ask_how_many_is_a_count(client: httpx.Client) -> None:
    answer = ask(client, "how many studies used psychoeducation")
    assert answer["intent"] == "count" and answer["total"] == 8


def test_ask_what_challenges_gives_the_values_with_counts(client: httpx.Client) -> None:
    answer = ask(client, "what challenges did online studies report?")
    assert answer["intent"] == "values" and answer["values_facet"] == "challenge"
    assert [(v["value"], v["count"]) for v in answer["values"]] == [
        ("emotional-vulnerability-burnout", 4), ("online-digital-challenges", 4), ("role-clarity-boundaries", 1),
        ("misinformation", 1), ("skepticism-toward-peer-roles", 1),
    ]
    burnout = answer["values"][0]
    assert burnout["url"] == "/concepts/challenge/emotional-vulnerability-burnout"
    narrowed = client.get(burnout["studies_url"]).json()
    assert narrowed["total"] == 4
    assert answer["values_sparql"] and answer["total"] == 6


def test_ask_unrecognised_question_says_so_and_lists_no_study(client: httpx.Client) -> None:
    answer = ask(client, "what is the weather like in Paris")
    assert answer["understood"] is False and answer["total"] == 0 and answer["studies"] == []
    assert answer["sparql"] is None and answer["studies_url"] is None
    assert "No concept" in answer["message"] and answer["suggestions"]


@pytest.mark.parametrize("params", [{"q": ""}, {"q": "   "}, {}])
def test_ask_empty_question_is_400(client: httpx.Client, params: dict[str, str]) -> None:
    response = client.get("/api/ask", params=params)
    assert response.status_code == 400, response.text
    assert response.json()["error"] == "The question is empty."


def test_ask_overlong_question_is_400(client: httpx.Client) -> None:
    assert ask(client, "burnout " * 100, status=400)["status"] == 400


def test_ask_pages_its_studies(client: httpx.Client) -> None:
    answer = ask(client, "how many studies used psychoeducation", limit=3, offset=3)
    assert [s["ref"] for s in answer["studies"]] == [38, 39, 42] and answer["total"] == 8
    assert ask(client, BURNOUT, status=422, limit="x")["status"] == 422


def test_ask_negation_is_answered_with_the_query_that_ran_and_no_study_list_link(client: httpx.Client) -> None:
    answer = ask(client, "studies that did not report burnout")
    assert [s["ref"] for s in answer["studies"]] == [35, 36, 37, 38, 43]
    assert answer["understanding"] == "understood" and answer["headline"] == 5
    assert "FILTER NOT EXISTS" in answer["sparql"]
    assert answer["interpretation"]["excluded"] == {"challenge": ["emotional-vulnerability-burnout"]}
    assert answer["interpretation"]["summary"] == "Studies without challenge emotional vulnerability and burnout."
    assert answer["studies_url"] is None  # the study list's parameters cannot say "without"


def test_ask_years_show_their_words_and_bounds(client: httpx.Client) -> None:
    answer = ask(client, "studies published after 2022")
    assert answer["interpretation"]["years"] == [
        {"text": "after 2022", "low": 2023, "high": None, "years": ["2023", "2024", "2025"], "excluded": False}]
    assert answer["total"] == 6 and answer["studies_url"] == "/api/studies?year=2023&year=2024&year=2025"


def test_ask_partly_understood_names_the_dropped_words_and_gives_no_headline(client: httpx.Client) -> None:
    answer = ask(client, "does peer support reduce self-harm compared with DBT")
    assert answer["understanding"] == "partly" and answer["understood"] is True and answer["headline"] is None
    assert answer["interpretation"]["unknown"] == ["reduce", "self-harm", "compared"]
    assert answer["can_answer"] and "reduce" in answer["message"]


def test_ask_search_and_breakdown_and_review_count(client: httpx.Client) -> None:
    grenyer = ask(client, "studies by Grenyer")
    assert [s["ref"] for s in grenyer["studies"]] == [36, 38, 39, 44] and grenyer["interpretation"]["search"]
    modality = ask(client, "which studies by modality")
    assert modality["breakdown"] and {g["value"]: g["studies"] for g in modality["groups"]} == {
        "structured-manualized": [35, 36, 37, 42, 44], "community-based": [38, 39, 40, 41, 43, 45]}
    uk = ask(client, "studies from the UK")
    assert uk["total"] == 0 and uk["review_count"] == 2 and uk["headline"] == 2
    assert uk["review_counts"][0]["section"] == "3.2" and uk["review_counts"][0]["stated"] == 2


def test_ask_page_shows_partly_understood_without_a_count(client: httpx.Client) -> None:
    response = client.get("/ask", params={"q": "does peer support reduce self-harm compared with DBT"})
    assert response.status_code == 200
    assert 'id="partly-understood"' in response.text and 'id="answer-count"' not in response.text
    uk = client.get("/ask", params={"q": "studies from the UK"}).text
    assert "without naming them" in uk and '<strong>2</strong>' in uk
