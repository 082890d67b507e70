"""A plain-English question -> the facets it names -> the same query as the study list.

No language model and no network: the question's words are matched against every concept's preferred, alternative
and hidden labels and every facet's labels, all read from the vocabulary. Matching ignores case, accents and
punctuation, reduces plurals to the singular (simple English rules) and forgives one typing slip (a
Damerau-Levenshtein distance of 1) in words of five letters or more; when phrases overlap the longest wins. Words of a
matched concept's own labels next to it ("skepticism toward peer roles") belong to the match.

Besides the concepts, a question is read for what clinicians type (the English of it lives here, the topic words
in the map):

* negation ("not", "did not report", "without", "excluding", "other than", "no challenges"): the concept, or any
  value of the named facet, is taken away from the rest of the selection;
* years, on the facet whose datatype is ``xsd:gYear`` (:mod:`evidencemap.views.question_years`): after, before,
  since, until, between, ranges;
* "and" between two values of one facet means both; "or", or nothing, means either;
* intents: "how many ..." -> a count; "what / which <facet> ..." -> the values of that facet; "... by / per / each
  <facet>" -> a breakdown (the values, and the studies of each value unless a count was asked);
* words left over are searched among the studies' authors, titles, programme and manual names and journals
  (:mod:`evidencemap.model.search`), and the studies found are ANDed with the rest;
* the review's topic words (its keywords and subject terms in the map: "peer support", "BPD") narrow nothing.

A question is "understood", "partly" understood (content words matched nothing: the answer names them and shows no
headline count) or "not" understood (nothing was recognised: nothing is searched). The question becomes a
:class:`facets.Selection`, and the answer is what the SPARQL of :mod:`evidencemap.model.facets` for it returns: that
SPARQL is run here (not the facet index that serves ``/api/studies`` the same studies faster), so the query an answer
shows is the query that ran. When the review states a count without naming the studies (``evm:NotAttributable``
claims: "the United Kingdom (n=2)"), the answer states the review's count, words and section, never "none".
"""

from __future__ import annotations

import dataclasses
import difflib
import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from evidencemap import namespaces as ns
from evidencemap.errors import BadRequest
from evidencemap.graph.store import EvidenceMap
from evidencemap.model.facets import (
    Choice,
    Selection,
    counts_query,
    facet_counts,
    matching_studies,
    studies_query,
)
from evidencemap.model.recorded import not_recorded_sentence, unrecorded_facets
from evidencemap.model.review_counts import ReviewCount, review_counts
from evidencemap.model.search import SearchIndex, normalise, search_index_of, within_one_edit
from evidencemap.model.study_query import StudyQuery, value_path
from evidencemap.model.vocabulary import Concept, Facet, Vocabulary, load_vocabulary
from evidencemap.views.question_years import YearRange, read_years, spell_ranges, year_facet

MAX_QUESTION_LENGTH = 500
UNDERSTOOD, PARTLY, NOT_UNDERSTOOD = "understood", "partly", "not"
# Read, but about a facet the map does not record (model/recorded.py): no count, no list, never "0 studies".
NOT_RECORDED = "not recorded"


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
# Words of English that carry no content in a question to a map of studies (besides the stop words above).
FILLER_WORDS = _word_set(
    """
    ones one im looking research whose people person individual patient someone anyone
    count counting last lasted lasting take took taking got get gotten
    dont didnt doesnt wasnt werent isnt arent hasnt havent hadnt without excluding exclude except never non neither
    later earlier since until till between prior onward onwards rather apart per every across broken grouped split
    paper article author authored written wrote publication journal title titled called named may might must shall
    """
)  # not "programme" or "intervention": the map's topic words say what its studies are (QuestionIndex.topic_words)
COUNT_CUES = (("how", "many"), ("how", "much"), ("number", "of"), ("count",))
# Negation: the next concept (or facet, or years) is taken away from the selection.
NEGATION_WORDS = frozenset({"not", "no", "without", "excluding", "exclude", "except", "never", "non", "neither",
                            "nor", "dont", "didnt", "doesnt", "wasnt", "werent", "isnt", "arent", "hasnt", "havent",
                            "hadnt"})
NEGATION_PAIRS = (("other", "than"), ("apart", "from"), ("rather", "than"), ("except", "for"))
# The words that shape a question, as a typing slip may reach them ("wich", "waht", "hwo many", "stuides"): a word
# no label of the map and no study is one slip from is read as the nearest of these. Never a negation (a slip must
# not turn a question around); a word under five letters only by a swap of neighbours or a missing letter, so that
# short words of their own ("care", "cost") stay what they are.
QUESTION_WORDS = ("which", "what", "how", "many", "much", "where", "when", "who", "study", "studies", "report",
                  "reported", "reporting", "number", "list", "show", "tell", "give", "please")
# "vs", "versus", "compared with": two values of one facet side by side, answered by counting the studies of each.
COMPARISON_WORDS = frozenset({"vs", "versus", "compared", "comparing", "compare", "comparison"})
# "show me everything", "all studies", "list the studies": the whole map.
ALL_CUES = frozenset({"all", "everything", "every", "list", "show", "entire", "whole", "any", "anything"})
# Between two values of one facet: both ("and"), either ("or", or nothing).
BOTH_WORDS = frozenset({"and", "both", "plus"})
EITHER_WORDS = frozenset({"or", "either", "nor", "neither"})
# Before a facet label: a breakdown of the answer by that facet's values.
BREAKDOWN_CUES = (("by",), ("per",), ("each",), ("every",), ("across",), ("by", "the"), ("for", "each"),
                  ("for", "every"), ("by", "each"))
TYPO_MIN_LENGTH = 5
# What a map of this kind holds, for an answer that had to leave words out.
CAN_ANSWER = ("The map records, for each study, its {facets}, as the review reports them: it can list and count "
              "studies by those, not give effect sizes, safety verdicts, comparisons between treatments or "
              "participants' details.")

_WORD = re.compile(r"[a-z0-9]+")


def _plain(text: str) -> str:
    """``text`` without accents and apostrophes: "didn't" -> "didnt", "L'Encéphale" -> "L Encephale", "Ridolfi's"
    -> "Ridolfi"."""
    text = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
    text = text.replace("\u2019", "'")
    text = re.sub(r"(?i)n't\b", "nt", text)
    text = re.sub(r"(?i)'s\b", "", text)
    return text.replace("'", " ")


def words(text: str) -> list[tuple[str, str]]:
    """(original word, normalised word) pairs: lower case, accents and apostrophes dropped, punctuation splitting,
    singular."""
    cleaned = _plain(text)
    out = []
    for m in _WORD.finditer(cleaned.lower()):
        out.append((cleaned[m.start():m.end()], singular(m.group())))
    return out


def damerau_levenshtein_at_most_one(a: str, b: str) -> bool:
    """Whether ``a`` becomes ``b`` by at most one insertion, deletion, substitution or swap of neighbours."""
    return within_one_edit(a, b)


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


def _label_words(label: str) -> tuple[str, ...]:
    return tuple(w for _, w in words(label))


@dataclass
class QuestionIndex:
    """Every label of the vocabulary, normalised, with what it means; with a map, its years, its topic words and its
    study search."""

    phrases: dict[tuple[str, ...], list[Target]]
    known_words: frozenset[str]
    longest: int
    literal_values: dict[str, list[str]] = field(default_factory=dict)
    topic_words: frozenset[str] = frozenset()
    search: SearchIndex | None = None
    year_facet: Facet | None = None
    concept_words: dict[str, frozenset[str]] = field(default_factory=dict)  # concept IRI -> words of its labels
    # The labels of the concepts of a facet's scheme that the facet does not list (evm:listsOnlyValuesInUse: a
    # country no study has): matched as typed only, never as a typing slip's correction.
    unused: dict[tuple[str, ...], list[Target]] = field(default_factory=dict)

    @classmethod
    def build(
        cls, vocabulary: Vocabulary, literal_values: Mapping[str, Sequence[str]] | None = None, *,
        topics: Sequence[str] = (), search: SearchIndex | None = None,
    ) -> QuestionIndex:
        phrases: dict[tuple[str, ...], list[Target]] = {}
        years = year_facet(vocabulary)

        def add(label: str, target: Target) -> None:
            key = _label_words(label)
            if key and all(t.key != target.key or t.kind != target.kind for t in phrases.get(key, [])):
                phrases.setdefault(key, []).append(target)

        concept_words: dict[str, frozenset[str]] = {}
        for facet in vocabulary.facets:
            facet_words = {w for label in (facet.label, *facet.alt_labels) for w in _label_words(label)}
            for label in (facet.label, *facet.alt_labels):
                add(label, Target("facet", facet, label=label))
            for concept in facet.concepts:
                add(concept.pref_label, Target("concept", facet, concept, label=concept.pref_label))
                for rank, labels in ((1, concept.alt_labels), (2, concept.hidden_labels)):
                    for label in labels:
                        add(label, Target("concept", facet, concept, label=label, rank=rank))
                related = facet.ancestors(concept)
                concept_words[concept.iri] = frozenset(
                    facet_words | {w for c in related for label in c.labels for w in _label_words(label)}
                )
            if facet is not years:
                for value in (literal_values or {}).get(facet.name, ()):
                    add(value, Target("value", facet, literal=value, label=value))
        for targets in phrases.values():
            targets.sort(key=lambda t: (t.rank, t.kind != "concept", t.facet.order))
        known = frozenset(w for key in phrases for w in key)
        topic_words = frozenset(w for t in topics for w in _label_words(t) if w not in STOP_WORDS and len(w) > 1)
        return cls(phrases, known, max((len(k) for k in phrases), default=1),
                   {k: list(v) for k, v in (literal_values or {}).items()}, topic_words, search, years, concept_words)

    def add_unused(self, vocabulary: Vocabulary, whole: Vocabulary) -> None:
        """Add the concepts of ``whole`` (the vocabulary with every value) that ``vocabulary``'s facets marked
        evm:listsOnlyValuesInUse leave out, as targets of those facets."""
        for facet in vocabulary.facets:
            if not facet.only_values_in_use:
                continue
            listed = {c.iri for c in facet.concepts}
            full = next((f for f in whole.facets if f.name == facet.name), None)
            for concept in full.concepts if full is not None else ():
                if concept.iri in listed:
                    continue
                for rank, labels in ((0, (concept.pref_label,)), (1, concept.alt_labels)):
                    for label in labels:
                        key = _label_words(label)
                        if key and not (len(key) == 1 and key[0] in STOP_WORDS):
                            self.unused.setdefault(key, []).append(
                                Target("concept", facet, concept, label=label, rank=rank))
        self.longest = max([self.longest, *(len(k) for k in self.unused)])

    def is_unused(self, target: Target) -> bool:
        """Whether ``target`` is a concept its facet does not list (no study of the map has it)."""
        return target.concept is not None and target.facet.only_values_in_use and all(
            c.iri != target.concept.iri for c in target.facet.concepts)


@dataclass(frozen=True)
class Match:
    """Question words that were read as a concept, a value or a facet."""

    start: int
    end: int
    text: str
    target: Target
    alternatives: tuple[Target, ...] = ()
    used_as: str = "filter"  # "filter" | "any value" | "question" | "exclude"


@dataclass(frozen=True)
class Correction:
    word: str
    corrected: str


@dataclass(frozen=True)
class Suggestion:
    facet: Facet
    concept: Concept
    label: str


@dataclass(frozen=True)
class YearReading:
    """Years of the question, as read: the words, the bounds, the map's years they cover, and whether excluded."""

    text: str
    low: int | None
    high: int | None
    years: tuple[str, ...]
    excluded: bool = False
    either: bool = False  # joined to the years before by "or"


@dataclass
class Answer:
    """The interpretation of a question and what it found."""

    question: str
    intent: str  # "studies" | "count" | "values"
    understood: bool  # False when nothing was recognised (understanding "not"): nothing was searched
    matches: list[Match]
    ignored: list[str]
    unknown: list[str]
    corrections: list[Correction]
    selection: Selection
    values_facet: Facet | None = None
    study_iris: Sequence[str] = field(default_factory=list)  # facets.Listed: each IRI looked up when read
    values: list[tuple[str, int]] = field(default_factory=list)
    without_value: int | None = None
    sparql: str | None = None
    values_sparql: str | None = None
    message: str = ""
    suggestions: list[Suggestion] = field(default_factory=list)
    understanding: str = UNDERSTOOD  # "understood" | "partly" | "not" | "not recorded"
    not_recorded: list[Facet] = field(default_factory=list)  # facets asked about that the map does not record
    years: list[YearReading] = field(default_factory=list)
    search_words: list[str] = field(default_factory=list)  # words found by the study search
    topic: list[str] = field(default_factory=list)  # words of the review's topic (they narrow nothing)
    breakdown: bool = False  # "... by <facet>": the values, and (unless a count was asked) the studies of each
    lists_groups: bool = False  # a breakdown that lists the studies of each value
    groups: list[tuple[str, list[str]]] = field(default_factory=list)  # value key -> study IRIs, for a breakdown
    groups_sparql: str | None = None
    review_counts: list[ReviewCount] = field(default_factory=list)  # the review's counts the map does not name
    review_values: list[tuple[str, int]] = field(default_factory=list)  # concept IRI -> the review's unnamed count
    unused: list[Match] = field(default_factory=list)  # concepts asked for that no study of the map has
    no_headline: bool = False  # "none" would claim more than the map and the review say
    can_answer: str = ""  # what the map can answer instead, when words were left out

    @property
    def total(self) -> int:
        return len(self.study_iris)

    @property
    def review_count(self) -> int | None:
        """The review's own count of the studies asked about, when it states one without naming them."""
        return sum(r.stated for r in self.review_counts) if self.review_counts else None

    @property
    def headline_count(self) -> int | None:
        """The number an answer states: the matching studies, or the review's count when the map can name none of
        them; none for an answer not fully understood or about a facet the map does not record."""
        if self.understanding != UNDERSTOOD or self.no_headline:
            return None
        if not self.study_iris and self.review_count:
            return self.review_count
        return self.total

    @property
    def reading(self) -> str:
        """Every part of the reading in words: "Studies with delivery online, without challenge burnout, published
        after 2022."."""
        return describe(self)


def describe(answer: Answer) -> str:
    """The interpretation in one sentence."""
    if answer.understanding == NOT_UNDERSTOOD:
        return "Nothing in the question was recognised."
    positive = []
    for choice in answer.selection.choices:
        if not choice.facet.is_concept_facet and answer.years:
            continue  # said by the years' own words below
        names = [c.pref_label for c in choice.concepts] or list(choice.literals)
        if any(m.used_as == "any value" and m.target.facet is choice.facet for m in answer.matches):
            positive.append(f"any {choice.facet.label}")
        else:
            positive.append(f"{choice.facet.label} {' or '.join(names)}")
    parts = ["with " + " and ".join(positive)] if positive else []
    for m in answer.matches:
        if m.used_as == "exclude":
            name = m.target.concept.pref_label if m.target.concept else f"any {m.target.facet.label}"
            parts.append(f"without {m.target.facet.label} {name}" if m.target.concept else f"without {name}")
    for y in answer.years:
        said = ("not " if y.excluded else "") + f"published {_year_words(y)}"
        if y.either and parts:
            parts[-1] += f" or {_year_words(y)}"
        else:
            parts.append(said)
    if answer.search_words:
        parts.append("found by searching their authors, titles and programmes for " +
                     " ".join(f"“{w}”" for w in answer.search_words))
    scope = "studies " + ", ".join(parts) if parts else "included studies"
    if answer.intent == "count" and not answer.breakdown:
        sentence = f"How many {scope}"
    elif answer.intent == "values" and answer.values_facet is not None:
        label = answer.values_facet.label
        if answer.lists_groups:
            sentence = f"{scope} by {label}: the studies of each {label}"
        elif answer.breakdown:
            sentence = f"How many {scope} have each {label}"
        else:
            sentence = f"Each {label}, with how many {scope} have it"
    else:
        sentence = scope if parts else "all " + scope
    if answer.understanding == PARTLY and answer.unknown:
        sentence += f" (leaving out: {', '.join(answer.unknown)})"
    return sentence[0].upper() + sentence[1:] + "."


def _year_words(year: YearReading) -> str:
    """The years' words as typed, with "in" before a bare year ("published in 2022")."""
    return f"in {year.text}" if year.text.isdigit() else year.text


# -- reading the question --------------------------------------------------------------------------------------


def _correct(tokens: list[str], originals: list[str], index: QuestionIndex,
             fixed: set[int]) -> tuple[list[str], dict[int, Correction]]:
    corrected, corrections = list(tokens), {}
    for i, token in enumerate(tokens):
        if (i in fixed or token in index.known_words or token in STOP_WORDS or token in FILLER_WORDS
                or token in INTENT_FILLERS or token in COMPARISON_WORDS or token in ALL_CUES
                or token in index.topic_words or token.isdigit()):
            continue
        if index.search is not None and (index.search.has_word(token) or
                                         any(index.search.has_word(w) for w in normalise(originals[i]))):
            continue  # an author's or a programme's name as typed wins over a vocabulary word one slip away
        typed = originals[i].lower()  # "lonelines" as typed, not its singular "loneline", is one slip from the label
        candidates = sorted(
            w for w in index.known_words
            if len(w) >= TYPO_MIN_LENGTH - 1 and (damerau_levenshtein_at_most_one(token, w)
                                                  or damerau_levenshtein_at_most_one(typed, w))
        ) if len(token) >= TYPO_MIN_LENGTH else []
        if candidates:
            best = sorted(candidates, key=lambda w: (w[0] != token[0], w))[0]
            corrected[i] = best
            corrections[i] = Correction(originals[i], best)
        elif (word := question_word(originals[i].lower())) is not None:
            corrected[i] = singular(word)
            corrections[i] = Correction(originals[i], word)
    return corrected, corrections


def question_word(typed: str) -> str | None:
    """The word of :data:`QUESTION_WORDS` one typing slip from ``typed`` (lower case, as typed), if any.

    >>> [question_word(w) for w in ("wich", "whcih", "waht", "hwo", "stuides", "care", "cost", "online")]
    ['which', 'which', 'what', 'how', 'studies', None, None, None]
    """
    if len(typed) < 3 or typed in QUESTION_WORDS:
        return None
    for word in QUESTION_WORDS:
        if len(typed) < TYPO_MIN_LENGTH and not (
            (len(typed) == len(word) and sorted(typed) == sorted(word)) or len(typed) + 1 == len(word)
        ):
            continue
        if damerau_levenshtein_at_most_one(typed, word):
            return word
    return None


def in_compounds(text: str) -> set[int]:
    """The positions of the words of :func:`words` that a hyphen joins to a neighbour ("self-harm").

    >>> sorted(in_compounds("risk of self-harm in in-person groups"))
    [2, 3, 5, 6]
    """
    cleaned = _plain(text).lower()
    found = list(_WORD.finditer(cleaned))
    joined: set[int] = set()
    for k in range(len(found) - 1):
        if cleaned[found[k].end():found[k + 1].start()] == "-":
            joined.update((k, k + 1))
    return joined


def _spans(tokens: list[str], index: QuestionIndex, blocked: set[int],
           compounds: frozenset[int] = frozenset()) -> list[Match]:
    """Non-overlapping matches, longest first (then leftmost), over the tokens not ``blocked``. A facet's one-word
    label inside a hyphenated word is no match: "self-harm" is not any challenge because "harms" is one."""
    candidates = []
    for i in range(len(tokens)):
        for j in range(i + 1, min(len(tokens), i + index.longest) + 1):
            if blocked.intersection(range(i, j)):
                break
            targets = index.phrases.get(tuple(tokens[i:j]))
            if not targets and not (j - i == 1 and index.search is not None and index.search.has_word(tokens[i])):
                targets = index.unused.get(tuple(tokens[i:j]))  # an author "Jordan" is not the country
            if not targets:
                continue
            if j - i == 1 and i in compounds:
                targets = [t for t in targets if t.kind != "facet"]
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


def _has_cue(tokens: Sequence[str], cues: Sequence[tuple[str, ...]]) -> bool:
    return any(tuple(tokens[i:i + len(cue)]) == cue for cue in cues for i in range(len(tokens)))


def _breakdown(spans: list[Match], tokens: list[str]) -> Match | None:
    """A facet label after "by", "per", "each" ...: the facet the answer is broken down by."""
    for m in spans:
        if m.target.kind == "facet" and any(
            m.start >= len(cue) and tuple(tokens[m.start - len(cue):m.start]) == cue for cue in BREAKDOWN_CUES
        ):
            return m
    return None


def _absorb(m: Match, tokens: list[str], free: list[bool], index: QuestionIndex) -> None:
    """Mark the free words next to ``m`` that are words of its concept's labels (or its facet's) as part of it."""
    if m.target.concept is None:
        return
    own = index.concept_words.get(m.target.concept.iri, frozenset())
    for step, begin in ((1, m.end), (-1, m.start - 1)):
        j = begin
        while 0 <= j < len(tokens) and free[j] and tokens[j] not in NEGATION_WORDS:  # "pre-post without control"
            if tokens[j] in own and tokens[j] not in STOP_WORDS:
                free[j] = False
            elif tokens[j] not in STOP_WORDS:
                break
            j += step


def _negation_cues(tokens: list[str], free: list[bool]) -> list[tuple[int, int]]:
    """(start, end) of every negation cue among the free words."""
    cues = []
    for i, token in enumerate(tokens):
        if not free[i]:
            continue
        if token in NEGATION_WORDS:
            cues.append((i, i + 1))
        pair = next((p for p in NEGATION_PAIRS if tuple(tokens[i:i + 2]) == p and free[min(i + 1, len(tokens) - 1)]),
                    None)
        if pair is not None:
            cues.append((i, i + 2))
    return cues


def _joined(tokens: list[str], start: int, end: int, words_: frozenset[str]) -> bool:
    """Whether the words between two parts are only joining words (and one of ``words_``)."""
    between = tokens[start:end]
    return bool(between) and all(t in BOTH_WORDS | EITHER_WORDS for t in between) and bool(set(between) & words_)


@dataclass
class _Parts:
    """The parts of a question as they are read, before they become a selection."""

    matches: list[Match]
    years: list[tuple[YearRange, bool]]  # (range, excluded)


def _negate(tokens: list[str], free: list[bool], parts: _Parts) -> None:
    """Each negation cue takes away the next concept, facet or years after it (and those joined to it by "or",
    "nor" or, within one facet, "and")."""
    for start, end in _negation_cues(tokens, free):
        following = sorted(
            [(m.start, m.end, "match", i) for i, m in enumerate(parts.matches)
             if m.start >= end and m.used_as in ("filter", "any value")]
            + [(y.start, y.end, "year", k) for k, (y, _) in enumerate(parts.years) if y.start >= end]
        )
        if not following:
            continue
        for i in range(start, end):
            free[i] = False
        previous_end: int | None = None
        previous_facet: Facet | None = None
        for first, last, kind, k in following:
            facet = parts.matches[k].target.facet if kind == "match" else None
            if previous_end is not None and not (
                _joined(tokens, previous_end, first, frozenset({"or", "nor"}))
                or (facet is not None and facet is previous_facet and _joined(tokens, previous_end, first, BOTH_WORDS))
            ):
                break
            if kind == "match":
                m = parts.matches[k]
                parts.matches[k] = Match(m.start, m.end, m.text, m.target, m.alternatives, "exclude")
            else:
                parts.years[k] = (parts.years[k][0], True)
            previous_end, previous_facet = last, facet


def interpret(question: str, vocabulary: Vocabulary, index: QuestionIndex) -> Answer:
    """Read the question into matches, an intent and a selection (no query is run; the study search, when the
    index has one, is run on the words left over).

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
    pairs = words(spell_ranges(text))
    originals = [o for o, _ in pairs]
    raw = [w for _, w in pairs]
    n = len(raw)
    free = [True] * n  # not yet read as anything

    ranges = read_years(raw, originals) if index.year_facet is not None else []
    year_positions = {i for y in ranges for i in range(y.start, y.end)}
    tokens, corrections = _correct(raw, originals, index, year_positions)
    spans = _spans(tokens, index, year_positions, frozenset(in_compounds(spell_ranges(text))))

    # The facet whose values are asked for: a facet label with only intent words before it, or after "by"/"per".
    values_match: Match | None = None
    if spans and spans[0].target.kind == "facet" and all(t in INTENT_FILLERS for t in tokens[: spans[0].start]):
        values_match = spans[0]
    if values_match is not None and ranges and values_match.target.facet is index.year_facet:
        values_match = None  # "published in 2023": the years' own verb, not a question about the years
    breakdown = _breakdown(spans, tokens)
    cross: Match | None = None  # "outcomes by design": a table of two facets, which is the gap map's
    if values_match is not None and breakdown is not None:
        cross, breakdown = breakdown, None
    asked = values_match or breakdown
    named_facets = {m.target.facet.name for m in spans if m.target.kind != "facet"}
    if ranges and index.year_facet is not None:
        named_facets.add(index.year_facet.name)
    matches: list[Match] = []
    for m in spans:
        text_span = " ".join(originals[m.start:m.end])
        single_stop = m.end - m.start == 1 and tokens[m.start] in STOP_WORDS
        if m is cross:
            for i in range(m.start, m.end):
                free[i] = False
        elif m is asked:
            matches.append(Match(m.start, m.end, text_span, m.target, m.alternatives, "question"))
        elif m.target.kind != "facet":
            matches.append(Match(m.start, m.end, text_span, m.target, m.alternatives, "filter"))
        elif (
            not single_stop
            and m.target.facet.is_concept_facet
            and m.target.facet.name not in named_facets | {x.target.facet.name for x in matches}
        ):
            matches.append(Match(m.start, m.end, text_span, m.target, m.alternatives, "any value"))
        elif not single_stop:
            for i in range(m.start, m.end):  # the facet's name next to its value ("schedule ... not specified")
                free[i] = False
    for m in matches:
        for i in range(m.start, m.end):
            free[i] = False
    for i in year_positions:
        free[i] = False
    for m in matches:
        _absorb(m, tokens, free, index)
    parts = _Parts(matches, [(y, False) for y in ranges])
    _negate(tokens, free, parts)
    read = {i for i in range(n) if not free[i]}  # read as the vocabulary's words (a correction stands only there)
    matches = parts.matches

    compared = None if asked else _compared(matches, tokens)  # else a comparison word is one the map cannot answer
    topic = [originals[i] for i in range(n) if free[i] and tokens[i] in index.topic_words]
    for i in range(n):
        if free[i] and tokens[i] in index.topic_words:
            free[i] = False
    content = [i for i in range(n) if free[i] and tokens[i] not in STOP_WORDS and tokens[i] not in INTENT_FILLERS
               and tokens[i] not in FILLER_WORDS and not (compared and tokens[i] in COMPARISON_WORDS)
               and tokens[i] not in ALL_CUES
               and len(tokens[i]) > 1 and not tokens[i].isdigit()]
    searched: list[str] = []
    search_positions: set[int] = set()
    among: tuple[str, ...] | None = None
    if content and index.search is not None:
        forms = tuple(dict.fromkeys(_search_form(originals[i], raw[i], index.search) for i in content))
        found = index.search.find(forms, prefixes=False)
        if not found.unmatched:  # every word names something of the studies: a search, not a question to guess
            searched, among, search_positions = list(forms), tuple(found.study_iris), set(content)
            for i in content:
                free[i] = False
            content = []
    unknown: list[str] = []
    plain = _plain(spell_ranges(text))
    for k, i in enumerate(content):  # "self-harm" stays one word, as typed
        if k and content[k - 1] == i - 1 and f"{unknown[-1]}-{originals[i]}" in plain:
            unknown[-1] += f"-{originals[i]}"
        else:
            unknown.append(originals[i])
    # A correction stands only where the corrected word was read as something: never also "not recognised".
    kept_corrections = [c for i, c in sorted(corrections.items())
                        if i in read or c.corrected in QUESTION_WORDS]  # a question word is read as what it is
    used = {i for m in matches for i in range(m.start, m.end)}
    ignored = [originals[i] for i in range(n)
               if i not in used and i not in content and i not in year_positions and i not in search_positions]

    selection = _selection(matches, tokens, parts.years, index, among, compared)
    intent = "values" if asked or compared else "count" if _has_cue(tokens, COUNT_CUES) else "studies"
    has_parts = bool(matches) or bool(ranges) or among is not None
    if not has_parts:  # "how many studies", "show me everything": the whole map
        whole = intent == "count" or any(t in ALL_CUES for t in tokens)
        understanding = UNDERSTOOD if whole and not unknown else NOT_UNDERSTOOD
    else:
        understanding = PARTLY if unknown else UNDERSTOOD
    answer = Answer(
        question=text, intent=intent, understood=understanding != NOT_UNDERSTOOD, matches=matches, ignored=ignored,
        unknown=unknown, corrections=kept_corrections, selection=selection,
        values_facet=asked.target.facet if asked else compared, understanding=understanding,
        years=[YearReading(y.text, y.low, y.high, _range_years(y, index), excluded,
                           k > 0 and _joined(tokens, parts.years[k - 1][0].end, y.start, EITHER_WORDS))
               for k, (y, excluded) in enumerate(parts.years)],
        search_words=searched, topic=topic, breakdown=breakdown is not None or compared is not None,
        lists_groups=(breakdown is not None or compared is not None) and not _has_cue(tokens, COUNT_CUES),
    )
    answer.unused = [m for m in matches if m.used_as == "filter" and index.is_unused(m.target)]
    facets = ", ".join(f.label for f in vocabulary.concept_facets)
    if cross is not None and asked is not None:
        answer.message = (f"A table of {asked.target.facet.label} by {cross.target.facet.label} is what the gap map "
                          f"shows; here, each {asked.target.facet.label} among all the matching studies.")
    if compared is not None:
        answer.message = (f"Compared by counting: the studies of each {compared.label} asked about. The map records "
                          "what the studies report, not how the results of one compare with another's.")
    if understanding == NOT_UNDERSTOOD:
        answer.message = (
            "No concept of the map was recognised in this question, so nothing was searched."
            if not unknown else
            f"No concept of the map was recognised in this question (not recognised: {', '.join(unknown)}), "
            "so nothing was searched."
        )
        answer.can_answer = CAN_ANSWER.format(facets=facets)
        answer.suggestions = suggest(unknown or originals, vocabulary, fallback=True)
    elif unknown:
        answer.suggestions = suggest(unknown, vocabulary)
        answer.can_answer = CAN_ANSWER.format(facets=facets)
        answer.message = (
            f"Partly understood: {', '.join(unknown)} matched nothing in the map, so the answer leaves "
            f"{'it' if len(unknown) == 1 else 'them'} out and states no count." +
            (" Did you mean one of the suggested concepts?" if answer.suggestions else "")
        )
    return answer


def _search_form(original: str, normalised: str, search: SearchIndex) -> str:
    """The word to search for: as typed when a study has it ("peers"), else its singular ("Ridolfi's")."""
    typed = normalise(original)
    form = typed[0] if len(typed) == 1 else normalised
    return form if search.has_word(form) or not search.has_word(normalised) else normalised


def _range_years(year: YearRange, index: QuestionIndex) -> tuple[str, ...]:
    known = index.literal_values.get(index.year_facet.name, []) if index.year_facet else []
    return year.years(known)


def _compared(matches: list[Match], tokens: list[str]) -> Facet | None:
    """The facet of which a question compares two values or more ("online vs in person", "compare RCTs and
    qualitative studies"), when it has a comparison word."""
    if not any(t in COMPARISON_WORDS for t in tokens):
        return None
    values: dict[str, set[str]] = {}
    for m in matches:
        if m.used_as == "filter" and m.target.kind != "facet":
            values.setdefault(m.target.facet.name, set()).add(m.target.key)
    return next((m.target.facet for m in matches if len(values.get(m.target.facet.name, ())) > 1), None)


def _selection(matches: list[Match], tokens: list[str], years: list[tuple[YearRange, bool]], index: QuestionIndex,
               among: tuple[str, ...] | None, compared: Facet | None = None) -> Selection:
    """Values of one facet OR-ed, unless "and" joins them (both), and always for the ``compared`` facet; facets
    AND-ed; exclusions taken away; the facet asked about is not a filter."""
    groups: list[tuple[Facet, list[Concept], list[str]]] = []
    last: dict[str, tuple[int, int]] = {}  # facet -> (group index, end of its last match)
    exclusions: list[Choice] = []
    for m in matches:
        facet = m.target.facet
        if m.used_as == "question":
            continue
        values = facet.children(None) if m.target.kind == "facet" else (
            [m.target.concept] if m.target.concept is not None else [])
        literals = [m.target.literal] if m.target.literal is not None else []
        if m.used_as == "exclude":
            exclusions.append(Choice(facet, concepts=tuple(values), literals=tuple(literals)))
            continue
        previous = last.get(facet.name)
        between = set(tokens[previous[1]:m.start]) if previous is not None else set()
        both = bool(between & BOTH_WORDS) and not between & EITHER_WORDS and facet is not compared
        if previous is None or both:
            groups.append((facet, list(values), list(literals)))
            last[facet.name] = (len(groups) - 1, m.end)
        else:
            group = groups[previous[0]]
            group[1].extend(values)
            group[2].extend(literals)
            last[facet.name] = (previous[0], m.end)
    choices = [Choice(f, concepts=tuple(dict.fromkeys(c)), literals=tuple(dict.fromkeys(v))) for f, c, v in groups]
    if index.year_facet is not None:
        previous_end: int | None = None
        for year, excluded in years:
            covered = _range_years(year, index)
            if excluded:
                exclusions.append(Choice(index.year_facet, literals=covered))
            elif previous_end is not None and _joined(tokens, previous_end, year.start, EITHER_WORDS) and choices \
                    and choices[-1].facet is index.year_facet:
                choices[-1] = Choice(index.year_facet, literals=tuple(dict.fromkeys(choices[-1].literals + covered)))
            else:
                choices.append(Choice(index.year_facet, literals=covered))
            previous_end = year.end
    return Selection(tuple(sorted(choices, key=lambda c: c.facet.order)), tuple(exclusions), among)


# -- suggestions ---------------------------------------------------------------------------------------------


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


# -- what the map holds besides the vocabulary -----------------------------------------------------------------

TOPICS_QUERY = ns.sparql_prefixes(("evm", "dcterms", "schema")) + """
SELECT DISTINCT ?text WHERE {
  ?review evm:includesStudy ?study .
  { ?review schema:keywords ?text } UNION { ?review dcterms:subject ?text }
  FILTER(isLiteral(?text))
}
"""

def literal_values(evidence_map: EvidenceMap, vocabulary: Vocabulary) -> dict[str, list[str]]:
    """The values of the facets that are not concept schemes (years), as the map holds them."""
    return {
        f.name: sorted(facet_counts(evidence_map, f, Selection()))
        for f in vocabulary.facets
        if not f.is_concept_facet
    }


def topic_phrases(evidence_map: EvidenceMap) -> list[str]:
    """The review's keywords and subject terms: the topic of every study of the map, so they narrow nothing."""
    return sorted({str(row["text"]) for row in evidence_map.select(TOPICS_QUERY)})


def index_for(evidence_map: EvidenceMap, vocabulary: Vocabulary) -> QuestionIndex:
    """The question index of a map and its vocabulary: labels, years, topic words and study search (built once per
    version of the map and vocabulary)."""
    cache: dict[int, tuple[Vocabulary, QuestionIndex]] = evidence_map.derive("question-index", dict)
    found = cache.get(id(vocabulary))
    if found is not None and found[0] is vocabulary:
        return found[1]
    index = QuestionIndex.build(vocabulary, literal_values(evidence_map, vocabulary),
                                topics=topic_phrases(evidence_map), search=search_index_of(evidence_map))
    if any(f.only_values_in_use for f in vocabulary.facets):
        index.add_unused(vocabulary, load_vocabulary(evidence_map, all_values=True))
    cache[id(vocabulary)] = (vocabulary, index)
    return index


# -- answering -------------------------------------------------------------------------------------------------


def ask(
    question: str, evidence_map: EvidenceMap, vocabulary: Vocabulary, index: QuestionIndex | None = None
) -> Answer:
    """Interpret ``question`` and run the study query it names (and the facet counts, for a values question).

    :raises BadRequest: for an empty or overlong question.
    """
    answer = interpret(question, vocabulary, index or index_for(evidence_map, vocabulary))
    if not answer.understood:
        return answer
    missing = unrecorded_facets(evidence_map, asked_facets(answer))
    if missing:
        return not_recorded(answer, missing)
    # The studies and counts come from the facet index (model/facet_index.py: milliseconds, whatever the map's size),
    # which tests/test_facet_index.py holds to the same answers as the SPARQL the answer shows.
    answer.sparql = studies_query(answer.selection)
    answer.study_iris = matching_studies(evidence_map, answer.selection)  # answers answer.sparql
    if answer.values_facet is not None:
        facet = answer.values_facet
        answer.values_sparql = counts_query(facet, answer.selection)
        counts = facet_counts(evidence_map, facet, answer.selection)  # answers answer.values_sparql
        order = {c.iri: c.order for c in facet.concepts}
        answer.values = sorted(counts.items(), key=lambda kv: (-kv[1], order.get(kv[0], 0), kv[0]))
        answer.without_value = without_value(evidence_map, facet, answer.selection, len(answer.study_iris))
        if answer.lists_groups:
            answer.groups_sparql = groups_query(facet, answer.selection)
            grouped: dict[str, list[str]] = {}
            for row in evidence_map.select(answer.groups_sparql):  # runs answer.groups_sparql
                grouped.setdefault(str(row["value"]), []).append(str(row["study"]))
            answer.groups = [(key, grouped.get(key, [])) for key, _ in answer.values]
        if not answer.selection.choices and not answer.selection.exclusions and answer.selection.among is None:
            totals: dict[str, int] = {}
            for count in review_counts(evidence_map, vocabulary, facet):
                if count.not_named:
                    totals[count.value] = totals.get(count.value, 0) + count.stated
            answer.review_values = sorted(totals.items(), key=lambda kv: (-kv[1], order.get(kv[0], 0)))
            if answer.review_values:
                labels = {c.iri: c.pref_label for c in facet.concepts}
                answer.message = "The review also counts, without naming the studies: " + ", ".join(
                    f"{labels.get(key, key)} {n}" for key, n in answer.review_values) + "."
    else:
        answer.review_counts = review_counts_for(evidence_map, vocabulary, answer.selection)
        if not answer.review_counts:
            answer.message = " ".join(filter(None, [answer.message, unnamed_within(evidence_map, vocabulary, answer),
                                                    unnamed_excluded(evidence_map, vocabulary, answer)]))
    if answer.unused:
        answer.message = " ".join(filter(None, [answer.message, *(
            unused_sentence(evidence_map, vocabulary, answer, m) for m in answer.unused)]))
    if answer.review_counts and answer.understanding == UNDERSTOOD:
        answer.message = " ".join(filter(None, [answer.message, review_count_sentence(answer)]))
    return answer


def unused_sentence(evidence_map: EvidenceMap, vocabulary: Vocabulary, answer: Answer, match: Match) -> str:
    """What the map and the review say of a concept no study of the map has (a country of the core scheme that the
    facet does not list): "none" only where the map or the review gives that facet for every study; otherwise the
    answer states no count (``no_headline``)."""
    facet, concept = match.target.facet, match.target.concept
    label = concept.pref_label if concept is not None else match.text
    total = len(matching_studies(evidence_map, Selection()))
    recorded = len(matching_studies(evidence_map, Selection((Choice(facet, tuple(facet.concepts)),))))
    claims = {c.claim: c for c in review_counts(evidence_map, vocabulary, facet)}.values()
    stated = sum(c.stated for c in claims)
    said = f"No study of this map is recorded with {facet.label} {label}"
    if total and recorded >= total:
        return f"{said}: the map records the {facet.label} of all {total} of its studies."
    if total and stated >= total:
        labels = {c.iri: c.pref_label for c in facet.concepts}
        counts = "; ".join(f"{labels.get(c.value, c.label)} {c.stated}" for c in claims)
        sections = ", ".join(sorted({c.section for c in claims}))
        return (f"{said}: the review gives the {facet.label} of all {total} of its studies ({counts}; {sections}), "
                f"and {label} is not among them.")
    answer.no_headline = True
    unnamed = f", and the review counts {stated} without naming them" if stated else ""
    return (f"{said}; the map records the {facet.label} of {recorded} of its {total} studies{unnamed}, so it "
            f"cannot say that none has {label}.")


def _unnamed_counts(evidence_map: EvidenceMap, vocabulary: Vocabulary,
                    choices: Sequence[Choice]) -> dict[str, ReviewCount]:
    """The review's counts of the chosen concepts that the map does not name, one per claim."""
    found: dict[str, ReviewCount] = {}
    for choice in choices:
        for concept in choice.concepts:
            for count in review_counts(evidence_map, vocabulary, choice.facet, concept.iri):
                if count.not_named:
                    found.setdefault(count.claim, count)
    return found


def unnamed_within(evidence_map: EvidenceMap, vocabulary: Vocabulary, answer: Answer) -> str:
    """For a selection of several facets ("online studies in Spain"): the review's counts, not named in the map, of
    the concepts it asks for. The map cannot say whether those studies also match the rest, so its count is of the
    studies it names only, and an answer of none states no count (``no_headline``)."""
    if len(answer.selection.choices) < 2:
        return ""
    found = _unnamed_counts(evidence_map, vocabulary, answer.selection.choices)
    if not found:
        return ""
    if not answer.study_iris:
        answer.no_headline = True
    return (" ".join(f"{c.sentence}." for c in found.values()) + " The map cannot say whether those studies also "
            "match the rest of the question: its answer holds only the studies it names.")


def unnamed_excluded(evidence_map: EvidenceMap, vocabulary: Vocabulary, answer: Answer) -> str:
    """For a question that takes a concept away ("excluding the UK"): the review's counts of it that the map does
    not name. The map cannot take those studies away, so the studies it lists may include them, and the answer states
    no count (``no_headline``)."""
    found = _unnamed_counts(evidence_map, vocabulary, answer.selection.exclusions)
    if not found:
        return ""
    answer.no_headline = True
    return (" ".join(f"{c.sentence}." for c in found.values()) + " The map cannot take away studies it cannot name: "
            "some of those listed may be among them.")


def asked_facets(answer: Answer) -> list[Facet]:
    """The facets an answer filters, excludes or counts by, each once, in that order."""
    facets = [c.facet for c in (*answer.selection.choices, *answer.selection.exclusions)]
    if answer.values_facet is not None:
        facets.append(answer.values_facet)
    return list({f.name: f for f in facets}.values())


def not_recorded(answer: Answer, missing: Sequence[Facet]) -> Answer:
    """``answer`` as one about facets the map does not record: it says so, and states no count and no studies
    (nothing is run: any count would read as "none" where the map says nothing)."""
    answer.understanding = NOT_RECORDED
    answer.not_recorded = list(missing)
    labels = " or ".join(f.label for f in missing)
    answer.message = (" ".join(not_recorded_sentence(f) for f in missing) +
                      f" It cannot say which or how many of its studies have a given {labels}: "
                      "not recorded is not none.")
    return answer


def review_counts_for(evidence_map: EvidenceMap, vocabulary: Vocabulary, selection: Selection) -> list[ReviewCount]:
    """The review's counts, not named in the map, of the concepts a selection asks for: only for a selection of one
    facet's concepts (the review counts among all its studies, not among a filtered subset). Each claim once."""
    if len(selection.choices) != 1 or selection.exclusions or selection.among is not None:
        return []
    choice = selection.choices[0]
    found: dict[str, ReviewCount] = {}
    for concept in choice.concepts:
        for count in review_counts(evidence_map, vocabulary, choice.facet, concept.iri):
            if count.not_named:
                found.setdefault(count.claim, count)
    return list(found.values())


def review_count_sentence(answer: Answer) -> str:
    """The review's own count, in its words and section."""
    counts = answer.review_counts
    quotes = " ".join(f"“{q}”" for q in dict.fromkeys(c.quote for c in counts if c.quote))
    if not answer.study_iris and len(counts) > 1:
        n = answer.review_count or 0
        sections = ", ".join(sorted({c.section for c in counts}))
        sentence = (f"The review counts {n} studies ({'; '.join(f'{c.label}: {c.stated}' for c in counts)}; "
                    f"{sections}) without naming them.")
    else:
        sentence = " ".join(f"{c.sentence}." for c in counts)
    sentence += " The map cannot list what the review does not name."
    return f"{sentence} The review's words: {quotes}" if quotes else sentence


def without_value(evidence_map: EvidenceMap, facet: Facet, selection: Selection, total: int) -> int:
    """How many of the ``total`` studies matching ``selection`` have no value of ``facet``: for a concept facet,
    ``total`` less those that also have any of its values (facet index); else by :func:`without_value_query`."""
    if facet.is_concept_facet and facet.concepts:
        having = dataclasses.replace(selection, choices=(*selection.choices, Choice(facet, tuple(facet.concepts))))
        return total - len(matching_studies(evidence_map, having))
    rows = evidence_map.select(without_value_query(facet, selection))
    return int(str(rows[0]["n"])) if rows else 0


def without_value_query(facet: Facet, selection: Selection) -> str:
    """How many of the studies matching ``selection`` have no value of ``facet`` in the map."""
    missing = f"FILTER NOT EXISTS {{ ?study {facet.sparql_path()} ?value }}"
    return StudyQuery("(COUNT(DISTINCT ?study) AS ?n)", selection.terms(),
                      patterns=[*selection.narrowing_patterns(), missing]).text()


def groups_query(facet: Facet, selection: Selection) -> str:
    """The studies matching ``selection`` with each value of ``facet`` (a study is listed under every broader concept
    of its values too, as :func:`facets.counts_query` counts it)."""
    if facet.is_concept_facet:
        value = f"?study {value_path(facet, hierarchy=False)} ?direct . ?direct skos:broader* ?value ."
    else:
        value = f"?study {value_path(facet)} ?value ."
    return StudyQuery("DISTINCT ?value ?study ?ref", selection.terms(), numbered=True,
                      patterns=[*selection.narrowing_patterns(), value], modifiers="ORDER BY ?value ?ref").text()
