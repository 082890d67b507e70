"""The question parser (evidencemap.views.questions) on the bundled map, checked against the review's reference numbers,
and on tiny inline vocabularies to show that it knows only what the vocabulary says."""

from __future__ import annotations

import pytest
from fastapi import FastAPI

from evidencemap.errors import BadRequest
from evidencemap.model.facets import Selection, select_studies, sparql_select_studies
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


# -- negation, years, and/or, breakdowns, search, review-level counts (issue 10) ---------------------------------


def test_ask_negation_takes_the_concept_away_and_the_query_shown_says_so(app: FastAPI) -> None:
    answer, refs = run(app, "which studies did not report burnout")
    assert refs == [35, 36, 37, 38, 43] and answer.understanding == "understood"
    assert [m.used_as for m in answer.matches] == ["exclude"]
    assert answer.sparql is not None and "FILTER NOT EXISTS" in answer.sparql
    assert answer.study_iris == select_studies(app.state.context.evidence_map, answer.selection)
    assert answer.reading == "Studies without challenge emotional vulnerability and burnout."


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("online studies without burnout", [36, 38]),
        ("studies other than online ones", [35, 37, 39, 41, 43]),
        ("which studies reported no challenges", [35, 37, 38, 43]),  # any value of the facet
        ("in-person studies other than clinical ones", [43]),
        ("studies without burnout or misinformation", [35, 36, 37, 38, 43]),
        ("pre-post studies without a control group", [35, 44]),  # the label's own words do not swallow the cue
        ("studies whose schedule was not specified", [39]),  # nor does a cue inside a label fire
    ],
)
def test_ask_negation_forms(app: FastAPI, question: str, expected: list[int]) -> None:
    answer, refs = run(app, question)
    assert refs == expected and answer.understanding == "understood", (question, answer.reading)


@pytest.mark.parametrize(
    ("question", "expected", "reading"),
    [
        ("studies published after 2022", [35, 36, 37, 40, 42, 43], "Studies published after 2022."),
        ("studies before 2021", [39, 41], "Studies published before 2021."),
        ("studies since 2023", [35, 36, 37, 40, 42, 43], "Studies published since 2023."),
        ("studies published 2019-2021", [39, 41], "Studies published 2019 to 2021."),
        ("studies between 2020 and 2023", [37, 38, 39, 40, 43, 44, 45], "Studies published between 2020 and 2023."),
        ("studies published in 2023 or later", [35, 36, 37, 40, 42, 43], "Studies published in 2023 or later."),
        ("studies published in 2021", [], "Studies published in 2021."),  # a year the map has no study of
        ("online studies not published in 2022", [36, 40, 42], "Studies with delivery online, not published in 2022."),
    ],
)
def test_ask_years_are_compared_as_numbers(app: FastAPI, question: str, expected: list[int], reading: str) -> None:
    answer, refs = run(app, question)
    assert refs == expected and answer.understanding == "understood" and answer.reading == reading


def test_ask_reading_shows_every_part(app: FastAPI) -> None:
    answer, refs = run(app, "online studies without burnout published after 2022")
    assert answer.reading == ("Studies with delivery online, without challenge emotional vulnerability and burnout, "
                              "published after 2022.")
    assert refs == [36]


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("studies reporting hope and empowerment", [38, 39, 44]),
        ("studies reporting hope or empowerment", [38, 39, 41, 42, 44]),
        ("studies reporting both hope and personal growth", [38, 39]),
        ("online studies with burnout or role ambiguity", [40, 42, 44, 45]),
    ],
)
def test_ask_and_within_a_facet_means_both(app: FastAPI, question: str, expected: list[int]) -> None:
    answer, refs = run(app, question)
    assert refs == expected
    assert answer.study_iris == sparql_select_studies(app.state.context.evidence_map, answer.selection)


def test_ask_breakdown_gives_the_values_and_the_studies_of_each(app: FastAPI) -> None:
    answer, _ = run(app, "which studies by modality")
    assert answer.intent == "values" and answer.breakdown and answer.values_facet is not None
    by_ref = {r["s"]: int(r["ref"]) for r in app.state.context.evidence_map.select(
        "PREFIX evm: <https://w3id.org/evidencemap/ontology#> "
        "SELECT ?s ?ref WHERE { ?s a evm:IncludedStudy ; evm:referenceNumber ?ref }")}
    labels = {c.iri: c.pref_label for c in answer.values_facet.concepts}
    assert {labels[k]: sorted(by_ref[s] for s in iris) for k, iris in answer.groups} == {
        "structured and manualized programme": [35, 36, 37, 42, 44],
        "community-based peer group": [38, 39, 40, 41, 43, 45],
    }
    counted, _ = run(app, "how many studies per year")
    assert counted.breakdown and not counted.groups and dict(counted.values)["2022"] == 3


@pytest.mark.parametrize(
    ("question", "expected"),
    [("studies by Grenyer", [36, 38, 39, 44]), ("studies by Grenyr", [36, 38, 39, 44]), ("AIR Peers", [36]),
     ("Bates 2023", [40]), ("online studies by Grenyer", [36, 38, 44]), ("studies in L'Encephale", [35])],
)
def test_ask_leftover_words_search_the_studies(app: FastAPI, question: str, expected: list[int]) -> None:
    answer, refs = run(app, question)
    assert refs == expected and answer.understanding == "understood" and answer.search_words


def test_ask_a_name_no_study_has_is_not_understood(app: FastAPI) -> None:
    answer, refs = run(app, "studies by Linehan")
    assert answer.understanding == "not" and answer.unknown == ["Linehan"] and refs == []


def test_ask_words_the_map_cannot_answer_make_it_partly_understood_without_a_count(app: FastAPI) -> None:
    answer, refs = run(app, "does peer support reduce self-harm compared with DBT")
    assert answer.understanding == "partly" and answer.headline_count is None
    assert answer.unknown == ["reduce", "self-harm", "compared"] and refs == [36]
    assert "reduce, self-harm, compared" in answer.message and "effect sizes" in answer.can_answer
    assert "peer" in answer.topic and "support" in answer.topic  # the review's keywords narrow nothing


def test_ask_a_corrected_word_is_never_also_unknown(app: FastAPI) -> None:
    for question in ("peer workrs outcomes", "workrs outcomes", "which onlin studies reported burnuot zumba"):
        answer, _ = run(app, question)
        assert not {c.word for c in answer.corrections} & set(answer.unknown), question


def test_ask_the_review_count_stands_when_the_map_names_no_study(app: FastAPI) -> None:
    answer, refs = run(app, "studies from the UK")
    assert refs == [] and answer.review_count == 2 and answer.headline_count == 2
    assert "2 studies" in answer.message and "3.2" in answer.message and "United Kingdom (n=2)" in answer.message
    by_country, _ = run(app, "studies by country")
    labels = {c.iri: c.pref_label for c in app.state.context.vocabulary.facet("country").concepts}
    assert {labels[k]: n for k, n in by_country.review_values} == {
        "United Kingdom": 2, "Mexico": 1, "South Africa": 1, "Spain": 1, "France": 1}


def test_ask_the_index_and_the_sparql_agree_on_exclusions_and_searches(app: FastAPI) -> None:
    evidence_map = app.state.context.evidence_map
    for question in ("community groups without psychoeducation", "studies by Barr without burnout",
                     "qualitative studies published after 2020 excluding Australia",
                     "studies neither online nor hybrid"):
        answer, _ = run(app, question)
        assert select_studies(evidence_map, answer.selection) == answer.study_iris, question


def year_vocabulary() -> Vocabulary:
    facet = Facet(iri="https://example.org/facet-year", name="when", label="when", alt_labels=(), definition="",
                  path=("https://example.org/year",), order=1, datatype="http://www.w3.org/2001/XMLSchema#gYear")
    return Vocabulary(facets=(tiny_vocabulary(()).facets[0], facet))


def test_ask_years_are_read_on_the_facet_whose_datatype_is_a_year() -> None:
    vocabulary = year_vocabulary()
    index = QuestionIndex.build(vocabulary, {"when": ["1999", "2001", "2003"]})
    answer = interpret("telehealth studies after 2000", vocabulary, index)
    assert answer.selection.as_params() == {"delivery": ["telehealth"], "when": ["2001", "2003"]}
    without_years = tiny_vocabulary(())
    assert not interpret("studies after 2000", without_years, QuestionIndex.build(without_years)).understood


def test_ask_topic_words_come_from_the_map_not_the_parser() -> None:
    vocabulary = tiny_vocabulary(())
    plain = interpret("telehealth programmes", vocabulary, QuestionIndex.build(vocabulary))
    assert plain.understanding == "partly" and plain.unknown == ["programmes"]
    topical = interpret("telehealth programmes", vocabulary,
                        QuestionIndex.build(vocabulary, topics=["telehealth programmes"]))
    assert topical.understanding == "understood" and topical.topic == ["programmes"]


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
