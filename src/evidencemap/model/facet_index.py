"""The facet index: which studies have which facet value, as boolean arrays over the studies, read from the store.

Why it exists: the study list shows the counts of every facet value among the filtered studies, and a SPARQL
``GROUP BY`` per facet costs about 0.75 s at 10,000 studies and 8 s at 100,000 on pyoxigraph (docs/benchmarks.md),
where a person expects the page at once. The index answers the same two questions as the SPARQL of
:mod:`evidencemap.model.facets` (the studies matching a selection; the counts of a facet's values among them) with array
operations that take microseconds.

It answers them with the same meaning, because it is read from the store by the same graph patterns: a study has a
concept if it reaches it by the facet's path followed by ``skos:broader*`` (so "in person" covers both in-person
settings); repeated values of one facet are OR, different facets AND; only ``evm:IncludedStudy`` resources count,
and only those with a reference number are listed, ordered by it. Tests compare its answers with the SPARQL's on
the bundled map and on synthetic maps.

The two steps of reading (direct values, then the hierarchy) give the pairs of ``counts_query``'s one pattern
(``?study path ?direct . ?direct skos:broader* ?value``) much faster; tests compare the two.

The index is derived state of the map (``EvidenceMap.derive``): built once per version of the map, one facet at a time
on first use (or all at once by :meth:`FacetIndex.warm`). A write does not build it again: :meth:`FacetIndex.following`
makes the index of the next version from this one and the change (a few ms where a whole build takes seconds at
100,000 studies): only the studies the change touches are read again from the store and their rows replaced, in new
arrays, so a reader holding the old index keeps a whole old version. A change to the vocabulary (the concepts, their
hierarchy, the facets) is the exception: the index is then built again on its next use.
"""

from __future__ import annotations

import bisect
import threading
from collections import defaultdict
from collections.abc import Container, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import pyoxigraph as ox

from evidencemap import namespaces as ns
from evidencemap.graph.store import Binding, Delta, EvidenceMap, to_python
from evidencemap.graph.values import Values
from evidencemap.model.study_query import StudyQuery, finding_pattern, value_path
from evidencemap.model.support import support_levels
from evidencemap.model.vocabulary import Facet

Mask = npt.NDArray[np.bool_]

PREFIXES = ns.sparql_prefixes(("evm", "skos"))
_KEY = "facet-index"

# Every included study with its reference number, if it has one (the unnumbered ones are counted, not listed).
STUDIES_QUERY = StudyQuery(
    "?study (MIN(?ref) AS ?number)",
    patterns=["OPTIONAL { ?study evm:referenceNumber ?ref }"],
    modifiers="GROUP BY ?study",
).text()


def direct_values_query(facet: Facet) -> str:
    """The values a resource reaches by ``facet``'s path (the index keeps those of the included studies): the
    (study, value) pairs of the study query's patterns before the hierarchy, which the index adds itself."""
    return PREFIXES + f"SELECT ?study ?value WHERE {{ ?study {value_path(facet, hierarchy=False)} ?value }}"


def supported_values_query(facet: Facet) -> str:
    """The (study, direct value, support kind) of every finding stating a value of concept ``facet``: the pairs of
    :func:`direct_values_query` with how strongly each rests on the review (read only when a level asks for it)."""
    return PREFIXES + f"SELECT ?study ?value ?kind WHERE {{ {finding_pattern(facet, '?study', '?value', '?kind')} }}"


BROADER_QUERY = PREFIXES + "SELECT ?narrower ?broader WHERE { ?narrower skos:broader+ ?broader }"

# The resources whose statements a finding among ``?r`` is about: a change to a finding touches its subject's study.
FINDING_SUBJECTS = f"SELECT DISTINCT ?x WHERE {{ ?r <{ns.RDF}subject> ?x }}"


@dataclass
class FacetValues:
    """One facet's values (store terms), each with the studies that have it, and the key its counts go under."""

    masks: dict[Binding, Mask]
    keys: dict[Binding, str]
    # Per value, the rank of the strongest support each study has for it (0 cited, 1 derived, ...; NO_SUPPORT for
    # none): read on the first use of a level stricter than the weakest.
    ranks: dict[Binding, npt.NDArray[np.int8]] | None = None


NO_SUPPORT = np.int8(127)


@dataclass
class FacetIndex:
    """Studies in listing order (reference number, then IRI; unnumbered ones last) and each facet's value masks."""

    evidence_map: EvidenceMap
    studies: tuple[str, ...]
    listed: Mask  # has a reference number: the studies a list shows
    # Each study's reference number (inf without one): the listing order, kept to place a changed study.
    numbers: tuple[float, ...] | None = None
    _position: dict[str, int] = field(default_factory=dict)
    _broader: dict[Binding, set[Binding]] | None = None  # every concept's broader concepts, read once
    _facets: dict[tuple[str, str], FacetValues] = field(default_factory=dict)
    _definitions: dict[tuple[str, str], Facet] = field(default_factory=dict)  # the facets read, to read them again
    _rank_of: dict[str, int] | None = None  # each support kind's rank, read with the first ranks
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self._position = dict(zip(self.studies, range(len(self.studies)), strict=True))

    @classmethod
    def build(cls, evidence_map: EvidenceMap) -> FacetIndex:
        numbered = sorted(_numbered(evidence_map))
        return cls._ordered(evidence_map, numbered)

    @classmethod
    def _ordered(cls, evidence_map: EvidenceMap, numbered: Sequence[tuple[float, str]]) -> FacetIndex:
        numbers, studies = (tuple(column) for column in zip(*numbered, strict=True)) if numbered else ((), ())
        listed = np.array(numbers, dtype=float) != float("inf") if numbers else np.zeros(0, dtype=bool)
        return cls(evidence_map, studies, listed, numbers)

    @property
    def size(self) -> int:
        return len(self.studies)

    def facet(self, facet: Facet) -> FacetValues:
        """The value masks of ``facet``, read from the store on first use."""
        key = (facet.name, facet.sparql_path())
        with self._lock:
            self._definitions.setdefault(key, facet)
            found = self._facets.get(key)
            if found is None:
                found = self._facets[key] = self._read(facet)
            return found

    def warm(self, facets: Iterable[Facet]) -> FacetIndex:
        """Read every facet now (a server does it at start, so that no visitor waits for it), and keep the index in
        the store cache when the map has one (:meth:`EvidenceMap.save`): the next start reads it from there."""
        known = len(self._facets)
        for facet in facets:
            self.facet(facet)
        if len(self._facets) > known:
            self.evidence_map.save(_KEY, self.state())
        return self

    def state(self) -> dict[str, object]:
        """What the index knows, without the map it reads (for the store cache; :meth:`restore`)."""
        with self._lock:
            return {"studies": self.studies, "listed": self.listed, "numbers": self.numbers,
                    "broader": self._broader, "facets": dict(self._facets)}

    @classmethod
    def restore(cls, evidence_map: EvidenceMap, state: object) -> FacetIndex | None:
        """The index :meth:`state` described, reading ``evidence_map`` for what it did not hold; None when
        ``state`` is not such a description."""
        if not isinstance(state, dict) or not isinstance(state.get("studies"), tuple):
            return None
        numbers = state.get("numbers")
        index = cls(evidence_map, state["studies"], state["listed"], numbers if isinstance(numbers, tuple) else None)
        index._broader = state["broader"]
        index._facets = dict(state["facets"])
        return index

    def _read(self, facet: Facet) -> FacetValues:
        """One facet's masks (called under the lock): its direct values, then their broader concepts."""
        by_value: dict[Binding, list[int]] = defaultdict(list)
        for study, value in self.evidence_map.solutions(direct_values_query(facet)):
            found = self._position.get(study.value)
            if found is not None:
                by_value[value].append(found)
        masks: dict[Binding, Mask] = {}
        for value, positions in by_value.items():
            mask = np.zeros(self.size, dtype=bool)
            mask[positions] = True
            masks[value] = mask
        if facet.is_concept_facet:  # a study also has every broader concept of its values (skos:broader*)
            broader = self._broader_of()
            for value, mask in list(masks.items()):
                for ancestor in broader.get(value, ()):
                    if ancestor in masks:
                        masks[ancestor] = masks[ancestor] | mask
                    else:
                        masks[ancestor] = mask.copy()
        return FacetValues(masks, {value: str(to_python(value)) for value in masks})

    def _broader_of(self) -> dict[Binding, set[Binding]]:
        """Every concept's broader concepts (read once, under the lock)."""
        if self._broader is None:
            self._broader = defaultdict(set)
            for narrower, ancestor in self.evidence_map.solutions(BROADER_QUERY):
                self._broader[narrower].add(ancestor)
        return self._broader

    def _ranks(self, facet: Facet, values: FacetValues) -> dict[Binding, npt.NDArray[np.int8]]:
        """``values.ranks``, read from the findings on first use: a study's rank for a value is that of the strongest
        finding stating it or (skos:broader*) a narrower value."""
        with self._lock:
            if values.ranks is not None:
                return values.ranks
            rank_of = self._ranks_of_kinds()
            ranks: dict[Binding, npt.NDArray[np.int8]] = {}
            for study, value, kind in self.evidence_map.solutions(supported_values_query(facet)):
                found = self._position.get(study.value)
                rank = rank_of.get(kind.value)
                if found is None or rank is None:
                    continue
                if value not in ranks:
                    ranks[value] = np.full(self.size, NO_SUPPORT, dtype=np.int8)
                ranks[value][found] = min(int(ranks[value][found]), rank)
            broader = self._broader_of()
            for value, own in list(ranks.items()):
                for ancestor in broader.get(value, ()):
                    if ancestor in ranks:
                        ranks[ancestor] = np.minimum(ranks[ancestor], own)
                    else:
                        ranks[ancestor] = own.copy()
            values.ranks = ranks
            return ranks

    def _ranks_of_kinds(self) -> dict[str, int]:
        if self._rank_of is None:
            self._rank_of = {kind.iri: kind.rank for kind in support_levels(self.evidence_map).kinds}
        return self._rank_of

    def value_masks(self, facet: Facet, max_support: str | None = None) -> dict[Binding, Mask]:
        """``{value: studies having it}``, counting only the facts whose support is at least as strong as
        ``max_support`` (None or the weakest level: every fact; a literal facet has no findings and ignores it)."""
        values = self.facet(facet)
        levels = support_levels(self.evidence_map)
        if not facet.is_concept_facet or not levels.is_strict(max_support):
            return values.masks
        limit = levels.rank(max_support or levels.weakest)
        return {value: ranks <= limit for value, ranks in self._ranks(facet, values).items()}

    # -- following a change ------------------------------------------------------------------------------------------

    def following(self, delta: Delta) -> FacetIndex | None:
        """The index of the map with ``delta`` applied (the store already holds it), made from this one: the studies
        the change touches are read again, every other row is copied. This index is left as it is. None when the
        change touches the vocabulary, or a quarter of the studies (a journal replayed at start), or when this index
        does not know its studies' numbers: build it again then."""
        with self._lock:
            if self.numbers is None:
                return None
            touched = self._touched(delta)
            if touched is None or len(touched) > max(1_000, self.size // 4):
                return None  # the vocabulary changed, or so much that a whole build costs no more
            return self._with_rows(touched)

    def _touched(self, delta: Delta) -> set[str] | None:
        """The included studies, before or after ``delta``, whose rows it may change (:func:`touched_studies` with
        the paths of the facets read); None when it touches the vocabulary."""
        return touched_studies(self.evidence_map, delta, [f.path for f in self._definitions.values()],
                               self._position)

    def _with_rows(self, touched: set[str]) -> FacetIndex:
        """A new index: ``touched`` studies placed again by their reference numbers and their rows read again."""
        assert self.numbers is not None
        found = _numbered(self.evidence_map, sorted(touched)) if touched else []
        present = {iri for _, iri in found}
        numbered = list(zip(self.numbers, self.studies, strict=True))
        for at in sorted((self._position[iri] for iri in touched if iri in self._position), reverse=True):
            del numbered[at]
        for item in sorted(found):
            bisect.insort(numbered, item)
        new = FacetIndex._ordered(self.evidence_map, numbered)
        new._broader = self._broader
        new._definitions = dict(self._definitions)
        new._rank_of = self._rank_of
        runs = None
        if new.studies != self.studies:
            # The untouched studies keep their order: the k-th of them before is the k-th after.
            source = np.ones(self.size, dtype=bool)
            source[[self._position[iri] for iri in touched if iri in self._position]] = False
            target = np.ones(new.size, dtype=bool)
            target[[new._position[iri] for iri in present]] = False
            runs = _runs(np.flatnonzero(source), np.flatnonzero(target))
        rows = [new._position[iri] for iri in sorted(present)]
        cleared = [self._position[iri] for iri in touched if iri in self._position]
        for key, values in self._facets.items():
            facet = self._definitions.get(key)
            if facet is None:
                continue  # not read by this index's own facet(): read on first use
            new._facets[key] = new._values_with_rows(facet, values, runs, rows, sorted(present), cleared)
        return new

    def _values_with_rows(self, facet: Facet, old: FacetValues, runs: list[tuple[int, int, int]] | None,
                          rows: list[int], studies: list[str], cleared: list[int]) -> FacetValues:
        """``old`` moved to this index's positions (``runs``: see :func:`_runs`; None: the same positions), the
        ``rows`` of ``studies`` cleared and read again. ``cleared``: the touched studies' rows in ``old``, the only
        ones whose loss can leave a value with no study."""

        def moved(array: npt.NDArray[Any], empty: Any) -> npt.NDArray[Any]:
            if runs is None:
                out = array.copy()
                out[rows] = empty
                return out
            out = np.full(self.size, empty, dtype=array.dtype)
            for start, to, length in runs:
                out[to:to + length] = array[start:start + length]
            return out

        masks = {value: moved(mask, False) for value, mask in old.masks.items()}
        broader = self._broader_of() if facet.is_concept_facet else {}
        bound = Values.column("study", [ox.NamedNode(s) for s in studies])
        if studies:
            for study, value in self.evidence_map.solutions(direct_values_query(facet), bound):
                at = self._position.get(study.value)
                if at is None:
                    continue
                for held in (value, *broader.get(value, ())):
                    if held not in masks:
                        masks[held] = np.zeros(self.size, dtype=bool)
                    masks[held][at] = True
        emptied = {value for value, mask in old.masks.items() if mask[cleared].any()}
        masks = {value: mask for value, mask in masks.items() if value not in emptied or mask.any()}
        keys = {value: old.keys.get(value) or str(to_python(value)) for value in masks}
        ranks = None
        if old.ranks is not None:
            ranks = {value: moved(array, NO_SUPPORT) for value, array in old.ranks.items()}
            rank_of = self._ranks_of_kinds()
            if studies:
                for study, value, kind in self.evidence_map.solutions(supported_values_query(facet), bound):
                    at = self._position.get(study.value)
                    rank = rank_of.get(kind.value)
                    if at is None or rank is None:
                        continue
                    for held in (value, *broader.get(value, ())):
                        if held not in ranks:
                            ranks[held] = np.full(self.size, NO_SUPPORT, dtype=np.int8)
                        ranks[held][at] = min(int(ranks[held][at]), rank)
            emptied = {value for value, array in old.ranks.items() if (array[cleared] != NO_SUPPORT).any()}
            ranks = {value: array for value, array in ranks.items()
                     if value not in emptied or (array != NO_SUPPORT).any()}
        return FacetValues(masks, keys, ranks)

    # -- the questions of facets.py -------------------------------------------------------------------------------

    def matching(self, choices: Iterable[tuple[Facet, tuple[Binding, ...]]], max_support: str | None = None) -> Mask:
        """The studies having, for every (facet, terms), one of those terms (see ``facets.Selection.terms``), by facts
        at least as strong as ``max_support`` (see :meth:`value_masks`)."""
        mask = np.ones(self.size, dtype=bool)
        for facet, terms in choices:
            values = self.value_masks(facet, max_support)
            either = np.zeros(self.size, dtype=bool)
            for term in terms:
                found = values.get(term)
                if found is not None:
                    either |= found
            mask &= either
        return mask

    def position(self, study: str) -> int | None:
        """The study's position in the masks (None for a resource that is not an included study)."""
        return self._position.get(study)

    def listing(self, mask: Mask) -> list[str]:
        """The listed studies of ``mask``, in listing order."""
        return [self.studies[i] for i in np.flatnonzero(mask & self.listed)]

    def counts(self, facet: Facet, mask: Mask, max_support: str | None = None) -> dict[str, int]:
        """``{value key: studies of mask having it}`` for the values some of them have (by facts at least as strong
        as ``max_support``)."""
        values = self.facet(facet)
        out: dict[str, int] = {}
        for value, has in self.value_masks(facet, max_support).items():
            n = int(np.count_nonzero(has & mask))
            if n:
                out[values.keys.get(value) or str(to_python(value))] = n
        return out


def touched_studies(evidence_map: EvidenceMap, delta: Delta, paths: Iterable[Sequence[str]],
                    known: Container[str] = ()) -> set[str] | None:
    """The included studies whose reading by ``paths`` (property paths from a study) ``delta`` may change: those among
    ``known`` (a structure's studies before the change) or included after it that the change states something about,
    those reaching a resource it states something about by a proper start of one of ``paths`` (a study's
    intervention, its report...), and those that the findings it changes are about (directly or by such a start).
    None when the change touches the vocabulary (its graph, or any SKOS statement): a structure then builds again."""
    vocabulary = evidence_map.iri(ns.GRAPH_VOCABULARY)
    resources: set[str] = set()
    for quad in delta.quads:
        graph = quad.graph_name
        if (isinstance(graph, ox.NamedNode) and graph.value == vocabulary) or quad.predicate.value.startswith(ns.SKOS):
            return None
        if isinstance(quad.subject, ox.NamedNode):
            resources.add(quad.subject.value)
        if quad.predicate.value == ns.RDF + "subject" and isinstance(quad.object, ox.NamedNode):
            resources.add(quad.object.value)
    if not resources:
        return set()
    bound = Values.column("r", [ox.NamedNode(r) for r in sorted(resources)])
    resources |= {x.value for (x,) in evidence_map.solutions(FINDING_SUBJECTS, bound) if isinstance(x, ox.NamedNode)}
    bound = Values.column("r", [ox.NamedNode(r) for r in sorted(resources)])
    touched = {r for r in resources if r in known}
    for query in _reaching_queries(paths):
        touched |= {study.value for (study,) in evidence_map.solutions(query, bound) if isinstance(study, ox.NamedNode)}
    return touched


def _reaching_queries(paths: Iterable[Sequence[str]]) -> list[str]:
    """Queries of the included studies among ``?r`` or reaching one of them by a proper start of one of ``paths``:
    one query each, so that the bound ``?r`` starts each (pyoxigraph does not carry it into a UNION)."""
    starts = sorted({tuple(path[:i]) for path in paths for i in range(1, len(path))})
    patterns = ["?r a evm:IncludedStudy . BIND(?r AS ?study)",
                *("?study " + "/".join(f"<{p}>" for p in start) + " ?r . ?study a evm:IncludedStudy"
                  for start in starts)]
    return [PREFIXES + f"SELECT DISTINCT ?study WHERE {{ {pattern} }}" for pattern in patterns]


def _runs(source: npt.NDArray[np.intp], target: npt.NDArray[np.intp]) -> list[tuple[int, int, int]]:
    """The rows ``source`` (ascending) go to the rows ``target`` (ascending, as many) as (from, to, length) runs of
    consecutive rows: a change touching k studies leaves at most 2k + 1, copied as slices.

    >>> _runs(np.array([0, 1, 3, 4]), np.array([0, 1, 2, 3]))
    [(0, 0, 2), (3, 2, 2)]
    """
    if not len(source):
        return []
    breaks = np.flatnonzero((np.diff(source) != 1) | (np.diff(target) != 1)) + 1
    starts = [0, *breaks.tolist()]
    ends = [*breaks.tolist(), len(source)]
    return [(int(source[a]), int(target[a]), b - a) for a, b in zip(starts, ends, strict=True)]


def _numbered(evidence_map: EvidenceMap, studies: Sequence[str] = ()) -> list[tuple[float, str]]:
    """(reference number or inf, IRI) of every included study, or of those of ``studies`` that are included."""
    bound = Values.column("study", [ox.NamedNode(s) for s in studies]) if studies else None
    numbered: list[tuple[float, str]] = []
    for study, number in evidence_map.solutions(STUDIES_QUERY, bound):
        ref = to_python(number) if number is not None else None
        numbered.append((ref if isinstance(ref, int | float) else float("inf"), study.value))
    return numbered


def index_of(evidence_map: EvidenceMap) -> FacetIndex:
    """The map's facet index, built on first use, or read from the store cache where :meth:`FacetIndex.warm` kept it
    at an earlier start of the same files; after a write, the previous version's index followed the change
    (:meth:`FacetIndex.following`)."""
    return evidence_map.derive(
        _KEY, lambda: FacetIndex.restore(evidence_map, evidence_map.saved(_KEY)) or FacetIndex.build(evidence_map),
        follow=FacetIndex.following,
    )


def forget(evidence_map: EvidenceMap) -> None:
    """Drop the map's facet index; the next use rebuilds it (``EvidenceMap.changed`` drops it with the rest)."""
    evidence_map.forget(_KEY)


__all__ = ["FacetIndex", "direct_values_query", "forget", "index_of", "supported_values_query", "touched_studies"]
