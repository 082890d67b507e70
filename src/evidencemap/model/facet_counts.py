"""Facet value counts among a set of studies, as bitsets over the facet index (issue 14).

A study list shows, beside every value of every facet, how many of the listed studies have it: some 330 values on
the bundled vocabulary, each counted on every request. The facet index (:mod:`evidencemap.model.facet_index`) answers
a count with a pass over a boolean array of one entry per study (``count_nonzero(has & mask)``): a few microseconds a
value at 10,000 studies, ten times that at 100,000. Here each value's studies are one Python ``int`` used as a bitset
(bit *i* for the index's study *i*), so that a count is ``(has & among).bit_count()``, a pass over machine words, a
sixty-fourth of the work; and the counts among every study of the map (the unfiltered list, ``/api/facets``) are
computed once per version of the map and read, not counted, on each request.

The bitsets are derived state of the map (``EvidenceMap.derive``, one :class:`FacetBits` per support level): read
from the index of the same version, one facet at a time on first use, and dropped when the map changes. They give
what the index gives (the same values, keys and order: tests compare the two), which gives what the SPARQL of
:func:`evidencemap.model.facets.counts_query` gives.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

import numpy as np

from evidencemap.graph.store import EvidenceMap, to_python
from evidencemap.model.facet_index import FacetIndex, Mask, index_of
from evidencemap.model.support import support_levels
from evidencemap.model.vocabulary import Facet

__all__ = ["FacetBits", "ValueBits", "bits_of", "facet_bits", "level_key"]


def bits_of(mask: Mask) -> int:
    """A boolean array over the index's studies as an int: bit *i* set when ``mask[i]``.

    >>> bits_of(np.array([True, False, True, True]))
    13
    """
    return int.from_bytes(np.packbits(mask, bitorder="little").tobytes(), "little")


@dataclass(frozen=True)
class ValueBits:
    """One facet's values that some study has (at one support level), in the index's order: each value's key (a
    concept's IRI, or a literal value), its studies as a bitset, and how many studies of the map have it."""

    keys: tuple[str, ...]
    bits: tuple[int, ...]
    totals: tuple[int, ...]

    def counts(self, among: int | None = None) -> dict[str, int]:
        """``{key: studies of among having it}`` for the values some of them have (``among`` None: every study of
        the map)."""
        if among is None:
            return {key: n for key, n in zip(self.keys, self.totals, strict=True) if n}
        out: dict[str, int] = {}
        for key, has in zip(self.keys, self.bits, strict=True):
            n = (has & among).bit_count()
            if n:
                out[key] = n
        return out


@dataclass
class FacetBits:
    """The bitsets of every facet's values at one support level, for one version of the map (:func:`facet_bits`).
    ``everyone`` is the bitset of every study of the index (the selection that filters nothing)."""

    index: FacetIndex
    max_support: str | None
    everyone: int
    _facets: dict[tuple[str, str], ValueBits] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def facet(self, facet: Facet) -> ValueBits:
        """The bitsets of ``facet``'s values, made from the index on first use."""
        key = (facet.name, facet.sparql_path())
        found = self._facets.get(key)
        if found is None:
            with self._lock:
                found = self._facets.get(key)
                if found is None:
                    found = self._facets[key] = self._read(facet)
        return found

    def _read(self, facet: Facet) -> ValueBits:
        keys = self.index.facet(facet).keys
        masks = self.index.value_masks(facet, self.max_support)
        names = tuple(keys.get(value) or str(to_python(value)) for value in masks)
        bits = tuple(bits_of(mask) for mask in masks.values())
        return ValueBits(names, bits, tuple(b.bit_count() for b in bits))

    def counts(self, facet: Facet, among: Mask | int | None = None) -> dict[str, int]:
        """``{value key: studies of among having it}`` (``among`` None: every study), as
        :meth:`FacetIndex.counts` gives them."""
        if isinstance(among, np.ndarray):
            among = None if bool(among.all()) else bits_of(among)
        return self.facet(facet).counts(among)


def level_key(evidence_map: EvidenceMap, max_support: str | None) -> str | None:
    """The support level as the index reads it: None for every fact (no level, or the weakest)."""
    return max_support if support_levels(evidence_map).is_strict(max_support) else None


def facet_bits(evidence_map: EvidenceMap, max_support: str | None = None) -> FacetBits:
    """The map's value bitsets at the support level ``max_support``, made once per version of the map."""
    level = level_key(evidence_map, max_support)

    def build() -> FacetBits:
        index = index_of(evidence_map)
        return FacetBits(index, level, (1 << index.size) - 1)

    return evidence_map.derive(f"model.facet_counts {level or ''}", build)
