"""The question parser (evidencemap.views.questions) on the bundled map, checked against the review's reference numbers,
and on tiny inline vocabularies to show that it knows only what the vocabulary says."""

from __future__ import annotations

import pytest
from fastapi import FastAPI

from evidencemap.errors import BadRequest
from evidencemap.model.facets import Selection, select_studies
from evidencemap.model.vocabulary import Concept, Facet, Vocabulary
from evidencemap.views.questions import (
    Answer,
    QuestionIndex,
    ask,
    damerau_levenshtein_at_most_one,
    interpret,
    singular,
    words,
)

DELIVERY_PATH = ("https://w3id.org/evidencemap/ontology#evaluates", "https://w3id.org/evidencemap/ontology#delivery")


def run(app: FastAPI, question: str) -> tuple[Answer, list[int]]:
    context = app.state.context
    answer = ask(question, context.evidence_map, context.vocabulary)
    by_iri = {r["s"]: int(r["ref"]) for r in context.evidence_map.select(
        "PREFIX evm: <https://w3id.org/evidencemap/ontology#> "
        "SELECT ?s ?ref WHERE { ?s a evm:IncludedStudy ; evm:referenceNumber ?ref }")}
    return answer, sorted(by_iri[s] for s in answer.study_iris)


def read_as(answer: Answer) -> dict[str, str]:
    return {m.text: m.target.concept.slug if m.target.concept else m.target.facet.name for m in answer.matches}


# -- the examples of the issue, against the review's reference numbers -------------------------------------------


def test_ask_which_online_studies_reported_burnout(app: FastAPI) -> None:
    answer, refs = run(app, "which online studies reported burnout")
    assert answer.intent == "studies" and answer.understood
    assert refs == [40, 42, 44, 45]
    assert read_as(answer) == {"online": "online", "burnout": "emotional-vulnerability-burnout"}
    assert answer.ignored == ["which", "studies", "reported"] and answer.unknown == []


def test_ask_structured_programs_delivered_in_person(app: FastAPI) -> None:
    answer, refs = run(app, "structured programs delivered in person")
    assert refs == [35, 37]
    assert read_as(answer) == {"structured programs": "structured-manualized", "in person": "in-person"}


def test_ask_community_groups_are_the_modality_not_the_setting(app: FastAPI) -> None:
    answer, refs = run(app, "community groups that reported role ambiguity")
    assert refs == [39, 41]
    assert read_as(answer) == {"community groups": "community-based", "role ambiguity": "role-clarity-boundaries"}
    assert {m.target.facet.name for m in answer.matches} == {"modality", "challenge"}


def test_ask_how_many_studies_used_psychoeducation(app: FastAPI) -> None:
    answer, refs = run(app, "how many studies used psychoeducation")
    assert answer.intent == "count" and answer.total == 8
    assert refs == [35, 36, 37, 38, 39, 42, 43, 44]


def test_ask_what_challenges_did_online_studies_report(app: FastAPI) -> None:
    answer, refs = run(app, "what challenges did online studies report?")
    assert answer.intent == "values" and answer.values_facet is not None
    assert answer.values_facet.name == "challenge"
    labels = {c.iri: c.pref_label for c in answer.values_facet.concepts}
    assert [(labels[k], n) for k, n in answer.values] == [
        ("emotional vulnerability and burnout", 4),
        ("online and digital challenges", 4),
        ("role clarity and boundary issues", 1),
        ("misinformation and unhelpful advice", 1),
        ("discomfort or skepticism toward peer roles", 1),
    ]
    assert refs == [36, 38, 40, 42, 44, 45] and answer.without_value == 1
    assert [m.used_as for m in answer.matches] == ["question", "filter"]


def test_ask_runs_the_same_query_as_the_study_list(app: FastAPI) -> None:
    context = app.state.context
    answer, _ = run(app, "which online studies reported burnout")
    selection = Selection.parse(context.vocabulary,
                                {"delivery": ["online"], "challenge": ["emotional-vulnerability-burnout"]})
    assert answer.selection == selection
    assert answer.study_iris == select_studies(context.evidence_map, selection)


# -- tolerance ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "question",
    [
        "Which ONLINE studies reported BURNOUT?",
        "which on-line studies reported burn-out",
        "which onlin studies reported burnuot",  # a deletion and a swap
        "which virtual studies reported emotional exhaustion",
        "online   studies,  burnout!!",
    ],
)
def test_ask_tolerates_case_punctuation_synonyms_and_typos(app: FastAPI, question: str) -> None:
    answer, refs = run(app, question)
    assert refs == [40, 42, 44, 45], (question, read_as(answer))


def test_ask_reports_its_spelling_corrections(app: FastAPI) -> None:
    answer, _ = run(app, "how many studies used psycoeducation")
    assert answer.total == 8
    assert [(c.word, c.corrected) for c in answer.corrections] == [("psycoeducation", "psychoeducation")]


def test_ask_plurals_are_singularised_on_both_sides(app: FastAPI) -> None:
    answer, _ = run(app, "studies with structured programmes and group discussions")
    assert read_as(answer) == {"structured programmes": "structured-manualized",
                               "group discussions": "structured-group-discussion"}


def test_ask_prefers_the_longest_match(app: FastAPI) -> None:
    answer, _ = run(app, "which studies reported online challenges")
    assert read_as(answer) == {"online challenges": "online-digital-challenges"}
    answer, _ = run(app, "studies in a community setting")
    assert read_as(answer) == {"community setting": "community-setting"}


def test_ask_facet_label_outside_the_question_position_means_any_value(app: FastAPI) -> None:
    answer, refs = run(app, "how many studies reported challenges")
    assert answer.intent == "count" and refs == [36, 39, 40, 41, 42, 44, 45]
    assert [m.used_as for m in answer.matches] == ["any value"]


def test_ask_years_are_values_of_the_year_facet(app: FastAPI) -> None:
    answer, refs = run(app, "studies published in 2022")
    assert refs == [38, 44, 45] and answer.selection.as_params() == {"year": ["2022"]}


def test_ask_homonyms_are_reported_as_alternatives(app: FastAPI) -> None:
    answer, _ = run(app, "emotion regulation skills")
    (match,) = answer.matches
    assert {match.target.facet.name, *(t.facet.name for t in match.alternatives)} == {"component", "outcome"}


# -- what it does not understand ---------------------------------------------------------------------------------


def test_ask_nothing_recognised_says_so_and_returns_nothing(app: FastAPI) -> None:
    answer, refs = run(app, "which studies used zumba")
    assert not answer.understood and refs == [] and answer.sparql is None
    assert "zumba" in answer.message and answer.suggestions


def test_ask_suggests_the_closest_concepts(app: FastAPI) -> None:
    answer, _ = run(app, "studies about loneliness and stigmatisation")
    assert answer.understood and answer.unknown == ["stigmatisation"]
    assert "stigma" in {s.label for s in answer.suggestions}


def test_ask_how_many_studies_alone_counts_them_all(app: FastAPI) -> None:
    answer, refs = run(app, "how many studies are there?")
    assert answer.understood and answer.intent == "count" and refs == list(range(35, 46))


@pytest.mark.parametrize("question", ["", "   ", "?" * 501])
def test_ask_empty_or_overlong_question_is_a_bad_request(app: FastAPI, question: str) -> None:
    with pytest.raises(BadRequest):
        run(app, question)


# -- the parser knows only the vocabulary ------------------------------------------------------------------------


def tiny_vocabulary(alt_labels: tuple[str, ...]) -> Vocabulary:
    scheme = "https://example.org/concept/delivery"
    telehealth = Concept(iri=scheme + "/telehealth", slug="telehealth", scheme=scheme, pref_label="telehealth",
                         alt_labels=alt_labels)
    facet = Facet(iri="https://example.org/facet-delivery", name="delivery", label="delivery", alt_labels=("mode",),
                  definition="", path=DELIVERY_PATH, order=1, scheme=scheme, concepts=(telehealth,))
    return Vocabulary(facets=(facet,))


def test_ask_a_label_added_to_the_vocabulary_is_understood() -> None:
    before = tiny_vocabulary(())
    assert not interpret("studies by teleconsultation", before, QuestionIndex.build(before)).understood
    after = tiny_vocabulary(("teleconsultation",))
    answer = interpret("studies by teleconsultations", after, QuestionIndex.build(after))
    assert answer.understood and answer.selection.as_params() == {"delivery": ["telehealth"]}


def test_ask_facet_labels_come_from_the_vocabulary() -> None:
    vocabulary = tiny_vocabulary(())
    answer = interpret("which modes did telehealth studies use", vocabulary, QuestionIndex.build(vocabulary))
    assert answer.intent == "values" and answer.values_facet is vocabulary.facets[0]


# -- helpers -----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("word", "expected"),
    [("studies", "study"), ("challenges", "challenge"), ("boundaries", "boundary"), ("approaches", "approach"),
     ("skills", "skill"), ("analysis", "analysis"), ("focus", "focus"), ("class", "class"), ("was", "was")],
)
def test_singular(word: str, expected: str) -> None:
    assert singular(word) == expected


@pytest.mark.parametrize(
    ("a", "b", "close"),
    [("burnout", "burnout", True), ("burnuot", "burnout", True), ("burnot", "burnout", True),
     ("burnoutt", "burnout", True), ("burnaut", "burnout", True), ("brunuot", "burnout", False),
     ("online", "offline", False)],
)
def test_damerau_levenshtein_at_most_one(a: str, b: str, close: bool) -> None:
    assert damerau_levenshtein_at_most_one(a, b) is close


def test_words_keep_the_original_spelling() -> None:
    assert words("Face-to-face groups’ outcomes") == [
        ("Face", "face"), ("to", "to"), ("face", "face"), ("groups", "group"), ("outcomes", "outcome")
    ]
