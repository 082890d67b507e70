"""Years in a question: "after 2022", "since 2023", "between 2020 and 2023", "2019-2021", "in 2023 or later".

Only the English of comparisons lives here (after, before, since, until, between, or later...); which facet holds
years is read from the vocabulary (the facet whose ``evm:facetDatatype`` is ``xsd:gYear``), and the years a range
covers are the map's own years of that facet. Any four-digit year is recognised, whether or not the map has studies
of that year ("published in 2021" is understood, and answered with none).
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Sequence
from dataclasses import dataclass

from evidencemap import namespaces as ns
from evidencemap.model.vocabulary import Facet, Vocabulary

YEAR_DATATYPE = ns.XSD + "gYear"
_YEAR = re.compile(r"[12]\d{3}")
_DASHED_RANGE = re.compile(r"\b([12]\d{3})\s*[-\u2013\u2014]\s*([12]\d{3})\b")

# Words of English comparisons, before a year (a bound, and whether the year itself is in the range) ...
LOWER_CUES: dict[tuple[str, ...], int] = {
    ("after",): 1, ("later", "than"): 1, ("newer", "than"): 1, ("more", "recent", "than"): 1, ("since",): 0,
    ("from",): 0,  # only with "onwards" or "to": "from 2022" alone is the year 2022
}
UPPER_CUES: dict[tuple[str, ...], int] = {
    ("before",): 1, ("earlier", "than"): 1, ("prior", "to"): 1, ("older", "than"): 1, ("until",): 0, ("till",): 0,
    ("up", "to"): 0, ("through",): 0,
}
# ... and after it ("2023 or later", "2022 onwards").
OPEN_ABOVE = (("or", "later"), ("or", "after"), ("and", "later"), ("or", "newer"), ("onward",), ("onwards",))
OPEN_BELOW = (("or", "earlier"), ("or", "before"), ("and", "earlier"), ("or", "older"))
RANGE_WORDS = frozenset({"to", "until", "till", "through", "thru"})
SINGLE_CUES = frozenset({"in", "from", "during"})
# "in the last 3 years", "over the past five years", "last year": counted in calendar years, this one included.
RECENT_WORDS = frozenset({"last", "past"})
RECENT_BEFORE = frozenset({"in", "over", "within", "during", "from", "of", "the"})
NUMBER_WORDS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9,
                "ten": 10, "couple": 2, "few": 3}  # "a few": three, said in the reading with the years it covers


def year_facet(vocabulary: Vocabulary) -> Facet | None:
    """The facet whose values are years, by its datatype."""
    return next((f for f in vocabulary.facets if f.datatype == YEAR_DATATYPE), None)


def spell_ranges(text: str) -> str:
    """"2019-2021" written "2019 to 2021", so that the dash is not lost with the punctuation.

    >>> spell_ranges("studies published 2019-2021")
    'studies published 2019 to 2021'
    """
    return _DASHED_RANGE.sub(r"\1 to \2", text)


def is_year(token: str) -> bool:
    return len(token) == 4 and _YEAR.fullmatch(token) is not None


@dataclass(frozen=True)
class YearRange:
    """Words of a question read as a range of years (bounds included; None for an open end)."""

    start: int
    end: int  # token positions [start, end)
    low: int | None
    high: int | None
    text: str  # the words as typed, e.g. "after 2022"

    def covers(self, year: int) -> bool:
        return (self.low is None or year >= self.low) and (self.high is None or year <= self.high)

    def years(self, known: Sequence[str]) -> tuple[str, ...]:
        """The values of ``known`` (the map's years) in the range; a single year stands for itself."""
        if self.low is not None and self.low == self.high:
            return (str(self.low),)
        return tuple(y for y in known if y.isdigit() and self.covers(int(y)))


def _ends_with(tokens: Sequence[str], end: int, cue: tuple[str, ...]) -> bool:
    return end >= len(cue) and tuple(tokens[end - len(cue):end]) == cue


def _starts_with(tokens: Sequence[str], start: int, cue: tuple[str, ...]) -> bool:
    return tuple(tokens[start:start + len(cue)]) == cue


def _recent(tokens: Sequence[str], originals: Sequence[str], i: int, this_year: int) -> YearRange | None:
    """"(in) the last N years" starting at ``i`` (the word "last" or "past"): the N calendar years up to
    ``this_year``, the years said in the text ("in the last 3 years (2024 or later)"). "Last year" alone is the
    year before this one; "the past year" the twelve months, so this year and the one before."""
    j = i + 1
    n: int | None = None
    if j < len(tokens) and ((tokens[j].isdigit() and 0 < len(tokens[j]) <= 3) or tokens[j] in NUMBER_WORDS):
        n = int(tokens[j]) if tokens[j].isdigit() else NUMBER_WORDS[tokens[j]]
        j += 1
    if j >= len(tokens) or tokens[j] != "year" or n == 0:
        return None
    start = i
    while start > 0 and tokens[start - 1] in RECENT_BEFORE:
        start -= 1
    words = " ".join(originals[start:j + 1])
    if n is None and start == i and tokens[i] == "last":
        if start > 0 and tokens[start - 1] == "since":  # "since last year"
            return YearRange(start - 1, j + 1, this_year - 1, None,
                             f"{' '.join(originals[start - 1:j + 1])} ({this_year - 1} or later)")
        return YearRange(start, j + 1, this_year - 1, this_year - 1, f"{words} ({this_year - 1})")
    low = this_year - (n or 2) + 1
    return YearRange(start, j + 1, low, None, f"{words} ({low} or later)")


def read_years(tokens: Sequence[str], originals: Sequence[str], this_year: int | None = None) -> list[YearRange]:
    """Every year expression of a question (its tokens lower case, ``originals`` as typed), left to right; "the
    last N years" counts back from ``this_year`` (today's, unless given)."""
    found: list[YearRange] = []
    i = 0
    while i < len(tokens):
        if tokens[i] in RECENT_WORDS:
            recent = _recent(tokens, originals, i, this_year or datetime.date.today().year)
            if recent is not None:
                found.append(recent)
                i = recent.end
                continue
        if not is_year(tokens[i]):
            i += 1
            continue
        year = int(tokens[i])
        start, end = i, i + 1
        low: int | None = year
        high: int | None = year
        if i >= 1 and tokens[i - 1] == "between" and _starts_with(tokens, i + 1, ("and",)) and \
                i + 2 < len(tokens) and is_year(tokens[i + 2]):
            start, end, high = i - 1, i + 3, int(tokens[i + 2])
        elif i + 2 < len(tokens) and tokens[i + 1] in RANGE_WORDS and is_year(tokens[i + 2]):
            end, high = i + 3, int(tokens[i + 2])
            start = i - 1 if i >= 1 and tokens[i - 1] in SINGLE_CUES else i
        else:
            above = next((c for c in OPEN_ABOVE if _starts_with(tokens, i + 1, c)), None)
            below = next((c for c in OPEN_BELOW if _starts_with(tokens, i + 1, c)), None)
            lower = next((c for c in LOWER_CUES if _ends_with(tokens, i, c)), None)
            upper = next((c for c in UPPER_CUES if _ends_with(tokens, i, c)), None)
            if above is not None:
                end, high = i + 1 + len(above), None
                start = i - 1 if i >= 1 and tokens[i - 1] in SINGLE_CUES else i
            elif below is not None:
                end, low = i + 1 + len(below), None
                start = i - 1 if i >= 1 and tokens[i - 1] in SINGLE_CUES else i
            elif lower is not None and lower != ("from",):
                start, low, high = i - len(lower), year + LOWER_CUES[lower], None
            elif upper is not None:
                start, low, high = i - len(upper), None, year - UPPER_CUES[upper]
            elif i >= 1 and tokens[i - 1] in SINGLE_CUES:
                start = i - 1
        if low is not None and high is not None and low > high:
            low, high = high, low
        found.append(YearRange(start, end, low, high, " ".join(originals[start:end])))
        i = end
    return found
