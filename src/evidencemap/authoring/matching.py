"""A cell's value -> a concept of the fact's scheme, by its labels and synonyms (SKOS prefLabel, altLabel,
hiddenLabel, the concept's slug and its codes, skos:notation: "PE" and "PER" are Peru), compared without case,
accents, hyphens or extra spaces.

A value that matches no label exactly is never guessed: it is unknown, with the nearest labels as suggestions.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from dataclasses import dataclass

from evidencemap.model.vocabulary import Concept, Facet

SEPARATOR = ";"  # several values in one cell


def label_key(text: str) -> str:
    """``"Face-to-Face "`` -> ``"face to face"``; ``"Évaluation"`` -> ``"evaluation"``.

    >>> label_key("  In-Person,  Clinical_Setting ")
    'in person clinical setting'
    """
    decomposed = unicodedata.normalize("NFKD", text)
    plain = "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()
    return " ".join(re.sub(r"[-_/,.]+", " ", plain).split())


def split_values(cell: str) -> list[str]:
    """The values of a cell (``;`` separates several), stripped, empty ones dropped."""
    return [v.strip() for v in cell.split(SEPARATOR) if v.strip()]


@dataclass(frozen=True)
class Match:
    value: str
    concept: Concept | None  # None: unknown
    suggestions: tuple[Concept, ...] = ()


class Matcher:
    """The labels of one facet's concepts, indexed for exact and near matches."""

    def __init__(self, facet: Facet) -> None:
        self.facet = facet
        self.by_key: dict[str, list[Concept]] = {}
        for concept in facet.concepts:
            for label in (*concept.labels, concept.slug, *concept.codes):
                found = self.by_key.setdefault(label_key(label), [])
                if concept not in found:
                    found.append(concept)

    def match(self, value: str) -> Match:
        """The concept whose label is ``value`` (exactly, up to case, accents and spacing), else suggestions."""
        key = label_key(value)
        exact = self.by_key.get(key, [])
        if len(exact) == 1:
            return Match(value, exact[0])
        if exact:  # a label two concepts share: the person chooses
            return Match(value, None, tuple(exact))
        near = difflib.get_close_matches(key, list(self.by_key), n=3, cutoff=0.75)
        suggestions: list[Concept] = []
        for candidate in near:
            suggestions.extend(c for c in self.by_key[candidate] if c not in suggestions)
        return Match(value, None, tuple(suggestions))
