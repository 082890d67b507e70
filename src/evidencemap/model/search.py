"""Free-text search for studies: by author surname, title words, programme or manual name, journal, or year.

The texts searched are read from the store with one query (the study class is its only bound value: no user text
ever goes into SPARQL) and matched here, in Python. Matching ignores case, accents and punctuation; a word of the
search matches a word of a text when it is the same word, when it starts it (three letters or more: "Dahl" finds
Dahlenburg), or, in words of five letters or more, when one typing slip apart (a Damerau-Levenshtein distance of 1:
"Grenyr" finds Grenyer). A study is found when every word of the search matches one of its texts; studies are
ranked by how well they match (exact words before prefixes before slips, authors and programme names before
descriptions), then by reference number. Each hit says which field and text every word matched.

Words of the search that no study has at all are reported as unmatched, so a caller (the question parser) can say
which words it could not use instead of answering a question it did not understand.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import cached_property

import pyoxigraph as ox

from evidencemap import namespaces as ns
from evidencemap.graph.store import Delta, EvidenceMap
from evidencemap.graph.values import Values
from evidencemap.model.facet_index import touched_studies

MIN_PREFIX_LENGTH = 3
TYPO_MIN_LENGTH = 5
EXACT, PREFIX, TYPO = 3, 2, 1  # how well a word matched, best first

# The fields searched, best first: the rank breaks ties between equally good matches.
FIELDS = ("author", "programme", "manual", "title", "journal", "year", "programme description")
FIELD_RANK = {name: rank for rank, name in enumerate(FIELDS)}

# Words of English searches that never name an author, a title or a programme on their own ("studies by Grenyer",
# "the Dahlenburg paper"). A rule of the language, not of any vocabulary.
GENERIC_WORDS = frozenset({
    "a", "an", "and", "the", "of", "by", "in", "on", "at", "for", "from", "to", "with", "or",
    "study", "studies", "paper", "papers", "article", "articles", "report", "reports", "author", "authors", "authored",
    "written", "wrote", "publication", "publications", "published", "journal", "title", "titled", "called", "named",
    "programme", "programmes", "program", "programs",
})

TEXTS_QUERY = ns.sparql_prefixes(("evm", "rdfs", "dcterms", "fabio", "prism")) + """
SELECT ?study ?ref ?field ?text WHERE {
  ?study a ?studyClass ; evm:referenceNumber ?ref .
  {
    ?study evm:reportedIn/evm:authors ?text . BIND("author" AS ?field)
  } UNION {
    ?study evm:reportedIn/dcterms:title ?text . BIND("title" AS ?field)
  } UNION {
    ?study evm:reportedIn/prism:publicationName ?text . BIND("journal" AS ?field)
  } UNION {
    ?study evm:reportedIn/fabio:hasPublicationYear ?year . BIND(STR(?year) AS ?text) BIND("year" AS ?field)
  } UNION {
    ?study evm:evaluates/rdfs:label ?text . BIND("programme" AS ?field)
  } UNION {
    ?study evm:evaluates/dcterms:description ?text . BIND("programme description" AS ?field)
  } UNION {
    ?study evm:evaluates/evm:basedOnManual/dcterms:title ?text . BIND("manual" AS ?field)
  }
}
"""

_WORD = re.compile(r"[a-z0-9]+")

# The paths from a study to the texts of TEXTS_QUERY: what a change must touch to change a study's texts.
_REPORT, _INTERVENTION = ns.EVM + "reportedIn", ns.EVM + "evaluates"
TEXT_PATHS = (
    (_REPORT, ns.EVM + "authors"), (_REPORT, ns.DCTERMS + "title"), (_REPORT, ns.PRISM + "publicationName"),
    (_REPORT, ns.FABIO + "hasPublicationYear"), (_INTERVENTION, ns.RDFS + "label"),
    (_INTERVENTION, ns.DCTERMS + "description"), (_INTERVENTION, ns.EVM + "basedOnManual", ns.DCTERMS + "title"),
)


def normalise(text: str) -> tuple[str, ...]:
    """The words of ``text``: lower case, accents dropped, split at anything that is not a letter or a digit.

    >>> normalise("León VI, Grenyer BFS")
    ('leon', 'vi', 'grenyer', 'bfs')
    >>> normalise("L'Encéphale")
    ('l', 'encephale')
    >>> normalise("Being a Parent–Enjoying Family Life (BAP-EFL)")
    ('being', 'a', 'parent', 'enjoying', 'family', 'life', 'bap', 'efl')
    >>> normalise("RIDOLFI’S programme")
    ('ridolfi', 's', 'programme')
    """
    plain = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
    return tuple(_WORD.findall(plain.casefold()))


def search_words(text: str) -> tuple[str, ...]:
    """The words of a search that can name something: single letters and generic words dropped, each word once.

    >>> search_words("studies by Grenyer")
    ('grenyer',)
    >>> search_words("Ridolfi's programme in L'Encéphale")
    ('ridolfi', 'encephale')
    """
    return tuple(dict.fromkeys(w for w in normalise(text) if len(w) > 1 and w not in GENERIC_WORDS))


def within_one_edit(a: str, b: str) -> bool:
    """Whether ``a`` becomes ``b`` by at most one insertion, deletion, substitution or swap of neighbours.

    >>> within_one_edit("grenyr", "grenyer"), within_one_edit("townsedn", "townsend"), within_one_edit("barr", "bates")
    (True, True, False)
    """
    if a == b:
        return True
    if abs(len(a) - len(b)) > 1:
        return False
    i = 0
    while i < min(len(a), len(b)) and a[i] == b[i]:
        i += 1
    if len(a) == len(b):
        if a[i + 1:] == b[i + 1:]:
            return True
        return i + 1 < len(a) and a[i] == b[i + 1] and a[i + 1] == b[i] and a[i + 2:] == b[i + 2:]
    return a[i + 1:] == b[i:] if len(a) > len(b) else a[i:] == b[i + 1:]


def word_match(word: str, candidate: str, *, prefixes: bool = True) -> int:
    """How well a search word matches a word of a text: EXACT, PREFIX (unless ``prefixes`` is false), TYPO, or 0.

    >>> [word_match("dahl", "dahlenburg"), word_match("2022", "2022"), word_match("202", "2022")]
    [2, 3, 0]
    >>> word_match("work", "workers", prefixes=False)
    0
    """
    if word == candidate:
        return EXACT
    if word.isdigit() or candidate.isdigit():
        return 0
    if prefixes and len(word) >= MIN_PREFIX_LENGTH and candidate.startswith(word):
        return PREFIX
    if len(word) >= TYPO_MIN_LENGTH and len(candidate) >= TYPO_MIN_LENGTH and within_one_edit(word, candidate):
        return TYPO
    return 0


@dataclass(frozen=True)
class FieldText:
    field: str
    text: str
    words: tuple[str, ...]


@dataclass(frozen=True)
class StudyTexts:
    """The searchable texts of one study."""

    study: str
    reference: int
    texts: tuple[FieldText, ...]


@dataclass(frozen=True)
class WordMatch:
    """A word of the search and where it matched: the field, the field's whole text and the word of it."""

    word: str
    field: str
    text: str
    matched: str
    quality: int


@dataclass(frozen=True)
class SearchHit:
    study: str
    reference: int
    matches: tuple[WordMatch, ...]

    @property
    def score(self) -> tuple[int, int]:
        """Higher is better: the quality of the word matches, then how early their fields come in FIELDS."""
        return sum(m.quality for m in self.matches), -sum(FIELD_RANK[m.field] for m in self.matches)


@dataclass(frozen=True)
class SearchResult:
    words: tuple[str, ...]  # the words searched for
    hits: tuple[SearchHit, ...]  # best first
    unmatched: tuple[str, ...]  # words that no study has in any field

    @property
    def study_iris(self) -> list[str]:
        return [hit.study for hit in self.hits]


def _best_match(word: str, record: StudyTexts, prefixes: bool = True) -> WordMatch | None:
    best: WordMatch | None = None
    for text in record.texts:
        for candidate in text.words:
            quality = word_match(word, candidate, prefixes=prefixes)
            rank = (quality, -FIELD_RANK[text.field])
            if quality and (best is None or rank > (best.quality, -FIELD_RANK[best.field])):
                best = WordMatch(word, text.field, text.text, candidate, quality)
    return best


@dataclass(frozen=True)
class SearchIndex:
    """The searchable texts of every included study, read once; the store is read-only once loaded."""

    records: tuple[StudyTexts, ...]

    @classmethod
    def build(cls, evidence_map: EvidenceMap) -> SearchIndex:
        return cls(tuple(sorted(_records(evidence_map), key=lambda r: r.reference)))

    def following(self, evidence_map: EvidenceMap, delta: Delta) -> SearchIndex | None:
        """The index of the map after ``delta`` (already in the store): the texts of the studies it touches read
        again, the other records kept; None (build it again) when it touches the vocabulary."""
        touched = touched_studies(evidence_map, delta, TEXT_PATHS, {r.study for r in self.records})
        if touched is None:
            return None
        kept = [r for r in self.records if r.study not in touched]
        fresh = _records(evidence_map, sorted(touched)) if touched else []
        return SearchIndex(tuple(sorted([*kept, *fresh], key=lambda r: r.reference)))

    def search(self, text: str, *, prefixes: bool = True) -> SearchResult:
        """The studies whose texts match every word of ``text``, best first (a word may match the start of a
        longer one unless ``prefixes`` is false: a question's "work" is not a search for "workers")."""
        return self.find(search_words(text), prefixes=prefixes)

    def has_word(self, word: str) -> bool:
        """Whether some study has exactly this (normalised) word in a text: a name the question parser keeps as
        typed rather than correcting it to a vocabulary word one letter away."""
        return word in self.all_words

    @cached_property
    def all_words(self) -> frozenset[str]:
        """Every word of every study's texts."""
        return frozenset(w for record in self.records for text in record.texts for w in text.words)

    def find(self, words: tuple[str, ...], *, prefixes: bool = True) -> SearchResult:
        """The studies whose texts match every one of ``words`` (already normalised), best first."""
        hits: list[SearchHit] = []
        seen: set[str] = set()
        for record in self.records:
            matches = [(word, _best_match(word, record, prefixes)) for word in words]
            seen.update(word for word, match in matches if match is not None)
            found = [match for _, match in matches if match is not None]
            if words and len(found) == len(words):
                hits.append(SearchHit(record.study, record.reference, tuple(found)))
        hits.sort(key=lambda h: (tuple(-s for s in h.score), h.reference))
        return SearchResult(words, tuple(hits), tuple(w for w in words if w not in seen))


def _records(evidence_map: EvidenceMap, studies: list[str] | None = None) -> list[StudyTexts]:
    """The texts of every included study (of ``studies`` only, when given)."""
    included = ox.NamedNode(ns.EVM + "IncludedStudy")
    bound = Values(("studyClass", "study"), tuple((included, ox.NamedNode(s)) for s in studies)) \
        if studies is not None else {"studyClass": included}
    texts: dict[str, list[FieldText]] = {}
    references: dict[str, int] = {}
    for row in evidence_map.select(TEXTS_QUERY, bound):
        study = str(row["study"])
        references[study] = int(row["ref"])
        text = str(row["text"])
        texts.setdefault(study, []).append(FieldText(str(row["field"]), text, normalise(text)))
    return [StudyTexts(study, references[study], tuple(sorted(found, key=lambda t: (FIELD_RANK[t.field], t.text))))
            for study, found in texts.items()]


def search_index_of(evidence_map: EvidenceMap) -> SearchIndex:
    """The map's search index, read once, then carried from version to version by each write
    (:meth:`SearchIndex.following`)."""

    def follow(index: SearchIndex, delta: Delta) -> SearchIndex | None:
        return index.following(evidence_map, delta)

    return evidence_map.derive("search-index", lambda: SearchIndex.build(evidence_map), follow=follow)


def search_studies(evidence_map: EvidenceMap, text: str) -> SearchResult:
    """Search ``text`` among the studies of ``evidence_map`` (reads the texts; keep a :class:`SearchIndex` to search
    many times)."""
    return SearchIndex.build(evidence_map).search(text)

