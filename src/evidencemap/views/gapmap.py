"""The evidence gap map: studies counted in every cell of two crossed facets, empty cells reported as gaps.

Either axis is one facet or several stacked (the default rows are the intervention's modality and components; the
default columns are the outcome domains, with challenges as the alternative column set). A study counts under a
concept when it has that concept or a narrower one (``skos:broader*``, as in :mod:`evidencemap.model.facets`), and the
facet filters of ``/api/studies`` restrict the studies. The studies on each axis come from the map's facet index
(:mod:`evidencemap.model.facet_index`, read from the store) and the studies' details from one query, so a study added to
the data changes every cell.

"The review does not say which" is not "none": a cell without a study is a *gap* only when the review counts no study
for its row or column value without naming it. When it does ("two studies from the United Kingdom", 3.2, none named),
the cell is *not attributed*: the review counts studies there but does not say which (see
:mod:`evidencemap.model.review_counts`), and the gap list leaves it out. A support level (``max_support``: cited,
derived or inferred, the default) holds the cells, totals and breakdowns to facts at least that strong.

A scoping review maps what has been studied; it appraises no study's quality. Bubble size is a number of studies and
colour a study design or evidence type: neither ever encodes strength of evidence (see :data:`CAVEAT`).
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, overload

import numpy as np
import pyoxigraph as ox

from evidencemap import namespaces as ns
from evidencemap.errors import InvalidParameter
from evidencemap.graph.loading import build_vocabulary_store
from evidencemap.graph.store import EvidenceMap
from evidencemap.model.facet_index import index_of
from evidencemap.model.facets import Selection
from evidencemap.model.review_counts import ReviewCount, unattributed_by_value
from evidencemap.model.study_query import CITATION_AND_SLUG, StudyQuery, any_direct_value, value_path
from evidencemap.model.support import support_levels
from evidencemap.model.vocabulary import Concept, Facet, Vocabulary, load_vocabulary
from evidencemap.settings import Settings

# The gap-map roles of evm:gapMapRole: which facets the map shows when a visitor has chosen none.
ROWS, COLUMNS, ALTERNATIVE_COLUMNS, COLOUR = "rows", "columns", "alternative columns", "colour"
NOT_STATED = "not-stated"
# The states of a cell: it holds studies; the review counts studies for its row or column value without naming them;
# or no study reported it (a gap).
STUDIES, NOT_ATTRIBUTED, GAP = "studies", "not attributed", "gap"


def default_facets(vocabulary: Vocabulary, role: str) -> tuple[str, ...]:
    """The names of the facets the vocabulary gives ``role`` (``evm:gapMapRole``), in facet order."""
    return tuple(f.name for f in vocabulary.facets_in_role(role))


@lru_cache(maxsize=1)
def _installed_vocabulary() -> Vocabulary:
    """The vocabulary of the installed ontology files, read once per process: the files do not change with a map."""
    store = build_vocabulary_store()
    return load_vocabulary(EvidenceMap(store=store, settings=Settings(data=[], base_iri=ns.CANONICAL_BASE)))


class _InstalledDefault(Sequence[str]):
    """The facet names of one role in the installed vocabulary, read on first use: what :data:`DEFAULT_ROWS` and
    its siblings hold, for callers without a map's vocabulary at hand (prefer :func:`default_facets`)."""

    def __init__(self, role: str) -> None:
        self.role = role

    def _names(self) -> tuple[str, ...]:
        return default_facets(_installed_vocabulary(), self.role)

    @overload
    def __getitem__(self, index: int) -> str: ...

    @overload
    def __getitem__(self, index: slice) -> Sequence[str]: ...

    def __getitem__(self, index: int | slice) -> str | Sequence[str]:
        return self._names()[index]

    def __len__(self) -> int:
        return len(self._names())

    def __iter__(self) -> Iterator[str]:
        return iter(self._names())

    def __repr__(self) -> str:
        return f"{self._names()!r}"


DEFAULT_ROWS: Sequence[str] = _InstalledDefault(ROWS)
DEFAULT_COLS: Sequence[str] = _InstalledDefault(COLUMNS)
ALTERNATIVE_COLS: Sequence[str] = _InstalledDefault(ALTERNATIVE_COLUMNS)
DEFAULT_BREAKDOWN: Sequence[str] = _InstalledDefault(COLOUR)

CAVEAT = (
    "A scoping review maps what has been studied; it appraises no study's quality. Bubble size is the number of "
    "studies and colour is a study design or an evidence type: neither encodes the strength or quality of evidence, "
    "and an empty cell (a gap) means no included study reported that combination, not that it does not work. A "
    "cell marked \"not attributed\" is not a gap: the review counts studies with its row or column value but does "
    "not say which."
)


@dataclass(frozen=True)
class AxisValue:
    """One row or column: a concept of a facet, or a literal value (a year) of a non-concept facet."""

    facet: Facet
    key: str
    slug: str
    label: str
    iri: str | None
    depth: int
    term: ox.NamedNode | ox.Literal

    def as_dict(self) -> dict[str, Any]:
        return {"key": self.key, "facet": self.facet.name, "slug": self.slug, "label": self.label, "iri": self.iri}


@dataclass(frozen=True)
class Axis:
    facets: tuple[Facet, ...]
    values: tuple[AxisValue, ...]

    @property
    def names(self) -> str:
        return ",".join(f.name for f in self.facets)

    def value(self, key: str) -> AxisValue:
        """:raises InvalidParameter: listing the keys of this axis."""
        for v in self.values:
            if v.key == key:
                return v
        raise InvalidParameter(
            f"No value {key!r} on the axis {self.names!r}.", hint=f"Use one of: {', '.join(self.keys())}."
        )

    def keys(self) -> list[str]:
        return [v.key for v in self.values]


@dataclass(frozen=True)
class StudyRef:
    iri: str
    ref: int
    citation: str
    slug: str
    values: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"ref": self.ref, "citation": self.citation, "slug": self.slug, "iri": self.iri}


@dataclass(frozen=True)
class Cell:
    row: AxisValue
    col: AxisValue
    studies: tuple[StudyRef, ...]
    # The review's count of studies with the row's or the column's value that the map does not fully name (the one
    # leaving more studies unnamed), when there is one.
    review: ReviewCount | None = None

    @property
    def count(self) -> int:
        return len(self.studies)

    @property
    def state(self) -> str:
        """``studies``, ``not attributed`` (no study named, but the review counts unnamed studies with the row's or
        column's value) or ``gap`` (no study reported it)."""
        if self.studies:
            return STUDIES
        return NOT_ATTRIBUTED if self.review is not None else GAP

    @property
    def gap(self) -> bool:
        """A true gap: no study, and no count of the review that might cover it."""
        return self.state == GAP

    @property
    def review_count(self) -> int | None:
        """How many studies the review counts for the row's or column's value without naming them (None: none)."""
        return self.review.unattributed if self.review is not None else None

    @property
    def key(self) -> str:
        return f"{self.row.key}:{self.col.key}"


@dataclass(frozen=True)
class GapMap:
    rows: Axis
    cols: Axis
    selection: Selection
    breakdown: tuple[Facet, ...]
    studies: tuple[StudyRef, ...]
    cells: dict[tuple[str, str], Cell]
    row_totals: dict[str, int]
    col_totals: dict[str, int]
    max_support: str | None = None
    row_reviews: dict[str, ReviewCount] = field(default_factory=dict)  # axis key -> its unattributed review count
    col_reviews: dict[str, ReviewCount] = field(default_factory=dict)

    def cell(self, row_key: str, col_key: str) -> Cell:
        return self.cells[(self.rows.value(row_key).key, self.cols.value(col_key).key)]

    def parse_cell(self, text: str) -> Cell:
        """The cell named ``row:col`` (keys of this map's axes).

        :raises InvalidParameter: when no split of ``text`` names a row and a column.
        """
        rows, cols = set(self.rows.keys()), set(self.cols.keys())
        for i, char in enumerate(text):
            if char == ":" and text[:i] in rows and text[i + 1:] in cols:
                return self.cells[(text[:i], text[i + 1:])]
        raise InvalidParameter(
            f"No cell {text!r} in this gap map.",
            hint="Name a cell as row:col, e.g. "
            f"{self.rows.values[0].key}:{self.cols.values[0].key} (keys are listed in rows.values and cols.values).",
        )

    def ordered_cells(self) -> list[Cell]:
        return [self.cells[(r.key, c.key)] for r in self.rows.values for c in self.cols.values]

    def breakdown_of(self, cell: Cell, facet: Facet) -> list[tuple[str, str, int]]:
        """(slug, label, number of studies) for each value of ``facet`` among the cell's studies, in the
        vocabulary's order; studies without a value count under ``not-stated``. A study with two values counts
        under both."""
        return [(slug, label, n) for slug, label, n in tally(cell.studies, facet) if n]

    def max_segment(self, facet: Facet | None) -> int:
        """The largest bubble: the most studies a cell holds for one value of ``facet`` (or in all)."""
        best = 0
        for cell in self.cells.values():
            counts = [cell.count] if facet is None else [n for _, _, n in self.breakdown_of(cell, facet)]
            best = max([best, *counts])
        return best

    def to_dict(self) -> dict[str, Any]:
        cells: list[dict[str, Any]] = []
        for cell in self.ordered_cells():
            cells.append(
                {
                    "key": cell.key,
                    "row": cell.row.as_dict(),
                    "col": cell.col.as_dict(),
                    "count": cell.count,
                    "gap": cell.gap,
                    "state": cell.state,
                    "review_count": cell.review_count,
                    "review_note": cell.review.sentence if cell.review is not None else None,
                    "studies": [s.as_dict() for s in cell.studies],
                    "breakdown": {
                        f.name: [{"slug": s, "label": lab, "count": n} for s, lab, n in self.breakdown_of(cell, f)]
                        for f in self.breakdown
                    },
                }
            )
        gaps = [{"row": c["row"]["key"], "col": c["col"]["key"]} for c in cells if c["gap"]]
        unattributed = sum(1 for c in cells if c["state"] == NOT_ATTRIBUTED)
        return {
            "caveat": CAVEAT,
            "rows": _axis_dict(self.rows, self.row_totals, self.row_reviews),
            "cols": _axis_dict(self.cols, self.col_totals, self.col_reviews),
            "filters": self.selection.as_params(),
            "support": self.max_support,
            "total": len(self.studies),
            "breakdown_facets": [
                {
                    "name": f.name,
                    "label": f.label,
                    "values": [{"slug": c.slug, "label": c.pref_label} for c in f.concepts],
                }
                for f in self.breakdown
            ],
            "counts": {
                "cells": len(cells), "filled": len(cells) - len(gaps) - unattributed, "gaps": len(gaps),
                "not_attributed": unattributed,
            },
            "cells": cells,
            "gaps": gaps,
        }

    def to_csv(self) -> str:
        """The matrix as CSV: one line per row value, one column per column value, cells = numbers of studies."""
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\r\n")
        writer.writerow(["row facet", "row", *(f"{c.label} [{c.facet.name}:{c.slug}]" for c in self.cols.values)])
        for r in self.rows.values:
            counts = [self.cells[(r.key, c.key)].count for c in self.cols.values]
            writer.writerow([r.facet.label, f"{r.label} [{r.slug}]", *counts])
        return out.getvalue()


def _axis_dict(axis: Axis, totals: dict[str, int], reviews: dict[str, ReviewCount]) -> dict[str, Any]:
    values = []
    for v in axis.values:
        review = reviews.get(v.key)
        values.append({
            **v.as_dict(), "depth": v.depth, "count": totals.get(v.key, 0),
            "review_count": review.unattributed if review is not None else None,
            "review_note": review.sentence if review is not None else None,
        })
    return {"facets": [{"name": f.name, "label": f.label} for f in axis.facets], "values": values}


def tally(studies: Sequence[StudyRef], facet: Facet) -> list[tuple[str, str, int]]:
    counts: dict[str, int] = defaultdict(int)
    for study in studies:
        values = study.values.get(facet.name, ())
        for slug in values or (NOT_STATED,):
            counts[slug] += 1
    tallies = [(c.slug, c.pref_label, counts.get(c.slug, 0)) for c in facet.concepts]
    return [*tallies, (NOT_STATED, "not stated", counts.get(NOT_STATED, 0))]


# -- building --------------------------------------------------------------------------------------------------


def parse_facets(
    vocabulary: Vocabulary, names: str | Sequence[str] | None, default: Sequence[str]
) -> tuple[Facet, ...]:
    """Facets named in ``names`` (comma-separated or a list); ``default`` when none are named.

    :raises InvalidParameter: for an unknown facet, listing the facets.
    """
    raw = names.split(",") if isinstance(names, str) else list(names or [])
    wanted = [n.strip() for part in raw for n in part.split(",") if n.strip()] or list(default)
    return tuple(dict.fromkeys(vocabulary.facet(n) for n in wanted))


def _depth(facet: Facet, concept: Concept) -> int:
    return len(facet.ancestors(concept)) - 1


def _literals(evidence_map: EvidenceMap, facet: Facet) -> list[ox.Literal]:
    """The values of a literal facet (years) that the included studies have, sorted."""
    query = StudyQuery("DISTINCT ?v", patterns=[f"?study {value_path(facet)} ?v ."]).text()
    terms = [s["v"] for s in evidence_map.solutions(query) if isinstance(s["v"], ox.Literal)]
    return sorted(terms, key=lambda t: t.value)


def build_axis(evidence_map: EvidenceMap, facets: Sequence[Facet]) -> Axis:
    """The values of the facets on one axis, in the vocabulary's order (for years: the years found in the map).

    A value's key is its slug, qualified as ``facet.slug`` only when two facets of the axis share a slug.
    """
    pending: list[tuple[Facet, str, str, str | None, int, ox.NamedNode | ox.Literal]] = []
    for facet in facets:
        if facet.is_concept_facet:
            for c in facet.concepts:
                pending.append((facet, c.slug, c.pref_label, c.iri, _depth(facet, c), ox.NamedNode(c.iri)))
        else:
            for term in _literals(evidence_map, facet):
                pending.append((facet, term.value, term.value, None, 0, term))
    slugs = [p[1] for p in pending]
    values = tuple(
        AxisValue(facet, slug if slugs.count(slug) == 1 else f"{facet.name}.{slug}", slug, label, iri, depth, term)
        for facet, slug, label, iri, depth, term in pending
    )
    return Axis(tuple(facets), values)


def studies_detail_query(
    selection: Selection, breakdown: Sequence[Facet], support: Sequence[ox.NamedNode] = ()
) -> str:
    """SPARQL for the studies matching ``selection`` (by facts of the ``support`` kinds, every fact when empty) with
    their citation and direct breakdown values."""
    patterns = [*CITATION_AND_SLUG, any_direct_value(breakdown, "?value")]
    return StudyQuery(
        "?study ?ref ?citation ?slug ?value", selection.terms(), numbered=True, patterns=patterns, support=support
    ).text()


def _studies(
    evidence_map: EvidenceMap,
    vocabulary: Vocabulary,
    selection: Selection,
    breakdown: Sequence[Facet],
    max_support: str | None = None,
) -> dict[str, StudyRef]:
    info: dict[str, dict[str, Any]] = {}
    values: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    names = {f.name for f in breakdown}
    index = index_of(evidence_map)
    held = {f.name: index.value_masks(f, max_support) for f in breakdown}  # a breakdown value at the level
    support = support_levels(evidence_map).accepted_terms(max_support)
    for row in evidence_map.select(studies_detail_query(selection, breakdown, support)):
        iri = row["study"]
        info.setdefault(iri, row)
        found = vocabulary.concept_by_iri(str(row.get("value", "")))
        if not found or found[0].name not in names or found[1].slug in values[iri][found[0].name]:
            continue
        has = held[found[0].name].get(ox.NamedNode(found[1].iri))
        position = index.position(iri)
        if has is not None and position is not None and has[position]:
            values[iri][found[0].name].append(found[1].slug)
    studies = {
        iri: StudyRef(
            iri=iri,
            ref=int(row["ref"]),
            citation=str(row.get("citation", row.get("slug", iri))),
            slug=str(row.get("slug", ns.last_segment(iri))),
            values={name: tuple(v) for name, v in values[iri].items()},
        )
        for iri, row in info.items()
    }
    return dict(sorted(studies.items(), key=lambda kv: (kv[1].ref, kv[0])))


def _membership(
    evidence_map: EvidenceMap, axis: Axis, selection: Selection, max_support: str | None = None
) -> dict[str, list[str]]:
    """study IRI -> keys of the axis values it falls under (a concept covers its narrower ones), from the facet
    index: the (study, value) pairs of facets.counts_query, restricted to the studies matching ``selection``, both by
    facts at least as strong as ``max_support``."""
    index = index_of(evidence_map)
    matching = index.matching(selection.terms(), max_support)
    out: dict[str, list[str]] = defaultdict(list)
    for value in axis.values:
        has = index.value_masks(value.facet, max_support).get(value.term)
        if has is None:
            continue
        for position in np.flatnonzero(has & matching):
            keys = out[index.studies[position]]
            if value.key not in keys:
                keys.append(value.key)
    return out


def build_gap_map(
    evidence_map: EvidenceMap,
    vocabulary: Vocabulary,
    rows: str | Sequence[str] | None = None,
    cols: str | Sequence[str] | None = None,
    selection: Selection | None = None,
    breakdown: str | Sequence[str] | None = None,
    max_support: str | None = None,
) -> GapMap:
    """The gap map of ``rows`` x ``cols`` (facet names) over the studies matching ``selection``, by facts at least as
    strong as ``max_support`` (None: every fact); a cell without a study is "not attributed" rather than a gap when
    the review counts unnamed studies with its row's or column's value.

    :raises InvalidParameter: for an unknown facet name.
    """
    selection = selection or Selection()
    row_axis = build_axis(evidence_map, parse_facets(vocabulary, rows, _defaults(vocabulary, ROWS, 0)))
    col_axis = build_axis(evidence_map, parse_facets(vocabulary, cols, _defaults(vocabulary, COLUMNS, -1)))
    wanted = parse_facets(vocabulary, breakdown, _defaults(vocabulary, COLOUR, None))
    breakdown_facets = tuple(f for f in wanted if f.is_concept_facet)
    studies = _studies(evidence_map, vocabulary, selection, breakdown_facets, max_support)
    row_of = _membership(evidence_map, row_axis, selection, max_support)
    col_of = _membership(evidence_map, col_axis, selection, max_support)
    row_reviews = _reviews(evidence_map, vocabulary, row_axis, max_support)
    col_reviews = _reviews(evidence_map, vocabulary, col_axis, max_support)
    members: dict[tuple[str, str], list[StudyRef]] = defaultdict(list)
    for iri, study in studies.items():
        for r in row_of.get(iri, []):
            for c in col_of.get(iri, []):
                members[(r, c)].append(study)
    cells = {
        (r.key, c.key): Cell(
            r, c, tuple(members.get((r.key, c.key), ())), _larger(row_reviews.get(r.key), col_reviews.get(c.key))
        )
        for r in row_axis.values
        for c in col_axis.values
    }
    return GapMap(
        rows=row_axis,
        cols=col_axis,
        selection=selection,
        breakdown=breakdown_facets,
        studies=tuple(studies.values()),
        cells=cells,
        row_totals=_totals(row_of, studies),
        col_totals=_totals(col_of, studies),
        max_support=max_support,
        row_reviews=row_reviews,
        col_reviews=col_reviews,
    )


def _reviews(
    evidence_map: EvidenceMap, vocabulary: Vocabulary, axis: Axis, max_support: str | None
) -> dict[str, ReviewCount]:
    """Axis key -> the review's count of unnamed studies with that value (for the values that have one)."""
    out: dict[str, ReviewCount] = {}
    for facet in axis.facets:
        by_value = unattributed_by_value(evidence_map, vocabulary, facet, max_support)
        for value in axis.values:
            if value.facet is facet and value.iri in by_value:
                out[value.key] = by_value[value.iri]
    return out


def _larger(first: ReviewCount | None, second: ReviewCount | None) -> ReviewCount | None:
    """The count leaving more studies unnamed (the first on a tie), or the one there is."""
    if first is None or second is None:
        return first or second
    return second if second.unattributed > first.unattributed else first


def _defaults(vocabulary: Vocabulary, role: str, fallback: int | None) -> list[str]:
    """The facets of ``role`` in this vocabulary; else its first (0) or last (-1) concept facet, or none."""
    known = list(default_facets(vocabulary, role))
    if known or fallback is None or not vocabulary.concept_facets:
        return known
    return [vocabulary.concept_facets[fallback].name]


def _totals(membership: dict[str, list[str]], studies: dict[str, StudyRef]) -> dict[str, int]:
    totals: dict[str, int] = defaultdict(int)
    for iri, keys in membership.items():
        if iri in studies:
            for key in keys:
                totals[key] += 1
    return dict(totals)
