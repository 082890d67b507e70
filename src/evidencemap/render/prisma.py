"""The PRISMA-ScR flow diagram, drawn from the review's flow (:mod:`evidencemap.model.flow`).

The main column follows ``evm:previousStage``; records removed on the way (``evm:removedStage``) are drawn to the
right, records added (``evm:addedStage``, e.g. by a final literature monitoring) beside the stage they join, and the
reasons an exclusion is broken into (``evm:sumOf``) inside its box. The layout follows those links; no number or label
is written here, so a changed count in the data changes the diagram, and a count that no longer adds up is flagged on
it.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections import defaultdict
from dataclasses import dataclass

from evidencemap.graph.store import EvidenceMap
from evidencemap.model.flow import Flow, FlowStage, flow_of
from evidencemap.render import svg

PHASE_FILL = "#dbe9f6"
BOX_W, SIDE_W, PHASE_W, GUTTER, ARROW_GAP, MARGIN = 300.0, 310.0, 30.0, 14.0, 50.0, 18.0
FONT, SMALL, LINE, ROW_GAP = 13.0, 12.0, 17.0, 34.0


def load_flow(evidence_map: EvidenceMap, review: str | None = None) -> Flow:
    """The flow of ``review`` (IRI or slug; the first review with a flow when None), as :mod:`model.flow` reads it.

    :raises NotFound: when the map holds no flow stages (for that review).
    """
    return flow_of(evidence_map, review)


# -- drawing ---------------------------------------------------------------------------------------------------


@dataclass
class _Box:
    stage: FlowStage
    lines: list[str]
    parts: list[tuple[FlowStage, list[str]]]
    width: float

    @property
    def height(self) -> float:
        part_lines = sum(len(lines) for _, lines in self.parts)
        return 14 + LINE * (len(self.lines) + 1) + (LINE * part_lines + 6 if self.parts else 0) + 8


def _box(flow: Flow, stage: FlowStage, width: float) -> _Box:
    parts = [
        (p, svg.wrap(f"{p.label}: n = {p.records:,}" + (" (derived)" if p.derived else ""), width - 34, SMALL))
        for p in flow.ordered(stage.parts)
    ]
    return _Box(stage, svg.wrap(stage.label, width - 20, FONT, bold=True), parts, width)


def _draw_box(parent: ET.Element, box: _Box, x: float, y: float, marks: dict[str, str]) -> None:
    stage = box.stage
    group = svg.el(parent, "g", id=f"stage-{stage.key}", class_="stage", data_stage=stage.key,
                   data_count=stage.records, data_derived=str(stage.derived).lower())
    svg.el(group, "rect", x=x, y=y, width=box.width, height=box.height, rx=4, fill="#ffffff", stroke=svg.INK,
           stroke_width=1.5, stroke_dasharray="6 4" if stage.derived else None)
    svg.text_lines(group, box.lines, x + 10, y + 22, FONT, LINE, font_weight="600")
    count = f"n = {stage.records:,}" + (f" (derived{marks.get(stage.iri, '')})" if stage.derived else "")
    svg.el(group, "text", count, x=x + 10, y=y + 22 + LINE * len(box.lines), font_size=FONT, fill=svg.INK,
           class_="count", font_style="italic" if stage.derived else None)
    line_y = y + 22 + LINE * (len(box.lines) + 1) + 4
    for part, lines in box.parts:
        item = svg.el(group, "g", class_="stage reason", data_stage=part.key, data_count=part.records,
                      data_derived=str(part.derived).lower())
        svg.el(item, "circle", cx=x + 16, cy=line_y - 4, r=2.5, fill=svg.INK)
        svg.text_lines(item, lines, x + 24, line_y, SMALL, LINE, class_="count")
        line_y += LINE * len(lines)


def flow_svg(flow: Flow) -> str:
    """The flow diagram as a standalone, accessible SVG document."""
    return svg.serialise(flow_drawing(flow))


def flow_drawing(flow: Flow) -> ET.Element:
    """The flow diagram's SVG element (a page inlines it with :func:`evidencemap.render.svg.fragment`)."""
    main = flow.main()
    derived = [s for s in flow.ordered() if s.derived]
    marks = {s.iri: "*" * (i + 1) for i, s in enumerate(derived)}
    side: dict[str, list[tuple[str, _Box]]] = defaultdict(list)
    for stage in main:
        anchor = stage.previous[0] if stage.previous and stage.previous[0] in flow.stages else stage.iri
        for removed in flow.ordered(stage.removed):
            side[anchor].append(("removed", _box(flow, removed, SIDE_W)))
        for added in flow.ordered(stage.added):
            side[stage.iri].append(("added", _box(flow, added, SIDE_W)))

    x_main = MARGIN + PHASE_W + GUTTER
    x_side = x_main + BOX_W + ARROW_GAP
    width = x_side + SIDE_W + MARGIN
    heading = f"PRISMA-ScR flow diagram: {flow.citation or flow.title}"
    heights = []
    for stage in main:
        side_h = sum(b.height for _, b in side[stage.iri]) + 12 * max(0, len(side[stage.iri]) - 1)
        heights.append(max(_box(flow, stage, BOX_W).height, side_h))
    _fit_phase_labels(main, heights)
    rows: list[tuple[FlowStage, _Box, float, float]] = []
    y = MARGIN + 34
    for stage, row_h in zip(main, heights, strict=True):
        rows.append((stage, _box(flow, stage, BOX_W), y, row_h))
        y += row_h + ROW_GAP
    problems = flow.problems()
    notes = ["Dashed box: a number the review does not print, derived from the numbers it prints."] if derived else []
    notes += [f"{marks[s.iri]} {s.rationale or 'Derived from the stages it joins; not printed in the review.'}"
             for s in derived]
    notes += [f"Does not add up: {p}" for p in problems]
    note_lines = [line for note in notes for line in svg.wrap(note, width - 2 * MARGIN, SMALL)]
    height = y + LINE * len(note_lines) + MARGIN

    desc = " ".join(
        f"{(s.phase or '').capitalize()}: {s.label}: {s.records:,}{' (derived)' if s.derived else ''}."
        for s in flow.ordered()
    )
    root = svg.document(width, height, heading, desc, "prisma")
    marker = svg.arrow_marker(root, "prisma-arrow")
    svg.el(root, "text", heading, x=MARGIN, y=MARGIN + 12, font_size=15, font_weight="700", fill=svg.INK)

    _draw_phases(root, rows)
    for i, (stage, box, top, _) in enumerate(rows):
        _draw_box(root, box, x_main, top, marks)
        if i + 1 < len(rows):
            nxt_top = rows[i + 1][2]
            svg.el(root, "line", x1=x_main + BOX_W / 2, y1=top + box.height, x2=x_main + BOX_W / 2, y2=nxt_top - 2,
                   stroke=svg.INK, stroke_width=1.5, marker_end=marker)
        side_y = top
        for direction, side_box in side[stage.iri]:
            _draw_box(root, side_box, x_side, side_y, marks)
            mid = side_y + min(side_box.height, box.height) / 2
            ends = (x_main + BOX_W, x_side - 2) if direction == "removed" else (x_side, x_main + BOX_W + 2)
            svg.el(root, "line", x1=ends[0], y1=mid, x2=ends[1], y2=mid, stroke=svg.INK, stroke_width=1.5,
                   marker_end=marker)
            side_y += side_box.height + 12
    svg.text_lines(root, note_lines, MARGIN, y, SMALL, LINE, fill=svg.MUTED if not problems else "#a40000",
                   class_="notes")
    return root


def _runs(main: list[FlowStage]) -> list[tuple[int, int]]:
    """(start, end) indices of the runs of consecutive main stages in the same phase."""
    runs, start = [], 0
    for i in range(1, len(main) + 1):
        if i == len(main) or main[i].phase != main[start].phase:
            runs.append((start, i))
            start = i
    return runs


def _fit_phase_labels(main: list[FlowStage], heights: list[float]) -> None:
    """Make each phase band tall enough for its vertical label."""
    for start, end in _runs(main):
        needed = len(main[start].phase or "") * FONT * 0.62 + 16
        have = sum(heights[start:end]) + ROW_GAP * (end - start - 1)
        if have < needed:
            heights[end - 1] += needed - have


def _draw_phases(root: ET.Element, rows: list[tuple[FlowStage, _Box, float, float]]) -> None:
    """A band per run of rows in the same phase, labelled vertically as in the PRISMA template."""
    for start, end in _runs([row[0] for row in rows]):
        top = rows[start][2]
        bottom = rows[end - 1][2] + rows[end - 1][3]
        x, mid = MARGIN, (top + bottom) / 2
        svg.el(root, "rect", x=x, y=top, width=PHASE_W, height=bottom - top, rx=4, fill=PHASE_FILL)
        svg.el(root, "text", (rows[start][0].phase or "").capitalize(), x=x + PHASE_W / 2 + 5, y=mid, font_size=FONT,
               font_weight="600", fill=svg.INK, text_anchor="middle",
               transform=f"rotate(-90 {x + PHASE_W / 2 + 5:.1f} {mid:.1f})")


def prisma_svg(evidence_map: EvidenceMap, review: str | None = None) -> str:
    """The PRISMA-ScR flow diagram of the map's review as SVG text (for ``evidencemap export --format prisma-svg``).

    :raises NotFound: when the map holds no flow stages.
    """
    return flow_svg(load_flow(evidence_map, review))


def prisma_fragment(evidence_map: EvidenceMap, review: str | None = None) -> str:
    """The same diagram as an inline fragment for an HTML page (no XML declaration).

    :raises NotFound: when the map holds no flow stages.
    """
    return svg.fragment(flow_drawing(load_flow(evidence_map, review)))
