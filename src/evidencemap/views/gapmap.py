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
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property, lru_cache, partial
from typing import Any, overload

import numpy as np
import numpy.typing as npt
import pyoxigraph as ox
from threadpoolctl import ThreadpoolController  # type: ignore[import-untyped]

from evidencemap import namespaces as ns
from evidencemap.errors import InvalidParameter
from evidencemap.graph.loading import build_vocabulary_store
from evidencemap.graph.store import EvidenceMap
from evidencemap.model.facet_index import Mask, direct_values_query, index_of
from evidencemap.model.facets import Selection
from evidencemap.model.recorded import not_recorded_sentence, recorded_facets, unrecorded_facets
from evidencemap.model.review_counts import ReviewCount, unattributed_by_value
from evidencemap.model.study_query import CITATION_AND_SLUG, StudyQuery, any_direct_value, value_path
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

    def as_dict(self) -> dict[str, Any]:
        return {"ref": self.ref, "citation": self.citation, "slug": self.slug, "iri": self.iri}


Tally = tuple[tuple[str, str, int], ...]  # (value slug, label, number of studies)


@dataclass(frozen=True, eq=False)
class Cell:
    row: AxisValue
    col: AxisValue
    count: int
    # The review's count of studies with the row's or the column's value that the map does not fully name (the one
    # leaving more studies unnamed), when there is one.
    review: ReviewCount | None = None
    # facet name -> (slug, label, studies) for each value of the breakdown facet (then "not stated"), zeros included
    breakdown: Mapping[str, Tally] = field(default_factory=dict)
    members: Callable[[], tuple[StudyRef, ...]] | None = field(default=None, repr=False)

    @cached_property
    def studies(self) -> tuple[StudyRef, ...]:
        """The cell's studies in reference order, read on first use (a response of counts never needs them)."""
        return self.members() if self.members is not None and self.count else ()

    @property
    def state(self) -> str:
        """``studies``, ``not attributed`` (no study named, but the review counts unnamed studies with the row's or
        column's value) or ``gap`` (no study reported it)."""
        if self.count:
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


@dataclass(frozen=True, eq=False)
class GapMap:
    rows: Axis
    cols: Axis
    selection: Selection
    breakdown: tuple[Facet, ...]
    total: int  # the (listed) studies matching the selection
    cells: dict[tuple[str, str], Cell]
    row_totals: dict[str, int]
    col_totals: dict[str, int]
    max_support: str | None = None
    row_reviews: dict[str, ReviewCount] = field(default_factory=dict)  # axis key -> its unattributed review count
    col_reviews: dict[str, ReviewCount] = field(default_factory=dict)
    breakdown_totals: Mapping[str, Tally] = field(default_factory=dict)  # over all the matching studies
    colour_facets: tuple[Facet, ...] = ()  # the vocabulary's colouring facets (evm:gapMapRole "colour"), in order
    members: Callable[[], tuple[StudyRef, ...]] | None = field(default=None, repr=False)

    @cached_property
    def studies(self) -> tuple[StudyRef, ...]:
        """Every matching study, in reference order, read on first use."""
        return self.members() if self.members is not None else ()

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
        example = f", e.g. {self.rows.values[0].key}:{self.cols.values[0].key}" if rows and cols else ""
        raise InvalidParameter(
            f"No cell {text!r} in this gap map.",
            hint=f"Name a cell as row:col{example} (keys are listed in rows.values and cols.values).",
        )

    def ordered_cells(self) -> list[Cell]:
        return [self.cells[(r.key, c.key)] for r in self.rows.values for c in self.cols.values]

    def breakdown_of(self, cell: Cell, facet: Facet) -> list[tuple[str, str, int]]:
        """(slug, label, number of studies) for each value of ``facet`` among the cell's studies, in the
        vocabulary's order; studies without a value count under ``not-stated``. A study with two values counts
        under both."""
        return [(slug, label, n) for slug, label, n in cell.breakdown.get(facet.name, ()) if n]

    def legend_values(self, facet: Facet) -> list[tuple[str, str, int]]:
        """(slug, label, number of matching studies) for each value of ``facet`` some matching study has."""
        return [(slug, label, n) for slug, label, n in self.breakdown_totals.get(facet.name, ()) if n]

    def max_segment(self, facet: Facet | None) -> int:
        """The largest bubble: the most studies a cell holds for one value of ``facet`` (or in all)."""
        best = 0
        for cell in self.cells.values():
            counts = [cell.count] if facet is None else [n for _, _, n in cell.breakdown.get(facet.name, ())]
            best = max([best, *counts])
        return best

    @property
    def counts(self) -> dict[str, int]:
        """How many cells hold studies, are true gaps, or are not attributed."""
        states = [c.state for c in self.cells.values()]
        gaps, unattributed = states.count(GAP), states.count(NOT_ATTRIBUTED)
        return {"cells": len(states), "filled": len(states) - gaps - unattributed, "gaps": gaps,
                "not_attributed": unattributed}

    def to_dict(self) -> dict[str, Any]:
        """The matrix as counts (its size does not grow with the studies): per cell the number of studies, its state
        and the breakdown counts in the order of ``breakdown_facets[].values``; the studies of a cell are for
        :meth:`cell_dict`."""
        cells: list[dict[str, Any]] = []
        for cell in self.ordered_cells():
            entry: dict[str, Any] = {
                "row": cell.row.key, "col": cell.col.key, "count": cell.count, "state": cell.state, "gap": cell.gap,
                "breakdown": {name: [n for _, _, n in tally] for name, tally in cell.breakdown.items()},
            }
            if cell.review is not None:  # the review's words are on the row or column (rows/cols.values[])
                entry["review_count"] = cell.review_count
            cells.append(entry)
        return {
            "caveat": CAVEAT,
            "rows": _axis_dict(self.rows, self.row_totals, self.row_reviews),
            "cols": _axis_dict(self.cols, self.col_totals, self.col_reviews),
            "filters": self.selection.as_params(),
            "support": self.max_support,
            "total": self.total,
            "breakdown_facets": [
                {
                    "name": f.name,
                    "label": f.label,
                    "values": [{"slug": s, "label": lab, "count": n} for s, lab, n in self.breakdown_totals[f.name]],
                }
                for f in self.breakdown
            ],
            "counts": self.counts,
            "cells": cells,
            "gaps": [{"row": c.row.key, "col": c.col.key} for c in self.ordered_cells() if c.gap],
        }

    def cell_dict(self, cell: Cell, limit: int | None = None) -> dict[str, Any]:
        """One cell in full: its row and column, counts, the review's note, the breakdown with labels and its
        studies (the first ``limit`` of them when given)."""
        studies = cell.studies if limit is None else cell.studies[:limit]
        return {
            "key": cell.key,
            "row": cell.row.as_dict(),
            "col": cell.col.as_dict(),
            "count": cell.count,
            "gap": cell.gap,
            "state": cell.state,
            "review_count": cell.review_count,
            "review_note": cell.review.sentence if cell.review is not None else None,
            "studies": [s.as_dict() for s in studies],
            "breakdown": {
                f.name: [{"slug": s, "label": lab, "count": n} for s, lab, n in self.breakdown_of(cell, f)]
                for f in self.breakdown
            },
        }

    def to_csv(self) -> str:
        """The matrix as CSV: one line per row value, one column per column value, cells = numbers of studies, or
        "not attributed" where no study is named but the review counts studies with the row's or column's value
        without saying which (not a 0: the review does not say there are none)."""
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\r\n")
        writer.writerow(["row facet", "row", *(f"{c.label} [{c.facet.name}:{c.slug}]" for c in self.cols.values)])
        for r in self.rows.values:
            cells = [self.cells[(r.key, c.key)] for c in self.cols.values]
            counts = [NOT_ATTRIBUTED if cell.state == NOT_ATTRIBUTED else cell.count for cell in cells]
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
            literals = evidence_map.derive(f"gapmap-literals:{facet.name}", partial(_literals, evidence_map, facet))
            for term in literals:
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


# Every listed study with its reference number, short citation and slug: what a cell's list shows.
DIRECTORY_QUERY = StudyQuery("?study ?ref ?citation ?slug", numbered=True, patterns=CITATION_AND_SLUG).text()


def study_directory(evidence_map: EvidenceMap) -> dict[str, StudyRef]:
    """Study IRI -> its reference, read once per version of the map (one query, not one per cell)."""

    def build() -> dict[str, StudyRef]:
        out: dict[str, StudyRef] = {}
        for row in evidence_map.select(DIRECTORY_QUERY):
            iri = row["study"]
            if iri not in out:
                citation = str(row.get("citation", row.get("slug", iri)))
                out[iri] = StudyRef(iri, int(row["ref"]), citation, str(row.get("slug", ns.last_segment(iri))))
        return out

    return evidence_map.derive("gapmap-directory", build)


def _direct_masks(evidence_map: EvidenceMap, facet: Facet) -> dict[str, Mask]:
    """Concept IRI -> the studies (facet index positions) stating it directly, not through a narrower concept: what
    a breakdown counts (a study counts under its own design, not under the design's broader ones). Once a version."""

    def build() -> dict[str, Mask]:
        index = index_of(evidence_map)
        positions: dict[str, list[int]] = defaultdict(list)
        for study, value in evidence_map.solutions(direct_values_query(facet)):
            found = index.position(study.value)
            if found is not None:
                positions[value.value].append(found)
        masks = {}
        for iri, where in positions.items():
            mask = np.zeros(index.size, dtype=bool)
            mask[where] = True
            masks[iri] = mask
        return masks

    return evidence_map.derive(f"gapmap-direct:{facet.name}", build)


def _weights(
    evidence_map: EvidenceMap, facet: Facet, chosen: npt.NDArray[np.intp], max_support: str | None
) -> tuple[list[tuple[str, str]], npt.NDArray[np.float32]]:
    """The breakdown values of ``facet`` (slug, label; then "not stated") and, per value, which of the ``chosen``
    studies have it directly by a fact at least as strong as ``max_support``, as a (values x studies) matrix."""
    held = index_of(evidence_map).value_masks(facet, max_support)
    direct = _direct_masks(evidence_map, facet)
    values: list[tuple[str, str]] = []
    rows: list[npt.NDArray[np.bool_]] = []
    for concept in facet.concepts:
        has = direct.get(concept.iri)
        level = held.get(ox.NamedNode(concept.iri))
        values.append((concept.slug, concept.pref_label))
        rows.append((has & level)[chosen] if has is not None and level is not None else np.zeros(len(chosen), bool))
    stated = np.logical_or.reduce(rows) if rows else np.zeros(len(chosen), dtype=bool)
    values.append((NOT_STATED, "not stated"))
    rows.append(~stated)
    return values, np.array(rows, dtype=np.float32).reshape(len(rows), len(chosen))


def _axis_matrix(
    evidence_map: EvidenceMap, axis: Axis, chosen: npt.NDArray[np.intp], max_support: str | None
) -> npt.NDArray[np.float32]:
    """(axis values x chosen studies): 1 where the study has the value (or a narrower one) at the support level."""
    index = index_of(evidence_map)
    matrix = np.zeros((len(axis.values), len(chosen)), dtype=np.float32)
    masks = {facet.name: index.value_masks(facet, max_support) for facet in axis.facets}
    for i, value in enumerate(axis.values):
        has = masks[value.facet.name].get(value.term)
        if has is not None:
            matrix[i] = has[chosen]
    return matrix


@lru_cache(maxsize=1)
def _blas() -> Any:
    """The BLAS behind numpy's matrix products, to run them on one thread: the products here are small (axis values
    x studies x axis values), and OpenBLAS's threads cost far more than they save, most of all on a busy machine
    (at 10,000 studies: 7 ms of CPU on one thread, 30 to 500 ms on two, measured on the 2-core machine)."""
    return ThreadpoolController()


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

    Counted on the facet index: the studies of each row and column value are rows of a 0/1 matrix over the matching
    studies, so every cell's count is one matrix product, and each breakdown value one more; the cost follows the
    number of cells and studies, not a query per cell. The studies of a cell are read only when asked for.

    A facet the map does not record (no study has a value of it: model/recorded.py) is no axis or breakdown: the
    defaults leave it out, and naming it is refused.

    :raises InvalidParameter: for an unknown facet name, or one the map does not record.
    """
    selection = selection or Selection()
    row_axis = build_axis(evidence_map, _recorded(evidence_map, vocabulary, rows, ROWS, 0))
    col_axis = build_axis(evidence_map, _recorded(evidence_map, vocabulary, cols, COLUMNS, -1))
    wanted = _recorded(evidence_map, vocabulary, breakdown, COLOUR, None)
    breakdown_facets = tuple(f for f in wanted if f.is_concept_facet)
    index = index_of(evidence_map)
    chosen = np.flatnonzero(selection.mask(index, max_support) & index.listed)
    row_matrix = _axis_matrix(evidence_map, row_axis, chosen, max_support)
    col_matrix = _axis_matrix(evidence_map, col_axis, chosen, max_support)
    tallies: dict[str, Tally] = {}
    per_cell: dict[str, tuple[list[tuple[str, str]], npt.NDArray[np.float32]]] = {}
    with _blas().limit(limits=1, user_api="blas"):
        counts = row_matrix @ col_matrix.T
        for facet in breakdown_facets:
            values, weights = _weights(evidence_map, facet, chosen, max_support)
            tallies[facet.name] = tuple(
                (s, lab, int(n)) for (s, lab), n in zip(values, weights.sum(axis=1), strict=True)
            )
            per_cell[facet.name] = (values, np.stack([(row_matrix * w) @ col_matrix.T for w in weights]))
    row_reviews = _reviews(evidence_map, vocabulary, row_axis, max_support)
    col_reviews = _reviews(evidence_map, vocabulary, col_axis, max_support)

    def members(rows_of: npt.NDArray[np.bool_]) -> Callable[[], tuple[StudyRef, ...]]:
        def read() -> tuple[StudyRef, ...]:
            directory = study_directory(evidence_map)
            return tuple(directory[index.studies[p]] for p in chosen[rows_of] if index.studies[p] in directory)
        return read

    numbers: list[list[int]] = counts.astype(np.int64).tolist()
    splits = {name: (values, stacked.astype(np.int64).transpose(1, 2, 0).tolist())
              for name, (values, stacked) in per_cell.items()}  # [row][col][value]
    cells = {}
    for i, r in enumerate(row_axis.values):
        for j, c in enumerate(col_axis.values):
            split = {
                name: tuple((s, lab, n) for (s, lab), n in zip(values, by_cell[i][j], strict=True))
                for name, (values, by_cell) in splits.items()
            }
            cells[(r.key, c.key)] = Cell(
                r, c, numbers[i][j], _larger(row_reviews.get(r.key), col_reviews.get(c.key)), split,
                members((row_matrix[i] > 0) & (col_matrix[j] > 0)) if numbers[i][j] else None,
            )
    return GapMap(
        rows=row_axis,
        cols=col_axis,
        selection=selection,
        breakdown=breakdown_facets,
        total=len(chosen),
        cells=cells,
        row_totals={v.key: int(n) for v, n in zip(row_axis.values, row_matrix.sum(axis=1), strict=True)},
        col_totals={v.key: int(n) for v, n in zip(col_axis.values, col_matrix.sum(axis=1), strict=True)},
        max_support=max_support,
        row_reviews=row_reviews,
        col_reviews=col_reviews,
        breakdown_totals=tallies,
        colour_facets=recorded_facets(evidence_map, vocabulary.facets_in_role(COLOUR)),
        members=members(np.ones(len(chosen), dtype=bool)),
    )


def _reviews(
    evidence_map: EvidenceMap, vocabulary: Vocabulary, axis: Axis, max_support: str | None
) -> dict[str, ReviewCount]:
    """Axis key -> the review's count of unnamed studies with that value (for the values that have one)."""
    out: dict[str, ReviewCount] = {}
    for facet in axis.facets:
        by_value = evidence_map.derive(
            f"gapmap-reviews:{facet.name}:{max_support}",
            partial(unattributed_by_value, evidence_map, vocabulary, facet, max_support),
        )
        for value in axis.values:
            if value.facet is facet and value.iri in by_value:
                out[value.key] = by_value[value.iri]
    return out


def _larger(first: ReviewCount | None, second: ReviewCount | None) -> ReviewCount | None:
    """The count leaving more studies unnamed (the first on a tie), or the one there is."""
    if first is None or second is None:
        return first or second
    return second if second.unattributed > first.unattributed else first


def _defaults(
    vocabulary: Vocabulary, role: str, fallback: int | None, evidence_map: EvidenceMap | None = None
) -> list[str]:
    """The facets of ``role`` in this vocabulary; else its first (0) or last (-1) concept facet, or none. Given
    ``evidence_map``, only the facets that map records (so a map recording no modality or component still gets rows).
    """
    def kept(facets: Sequence[Facet]) -> list[Facet]:
        return list(facets) if evidence_map is None else list(recorded_facets(evidence_map, facets))

    known = [f.name for f in kept(vocabulary.facets_in_role(role))]
    candidates = kept(vocabulary.concept_facets)
    if known or fallback is None or not candidates:
        return known
    return [candidates[fallback].name]


def _recorded(
    evidence_map: EvidenceMap, vocabulary: Vocabulary, names: str | Sequence[str] | None, role: str,
    fallback: int | None,
) -> tuple[Facet, ...]:
    """The facets ``names`` names (:func:`parse_facets`), or by default those of ``role`` the map records.

    :raises InvalidParameter: for a named facet the map does not record, listing those it records.
    """
    facets = parse_facets(vocabulary, names, _defaults(vocabulary, role, fallback, evidence_map))
    missing = unrecorded_facets(evidence_map, facets)
    if missing:
        raise InvalidParameter(
            f"{not_recorded_sentence(missing[0])[:-1]} (facet {missing[0].name!r}): no study has a value of it.",
            hint=f"Use one of: {', '.join(f.name for f in recorded_facets(evidence_map, vocabulary.facets))}.",
        )
    return facets
