"""The summaries a study card shows, kept for the map's version: a page of a list reads only the studies it has not
read before (issue 14).

A page of 20 studies costs four queries over those studies (records, values, the support and the section of each
value: :func:`evidencemap.model.studies.study_summaries`), about 10 ms at 10,000 studies, on every list, answer and
concept page that shows them. A summary depends on the map only, so it is kept once read: in a bounded cache
(least recently used out) made per version of the map (``EvidenceMap.derive``), so that a write, which makes a new
version, drops every summary it might have changed. Summaries are immutable and shared by the pages that show them.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence
from typing import Generic, TypeVar

from evidencemap.graph.store import EvidenceMap
from evidencemap.model.studies import StudySummary, study_summaries
from evidencemap.model.vocabulary import Vocabulary

__all__ = ["CAPACITY", "Kept", "SummaryCache", "card_summaries", "summary_cache"]

CAPACITY = 5_000  # summaries kept per map (some 2-4 KB each: 10-20 MB at most)
K = TypeVar("K")
V = TypeVar("V")


class Kept(Generic[K, V]):
    """At most ``capacity`` values by key, the least recently used dropped first; safe to share between threads."""

    def __init__(self, capacity: int = CAPACITY) -> None:
        self.capacity = capacity
        self._kept: OrderedDict[K, V] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: K) -> V | None:
        with self._lock:
            found = self._kept.get(key)
            if found is not None:
                self._kept.move_to_end(key)
            return found

    def put(self, key: K, value: V) -> None:
        with self._lock:
            self._kept[key] = value
            self._kept.move_to_end(key)
            while len(self._kept) > self.capacity:
                self._kept.popitem(last=False)

    def __len__(self) -> int:
        return len(self._kept)


class SummaryCache(Kept[tuple[str, bool], StudySummary]):
    """Study summaries of one version of the map and one vocabulary (which it keeps, so that the id naming it is
    not another's while it is kept), by (study IRI, with provenance)."""

    def __init__(self, vocabulary: Vocabulary, capacity: int = CAPACITY) -> None:
        super().__init__(capacity)
        self.vocabulary = vocabulary


def summary_cache(evidence_map: EvidenceMap, vocabulary: Vocabulary) -> SummaryCache:
    """The map's summary cache for ``vocabulary`` (one per vocabulary object: a summary's labels are its) at the
    map's current version."""
    return evidence_map.derive(f"model.study_cards {id(vocabulary)}", lambda: SummaryCache(vocabulary))


def card_summaries(
    evidence_map: EvidenceMap, vocabulary: Vocabulary, iris: Sequence[str], *, provenance: bool = True
) -> list[StudySummary]:
    """:func:`study_summaries` of ``iris`` (in that order; a resource that is not an included study is left out),
    reading from the store only those not read before in this version of the map."""
    cache = summary_cache(evidence_map, vocabulary)
    found = {iri: s for iri in iris if (s := cache.get((iri, provenance))) is not None}
    missing = [iri for iri in dict.fromkeys(iris) if iri not in found]
    if missing:
        for summary in study_summaries(evidence_map, vocabulary, missing, provenance=provenance):
            cache.put((summary.iri, provenance), summary)
            found[summary.iri] = summary
    return [found[iri] for iri in dict.fromkeys(iris) if iri in found]
