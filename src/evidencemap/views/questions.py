"""A plain-English question -> the facets it names -> the same query as the study list.

No language model and no network: the question's words are matched against every concept's preferred, alternative
and hidden labels and every facet's labels, all read from the vocabulary. Matching ignores case and punctuation,
reduces plurals to the singular (simple English rules) and forgives one typing slip (a Damerau-Levenshtein distance
of 1) in words of five letters or more; when phrases overlap the longest wins. Three intents are recognised:

* "how many ..." -> the number of matching studies;
* "what / which <facet> ..." ("what challenges did online studies report?") -> the values of that facet among the
  matching studies, with how many studies have each;
* anything else -> the matching studies.

Concepts of one facet are OR-ed and different facets AND-ed, exactly as in ``/api/studies``: the question becomes a
:class:`facets.Selection`, and the answer is what the SPARQL of :mod:`evidencemap.model.facets` for it returns.
That SPARQL is run here (not the facet index that serves ``/api/studies`` the same studies faster), so the query an
answer shows is the query that ran. A question in which nothing is recognised is answered with that fact and the
closest labels, never with every study.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from evidencemap.errors import BadRequest
from evidencemap.graph.store import EvidenceMap
from evidencemap.model.facets import (
    Choice,
    Selection,
    counts_query,
    facet_counts,
    sparql_facet_counts,
    sparql_select_studies,
    studies_query,
)
from evidencemap.model.study_query import StudyQuery
from evidencemap.model.vocabulary import Concept, Facet, Vocabulary

MAX_QUESTION_LENGTH = 500


def singular(word: str) -> str:
    """A simple English singular, applied alike to labels and to questions (so it need only be consistent).

    >>> [singular(w) for w in ("studies", "classes", "approaches", "status", "outcomes", "sms", "2022")]
    ['study', 'class', 'approach', 'status', 'outcome', 'sms', '2022']
    """
    if len(word) <= 3 or word.isdigit():
        return word
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith("sses") or word.endswith(("ches", "shes", "xes")):
        return word[:-2]
    if word.endswith(("ss", "us", "is")):
        return word
    if word.endswith("s"):
        return word[:-1]
    return word


# Words that never name a concept on their own (a rule of English questions, not of any vocabulary). They still
# count inside a longer label ("need for training"), and a facet label among them ("where") counts only where a
# question asks for that facet's values.
def _word_set(text: str) -> frozenset[str]:
    return frozenset(singular(w) for w in text.split())


STOP_WORDS = _word_set(
    """
    a about above after all also am an and any are as at be been before being both but by can could did do does doing
    done during each either for from had has have having he her here him his how i if in into is it its just like many
    me more most much my no nor not of off on or other our out over own please report reported reporting same she
    should show so some such study tell than that the their them then there these they this those through to too under
    up use used using very was we were what when where which while who whom why will with would you your list give
    find paper article review included include includes involve involved involving mention mentioned describe
    described look looked examine examined deliver delivered delivering publish published conduct conducted run held
    offer offered provide provided evaluate evaluated studied shown found say said tested
    """
)
# Words that may stand between "what"/"which"/"how many" (or the start of the question) and a facet label when the
# question asks for the values of that facet: "what are the main challenges ...".
INTENT_FILLERS = _word_set(
    """
    what which how many much number of the a an are were is was kind type sort main most common list show me give tell
    all did do does have has had been there please different specific
    """
)
COUNT_CUES = (("how", "many"), ("how", "much"), ("number", "of"), ("count",))
TYPO_MIN_LENGTH = 5

_WORD = re.compile(r"[a-z0-9]+")


def words(text: str) -> list[tuple[str, str]]:
    """(original word, normalised word) pairs: lower case, apostrophes dropped, punctuation splitting, singular."""
    cleaned = text.replace("'", "").replace("\u2019", "")
    out = []
    for m in _WORD.finditer(cleaned.lower()):
        out.append((cleaned[m.start():m.end()], singular(m.group())))
    return out


def damerau_levenshtein_at_most_one(a: str, b: str) -> bool:
    """Whether ``a`` becomes ``b`` by at most one insertion, deletion, substitution or swap of neighbours."""
    if a == b:
        return True
    la, lb = len(a), len(b)
    if abs(la - lb) > 1:
        return False
    i = 0
    while i < min(la, lb) and a[i] == b[i]:
        i += 1
    if la == lb:
        if a[i + 1:] == b[i + 1:]:
            return True
        return i + 1 < la and a[i] == b[i + 1] and a[i + 1] == b[i] and a[i + 2:] == b[i + 2:]
    return a[i + 1:] == b[i:] if la > lb else a[i:] == b[i + 1:]


@dataclass(frozen=True)
class Target:
    """What a phrase can mean: a concept of a facet, a literal value of a facet (a year), or the facet itself."""

    kind: str  # "concept" | "value" | "facet"
    facet: Facet
    concept: Concept | None = None
    literal: str | None = None
    label: str = ""
    rank: int = 0  # 0 preferred label, 1 alternative, 2 hidden: the tie-break between homonyms

    @property
    def key(self) -> str:
        return self.concept.iri if self.concept else f"{self.facet.iri}|{self.literal or ''}"


@dataclass
class QuestionIndex:
    """Every label of the vocabulary, normalised, with what it means."""

    phrases: dict[tuple[str, ...], list[Target]]
    known_words: frozenset[str]
    longest: int

    @classmethod
    def build(cls, vocabulary: Vocabulary, literal_values: Mapping[str, Sequence[str]] | None = None) -> QuestionIndex:
        phrases: dict[tuple[str, ...], list[Target]] = {}

        def add(label: str, target: Target) -> None:
            key = tuple(w for _, w in words(label))
            if key and all(t.key != target.key or t.kind != target.kind for t in phrases.get(key, [])):
                phrases.setdefault(key, []).append(target)

        for facet in vocabulary.facets:
            for label in (facet.label, *facet.alt_labels):
                add(label, Target("facet", facet, label=label))
            for concept in facet.concepts:
                add(concept.pref_label, Target("concept", facet, concept, label=concept.pref_label))
                for rank, labels in ((1, concept.alt_labels), (2, concept.hidden_labels)):
                    for label in labels:
                        add(label, Target("concept", facet, concept, label=label, rank=rank))
            for value in (literal_values or {}).get(facet.name, ()):
                add(value, Target("value", facet, literal=value, label=value))
        for targets in phrases.values():
            targets.sort(key=lambda t: (t.rank, t.kind != "concept", t.facet.order))
        known = frozenset(w for key in phrases for w in key)
        return cls(phrases, known, max((len(k) for k in phrases), default=1))


@dataclass(frozen=True)
class Match:
    """Question words that were read as a concept, a value or a facet."""

    start: int
    end: int
    text: str
    target: Target
    alternatives: tuple[Target, ...] = ()
    used_as: str = "filter"  # "filter" | "any value" | "question"


@dataclass(frozen=True)
class Correction:
    word: str
    corrected: str


@dataclass(frozen=True)
class Suggestion:
    facet: Facet
    concept: Concept
    label: str


@dataclass
class Answer:
    """The interpretation of a question and what it found."""

    question: str
    intent: str  # "studies" | "count" | "values"
    understood: bool
    matches: list[Match]
    ignored: list[str]
    unknown: list[str]
    corrections: list[Correction]
    selection: Selection
    values_facet: Facet | None = None
    study_iris: list[str] = field(default_factory=list)
    values: list[tuple[str, int]] = field(default_factory=list)
    without_value: int | None = None
    sparql: str | None = None
    values_sparql: str | None = None
    message: str = ""
    suggestions: list[Suggestion] = field(default_factory=list)

    @property
    def total(self) -> int:
        return len(self.study_iris)


def _correct(tokens: list[str], index: QuestionIndex) -> tuple[list[str], list[Correction]]:
    corrected, corrections = list(tokens), []
    for i, token in enumerate(tokens):
        if token in index.known_words or token in STOP_WORDS or len(token) < TYPO_MIN_LENGTH or token.isdigit():
            continue
        candidates = sorted(
            w for w in index.known_words
            if len(w) >= TYPO_MIN_LENGTH - 1 and damerau_levenshtein_at_most_one(token, w)
        )
        if candidates:
            best = sorted(candidates, key=lambda w: (w[0] != token[0], w))[0]
            corrected[i] = best
            corrections.append(Correction(token, best))
    return corrected, corrections


def _spans(tokens: list[str], index: QuestionIndex) -> list[Match]:
    """Non-overlapping matches, longest first (then leftmost)."""
    candidates = []
    for i in range(len(tokens)):
        for j in range(i + 1, min(len(tokens), i + index.longest) + 1):
            targets = index.phrases.get(tuple(tokens[i:j]))
            if not targets:
                continue
            if j - i == 1 and tokens[i] in STOP_WORDS:
                targets = [t for t in targets if t.kind == "facet"]
                if not targets:
                    continue
            candidates.append((i, j, targets))
    candidates.sort(key=lambda c: (-(c[1] - c[0]), c[0]))
    taken: set[int] = set()
    chosen = []
    for i, j, targets in candidates:
        if taken.intersection(range(i, j)):
            continue
        taken.update(range(i, j))
        chosen.append(Match(i, j, "", targets[0], tuple(targets[1:])))
    return sorted(chosen, key=lambda m: m.start)


def _has_count_cue(tokens: list[str]) -> bool:
    return any(tuple(tokens[i:i + len(cue)]) == cue for cue in COUNT_CUES for i in range(len(tokens)))


def interpret(question: str, vocabulary: Vocabulary, index: QuestionIndex) -> Answer:
    """Read the question into matches, an intent and a selection (no query is run).

    :raises BadRequest: for an empty or overlong question.
    """
    text = question.strip()
    if not text:
        raise BadRequest(
            "The question is empty.",
            hint="Ask in plain English with the words of the map's concepts (see /api/facets), e.g. 'how many ...'.",
        )
    if len(text) > MAX_QUESTION_LENGTH:
        raise BadRequest(f"The question is {len(text)} characters long; keep it under {MAX_QUESTION_LENGTH}.")
    pairs = words(text)
    originals = [o for o, _ in pairs]
    tokens, corrections = _correct([w for _, w in pairs], index)
    spans = _spans(tokens, index)

    # The facet whose values are asked for: a facet label with only intent words before it.
    values_match: Match | None = None
    if spans and spans[0].target.kind == "facet" and all(t in INTENT_FILLERS for t in tokens[: spans[0].start]):
        values_match = spans[0]
    named_facets = {m.target.facet.name for m in spans if m.target.kind != "facet"}
    matches: list[Match] = []
    for m in spans:
        text_span = " ".join(originals[m.start:m.end])
        if m is values_match:
            matches.append(Match(m.start, m.end, text_span, m.target, m.alternatives, "question"))
        elif m.target.kind != "facet":
            matches.append(Match(m.start, m.end, text_span, m.target, m.alternatives, "filter"))
        elif (
            not (m.end - m.start == 1 and tokens[m.start] in STOP_WORDS)
            and m.target.facet.is_concept_facet
            and m.target.facet.name not in named_facets | {x.target.facet.name for x in matches}
        ):
            matches.append(Match(m.start, m.end, text_span, m.target, m.alternatives, "any value"))
    used = {i for m in matches for i in range(m.start, m.end)}
    ignored = [originals[i] for i in range(len(tokens)) if i not in used]
    unknown = [originals[i] for i in range(len(tokens)) if i not in used and tokens[i] not in STOP_WORDS
               and tokens[i] not in INTENT_FILLERS]

    selection = _selection(matches)
    intent = "values" if values_match else "count" if _has_count_cue(tokens) else "studies"
    understood = bool(matches) or (intent == "count" and not unknown)
    answer = Answer(
        question=text, intent=intent, understood=understood, matches=matches, ignored=ignored, unknown=unknown,
        corrections=corrections, selection=selection, values_facet=values_match.target.facet if values_match else None,
    )
    if not understood:
        answer.message = (
            "No concept of the map was recognised in this question, so nothing was searched."
            if not unknown else
            f"No concept of the map was recognised in this question (not recognised: {', '.join(unknown)}), "
            "so nothing was searched."
        )
        answer.suggestions = suggest(unknown or originals, vocabulary, fallback=True)
    elif unknown:
        answer.suggestions = suggest(unknown, vocabulary)
        answer.message = f"Not recognised, so not used: {', '.join(unknown)}." + (
            " Did you mean one of the suggested concepts?" if answer.suggestions else ""
        )
    return answer


def _selection(matches: list[Match]) -> Selection:
    """Concepts (and years) of one facet OR-ed, facets AND-ed; the facet asked about is not a filter."""
    concepts: dict[str, list[Concept]] = {}
    literals: dict[str, list[str]] = {}
    facets: dict[str, Facet] = {}
    for m in matches:
        if m.used_as == "question":
            continue
        facet = m.target.facet
        facets[facet.name] = facet
        if m.used_as == "any value":
            concepts.setdefault(facet.name, []).extend(facet.children(None))
        elif m.target.concept is not None:
            concepts.setdefault(facet.name, []).append(m.target.concept)
        elif m.target.literal is not None:
            literals.setdefault(facet.name, []).append(m.target.literal)
    choices = [
        Choice(facets[name], concepts=tuple(dict.fromkeys(concepts.get(name, []))),
               literals=tuple(dict.fromkeys(literals.get(name, []))))
        for name in facets
    ]
    return Selection(tuple(sorted(choices, key=lambda c: c.facet.order)))


def _closeness(word: str, label: str) -> float:
    """How close a typed word is to a label or to one of its words: difflib's ratio, or 0.8 when one starts with
    the other ("stigmatisation" and "stigma")."""
    best = difflib.SequenceMatcher(None, word, label).ratio()
    for part in {label, *label.split()}:
        if len(part) >= 4 and len(word) >= 4 and (word.startswith(part) or part.startswith(word)):
            best = max(best, 0.8)
        best = max(best, difflib.SequenceMatcher(None, word, part).ratio() if len(part) >= 4 else 0.0)
    return best


def suggest(
    unknown: Sequence[str], vocabulary: Vocabulary, *, fallback: bool = False, limit: int = 8
) -> list[Suggestion]:
    """Concepts whose labels are closest to the words that were not recognised; with ``fallback``, the first top
    concept of every facet when no label is close."""
    labels: dict[str, tuple[Facet, Concept]] = {}
    for facet in vocabulary.concept_facets:
        for concept in facet.concepts:
            for label in concept.labels:
                labels.setdefault(label.lower(), (facet, concept))
    scored: list[tuple[float, str]] = []
    for word in (w.lower() for w in unknown):
        scored.extend((score, label) for label in labels if (score := _closeness(word, label)) >= 0.8)
    found: dict[str, Suggestion] = {}
    for _, label in sorted(scored, key=lambda sl: (-sl[0], len(sl[1]), sl[1])):
        facet, concept = labels[label]
        found.setdefault(concept.iri, Suggestion(facet, concept, label))
    if not found and fallback:
        for facet in vocabulary.concept_facets:
            top = facet.children(None)
            if top:
                found.setdefault(top[0].iri, Suggestion(facet, top[0], top[0].pref_label))
    return list(found.values())[:limit]


def literal_values(evidence_map: EvidenceMap, vocabulary: Vocabulary) -> dict[str, list[str]]:
    """The values of the facets that are not concept schemes (years), as the map holds them."""
    return {
        f.name: sorted(facet_counts(evidence_map, f, Selection()))
        for f in vocabulary.facets
        if not f.is_concept_facet
    }


def ask(
    question: str, evidence_map: EvidenceMap, vocabulary: Vocabulary, index: QuestionIndex | None = None
) -> Answer:
    """Interpret ``question`` and run the study query it names (and the facet counts, for a values question).

    :raises BadRequest: for an empty or overlong question.
    """
    if index is None:
        # The values of literal facets (years) are read from the map only when the question has a number in it.
        has_number = any(w.isdigit() for _, w in words(question))
        index = QuestionIndex.build(vocabulary, literal_values(evidence_map, vocabulary) if has_number else None)
    answer = interpret(question, vocabulary, index)
    if not answer.understood:
        return answer
    answer.sparql = studies_query(answer.selection)
    answer.study_iris = sparql_select_studies(evidence_map, answer.selection)  # runs answer.sparql
    if answer.values_facet is not None:
        facet = answer.values_facet
        answer.values_sparql = counts_query(facet, answer.selection)
        counts = sparql_facet_counts(evidence_map, facet, answer.selection)  # runs answer.values_sparql
        order = {c.iri: c.order for c in facet.concepts}
        answer.values = sorted(counts.items(), key=lambda kv: (-kv[1], order.get(kv[0], 0), kv[0]))
        rows = evidence_map.select(without_value_query(facet, answer.selection))
        answer.without_value = int(str(rows[0]["n"])) if rows else 0
    return answer


def without_value_query(facet: Facet, selection: Selection) -> str:
    """How many of the studies matching ``selection`` have no value of ``facet`` in the map."""
    missing = f"FILTER NOT EXISTS {{ ?study {facet.sparql_path()} ?value }}"
    return StudyQuery("(COUNT(DISTINCT ?study) AS ?n)", selection.terms(), patterns=[missing]).text()
