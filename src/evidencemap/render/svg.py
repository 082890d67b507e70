"""Small helpers to write SVG with ElementTree (so every label is escaped and the result is well-formed XML),
shared by the PRISMA flow diagram, the gap map's bubbles and the network drawing.

Colours come from the Okabe–Ito palette, which stays distinguishable under the common colour-vision deficiencies.
It is categorical: no colour is "more" than another, so a colour never reads as strength of evidence.
"""

from __future__ import annotations

import math
import textwrap
import xml.etree.ElementTree as ET
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from evidencemap.views.gapmap import CAVEAT, NOT_ATTRIBUTED, NOT_STATED, STUDIES, Axis, AxisValue, Cell, GapMap

if TYPE_CHECKING:
    from evidencemap.model.vocabulary import Facet
    from evidencemap.views.network import Graph

SVG_NS = "http://www.w3.org/2000/svg"
FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, 'Helvetica Neue', Arial, sans-serif"
INK = "#1a1a1a"
MUTED = "#595959"
GRID = "#d0d0d0"
NOT_STATED_COLOUR = "#bdbdbd"
OKABE_ITO = ("#E69F00", "#56B4E9", "#009E73", "#F0E442", "#0072B2", "#D55E00", "#CC79A7", "#000000")
# The gap map's colours: Okabe-Ito, then Paul Tol's wine, indigo, olive, teal, green and purple. Each concept of the
# colouring facets gets its own (see facet_colours), so a colour means one thing in every colouring of the map.
PALETTE = (*OKABE_ITO[:7], "#882255", "#332288", "#999933", "#44AA99", "#117733", "#AA4499", "#000000")
ALL_STUDIES_COLOUR = "#4d6a87"  # the one bubble of a cell when nothing is coloured: a colour no concept has

def colour(index: int) -> str:
    """The ``index``-th categorical colour (cycling after eight values)."""
    return OKABE_ITO[index % len(OKABE_ITO)]


def num(value: float) -> str:
    """A coordinate as short text (SVG needs no more than two decimals here)."""
    return f"{value:.2f}".rstrip("0").rstrip(".")


def el(parent: ET.Element | None, tag: str, text: str | None = None, **attrs: object) -> ET.Element:
    """A child element; ``font_size`` becomes ``font-size`` (a trailing ``_`` is dropped: ``class_``)."""
    names = {k.rstrip("_").replace("_", "-"): v for k, v in attrs.items() if v is not None}
    values = {k: num(v) if isinstance(v, float) else str(v) for k, v in names.items()}
    node = ET.Element(tag, values) if parent is None else ET.SubElement(parent, tag, values)
    if text is not None:
        node.text = text
    return node


def document(width: float, height: float, title: str, desc: str, ident: str, *, role: str = "img") -> ET.Element:
    """An ``<svg>`` root with a white background and an accessible name (``<title>``) and description."""
    root = ET.Element(
        "svg",
        {
            "xmlns": SVG_NS, "width": num(width), "height": num(height), "viewBox": f"0 0 {num(width)} {num(height)}",
            "role": role, "aria-labelledby": f"{ident}-title {ident}-desc", "font-family": FONT,
        },
    )
    el(root, "title", title, id=f"{ident}-title")
    el(root, "desc", desc, id=f"{ident}-desc")
    el(root, "rect", x=0, y=0, width=num(width), height=num(height), fill="#ffffff")
    return root


def arrow_marker(root: ET.Element, ident: str, fill: str = INK) -> str:
    """Define an arrowhead marker; returns the ``url(#...)`` to use as ``marker-end``."""
    defs = el(root, "defs")
    marker = el(defs, "marker", id=ident, viewBox="0 0 10 10", refX=9, refY=5, markerWidth=8, markerHeight=8,
                orient="auto-start-reverse")
    el(marker, "path", d="M 0 0 L 10 5 L 0 10 z", fill=fill)
    return f"url(#{ident})"


def wrap(
    text: str, width_px: float, font_size: float, max_lines: int | None = None, *, bold: bool = False
) -> list[str]:
    """``text`` broken into lines that fit ``width_px`` (estimated at 0.55 em per character, 0.62 when bold)."""
    chars = max(4, int(width_px / (font_size * (0.62 if bold else 0.55))))
    lines = textwrap.wrap(text, chars, break_long_words=False, break_on_hyphens=True) or [""]
    if max_lines is not None and len(lines) > max_lines:
        lines = lines[:max_lines]
        lines[-1] = lines[-1][: max(1, chars - 1)].rstrip() + "…"
    return lines


def text_lines(
    parent: ET.Element, lines: Sequence[str], x: float, y: float, font_size: float, line_height: float, **attrs: object
) -> ET.Element:
    """A ``<text>`` of several lines (``tspan``), the first baseline at ``y``."""
    placed: dict[str, object] = {"x": x, "y": y, "font_size": font_size, "fill": INK, **attrs}
    node = el(parent, "text", None, **placed)
    for i, line in enumerate(lines):
        el(node, "tspan", line, x=x, dy=0 if i == 0 else line_height)
    return node


def radius(count: int, largest: int, r_max: float) -> float:
    """A circle radius whose area is proportional to ``count`` (the ``largest`` count gets ``r_max``)."""
    return 0.0 if count <= 0 or largest <= 0 else r_max * math.sqrt(count / largest)


def serialise(root: ET.Element) -> str:
    """The SVG as text with an XML declaration."""
    ET.indent(root, space=" ")
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode")


def fragment(root: ET.Element) -> str:
    """The SVG as an inline fragment for an HTML page (no XML declaration)."""
    ET.indent(root, space=" ")
    return ET.tostring(root, encoding="unicode")


# -- the gap map as bubbles ------------------------------------------------------------------------------------

LABEL_W, CELL_W, CELL_H, GROUP_H = 250.0, 82.0, 58.0, 24.0


def facet_colours(gap_map: GapMap, facet: Facet | None) -> dict[str, str]:
    """Value slug -> colour. The colouring facets of the map's vocabulary (``gap_map.colour_facets``, e.g. design
    and evidence type) share one palette without overlap, in facet order, so orange is "qualitative study" in every
    colouring and no other facet's value is orange; another facet's values start the palette again (its legend is
    always drawn beside it). Studies without a value are grey."""
    if facet is None:
        return {"all": ALL_STUDIES_COLOUR}
    offset = 0
    for other in gap_map.colour_facets:
        if other.name == facet.name:
            break
        offset += len(other.concepts)
    else:
        offset = 0
    return {
        **{c.slug: PALETTE[(offset + i) % len(PALETTE)] for i, c in enumerate(facet.concepts)},
        NOT_STATED: NOT_STATED_COLOUR,
    }


def _segments(gap_map: GapMap, cell: Cell, facet: Facet | None) -> list[tuple[str, str, int]]:
    return [("all", "studies", cell.count)] if facet is None else gap_map.breakdown_of(cell, facet)


def _plural(n: int) -> str:
    return f"{n} stud{'y' if n == 1 else 'ies'}"


def bubble_map(
    gap_map: GapMap,
    colour_by: Facet | None,
    *,
    href: Callable[[Cell], str] | None = None,
    selected: str | None = None,
    inline: bool = False,
) -> ET.Element:
    """The gap map as an SVG bubble chart: in each cell one bubble per value of ``colour_by`` (one grey-blue
    bubble per cell when None), its area proportional to the number of studies. ``href`` makes each filled cell a
    link; ``inline`` hides the drawing from assistive technology, for a page that gives the same matrix as a table."""
    cols, rows = gap_map.cols.values, gap_map.rows.values
    head_lines = {c.key: wrap(c.label, CELL_W - 4, 12, 6) for c in cols}
    head_h = 15 * max(len(v) for v in head_lines.values()) + 10 if cols else 0
    x0, y0 = MARGIN_MAP + LABEL_W, MARGIN_MAP + 52 + GROUP_H + head_h
    body_h = len(rows) * CELL_H + len(gap_map.rows.facets) * GROUP_H
    width = max(x0 + len(cols) * CELL_W + MARGIN_MAP, 640.0)
    colours = facet_colours(gap_map, colour_by)
    largest = max(gap_map.max_segment(colour_by), 1)
    legend_items = [(label, colours[slug]) for slug, label, _ in legend_values(gap_map, colour_by)]
    legend_lines = _legend_layout(legend_items, width - 2 * MARGIN_MAP)
    caveat = wrap(CAVEAT, width - 2 * MARGIN_MAP, 12)
    unattributed = sum(1 for c in gap_map.cells.values() if c.state == NOT_ATTRIBUTED)
    height = (y0 + body_h + 24 + 8 + 26 * len(legend_lines) + 34 + (28 if unattributed else 0) + 28
              + 16 * len(caveat) + MARGIN_MAP)

    axis_text = f"{_axis_label(gap_map.rows)} × {_axis_label(gap_map.cols)}"
    filled = sum(1 for c in gap_map.cells.values() if c.count)
    gaps = len(gap_map.cells) - filled - unattributed
    not_attributed = (
        f", {unattributed} are not attributed (the review counts studies there but does not say which)"
        if unattributed else ""
    )
    desc = (
        f"Bubble chart of {_plural(gap_map.total)}: rows {_axis_label(gap_map.rows)}, columns "
        f"{_axis_label(gap_map.cols)}; {filled} cells hold studies{not_attributed} and {gaps} are gaps. "
        + ("The same matrix is given as a table on this page. " if inline else "")
        + CAVEAT
    )
    root = document(width, height, f"Evidence gap map: {axis_text}", desc, "gapmap", role="group" if inline else "img")
    if inline:
        root.set("aria-hidden", "true")
        root.set("focusable", "false")
    el(root, "text", f"Evidence gap map: {axis_text}", x=MARGIN_MAP, y=MARGIN_MAP + 14, font_size=16,
       font_weight="700", fill=INK)
    scope = _filters_text(gap_map)
    el(root, "text", f"{_plural(gap_map.total)}{scope}. Bubble area = number of studies.",
       x=MARGIN_MAP, y=MARGIN_MAP + 34, font_size=12, fill=MUTED)

    # column facet groups and column headings
    x = x0
    for facet in gap_map.cols.facets:
        span = sum(1 for c in cols if c.facet == facet) * CELL_W
        el(root, "rect", x=x, y=MARGIN_MAP + 48, width=span, height=GROUP_H - 4, fill="#eef3f8")
        el(root, "text", facet.label, x=x + span / 2, y=MARGIN_MAP + 48 + 15, font_size=12, font_weight="700",
           fill=INK, text_anchor="middle")
        x += span
    for i, c in enumerate(cols):
        cx = x0 + i * CELL_W + CELL_W / 2
        label = text_lines(root, head_lines[c.key], cx, MARGIN_MAP + 52 + GROUP_H + 12, 12, 15, text_anchor="middle",
                           font_weight="600" if c.depth == 0 and _has_children(c) else None)
        el(label, "title", f"{c.facet.label}: {c.label} ({_plural(gap_map.col_totals.get(c.key, 0))})")

    y = y0
    for facet in gap_map.rows.facets:
        el(root, "rect", x=MARGIN_MAP, y=y, width=width - 2 * MARGIN_MAP, height=GROUP_H, fill="#eef3f8")
        el(root, "text", facet.label, x=MARGIN_MAP + 6, y=y + 16, font_size=12, font_weight="700", fill=INK)
        y += GROUP_H
        for r in (v for v in rows if v.facet == facet):
            lines = wrap(r.label, LABEL_W - 16 - 14 * r.depth, 12, 3)
            top = y + (CELL_H - 15 * len(lines)) / 2 + 11
            text_lines(root, lines, MARGIN_MAP + 6 + 14 * r.depth, top, 12, 15, class_="row-label")
            for j, c in enumerate(cols):
                _cell(root, gap_map, gap_map.cells[(r.key, c.key)], x0 + j * CELL_W, y, colour_by, colours,
                      largest, href, selected, inline)
            y += CELL_H
    _legend(root, gap_map, colour_by, legend_lines, largest, y + 24, width, bool(unattributed))
    return root


MARGIN_MAP = 16.0


def _axis_label(axis: Axis) -> str:
    return " and ".join(f.label for f in axis.facets)


def _has_children(value: AxisValue) -> bool:
    return any(value.iri is not None and value.iri in c.broader for c in value.facet.concepts)


def _filters_text(gap_map: GapMap) -> str:
    parts = []
    for choice in gap_map.selection.choices:
        values = [c.pref_label for c in choice.concepts] or list(choice.literals)
        parts.append(f"{choice.facet.label} = {' or '.join(values)}")
    return f" matching {'; '.join(parts)}" if parts else " in the map"


def _cell(
    root: ET.Element, gap_map: GapMap, cell: Cell, x: float, y: float, facet: Facet | None, colours: dict[str, str],
    largest: int, href: Callable[[Cell], str] | None, selected: str | None, inline: bool,
) -> None:
    parent = root
    if href is not None and cell.count:
        parent = el(root, "a", href=href(cell), class_="cell-link", tabindex="-1" if inline else None)
    kind = {NOT_ATTRIBUTED: "cell not-attributed", STUDIES: "cell"}.get(cell.state, "cell gap")
    group = el(parent, "g", class_=kind, data_cell=cell.key, data_count=cell.count, data_state=cell.state)
    chosen = selected == cell.key
    el(group, "rect", x=x, y=y, width=CELL_W, height=CELL_H, fill="#ffffff", fill_opacity="0" if not chosen else None,
       stroke=INK if chosen else GRID, stroke_width=2.5 if chosen else 0.75)
    if cell.count:
        said = _plural(cell.count) + (f" ({', '.join(str(s.ref) for s in cell.studies)})" if cell.count <= 12 else "")
    elif cell.review is not None:
        said = f"not attributed: {cell.review.sentence}"
    else:
        said = "no study (gap)"
    el(group, "title", f"{cell.row.label} × {cell.col.label}: {said}")
    if cell.review is not None and not cell.count:
        _not_attributed_mark(group, x + CELL_W / 2, y + CELL_H / 2)
    if not cell.count:
        return
    el(group, "text", str(cell.count), x=x + 4, y=y + 13, font_size=12, font_weight="700", fill=INK)
    segments = [s for s in _segments(gap_map, cell, facet) if s[2]]
    per_line = min(len(segments), 3)
    lines = math.ceil(len(segments) / per_line)
    slot_w, slot_h = (CELL_W - 8) / per_line, (CELL_H - 14) / lines
    r_max = 21.0 if facet is None else 11.5
    for k, (slug, label, n) in enumerate(segments):
        cx = x + 4 + slot_w * (k % per_line + 0.5)
        cy = y + 12 + slot_h * (k // per_line + 0.5)
        fill = colours.get(slug, NOT_STATED_COLOUR)
        bubble = el(group, "circle", cx=cx, cy=cy, r=radius(n, largest, r_max), fill=fill, stroke="#333333",
                    stroke_width=0.75, data_value=slug, data_count=n)
        el(bubble, "title", f"{label}: {_plural(n)}")


GLYPH = 34.0  # the side of a cell's glyph on the page, in px


def cell_glyph(gap_map: GapMap, cell: Cell, facet: Facet | None, colours: dict[str, str], largest: int) -> str:
    """A cell of the page's table drawn small: a circle whose area is the cell's number of studies (``largest``
    fills the glyph), cut into slices by the values of ``facet`` (a study with two values is in both slices); a
    dashed ring with a question mark for a cell the review counts studies in without naming them; nothing for a gap.
    Hidden from assistive technology: the cell's text says the same."""
    root = ET.Element("svg", {"xmlns": SVG_NS, "width": num(GLYPH), "height": num(GLYPH),
                              "viewBox": f"0 0 {num(GLYPH)} {num(GLYPH)}", "aria-hidden": "true", "focusable": "false",
                              "class": "gapmap-glyph"})
    c = GLYPH / 2
    if not cell.count:
        if cell.review is not None:
            _not_attributed_mark(root, c, c)
        return ET.tostring(root, encoding="unicode")
    r = max(radius(cell.count, largest, GLYPH / 2 - 1), 3.0)
    segments = [s for s in _segments(gap_map, cell, facet) if s[2]]
    whole = sum(n for _, _, n in segments)
    if len(segments) <= 1 or whole <= 0:
        fill = colours.get(segments[0][0], NOT_STATED_COLOUR) if segments else ALL_STUDIES_COLOUR
        el(root, "circle", cx=c, cy=c, r=r, fill=fill, stroke="#333333", stroke_width=1)
        return ET.tostring(root, encoding="unicode")
    angle = -math.pi / 2
    for slug, _, n in segments:
        turn = 2 * math.pi * n / whole
        x0, y0 = c + r * math.cos(angle), c + r * math.sin(angle)
        x1, y1 = c + r * math.cos(angle + turn), c + r * math.sin(angle + turn)
        large = 1 if turn > math.pi else 0
        el(root, "path", d=f"M {num(c)} {num(c)} L {num(x0)} {num(y0)} A {num(r)} {num(r)} 0 {large} 1 {num(x1)} "
           f"{num(y1)} Z", fill=colours.get(slug, NOT_STATED_COLOUR), stroke="#333333", stroke_width=0.75)
        angle += turn
    return ET.tostring(root, encoding="unicode")


def legend_swatch(fill: str, *, unattributed: bool = False) -> str:
    """A legend's sample as a small inline SVG (a disc of ``fill``, or the not-attributed mark)."""
    root = ET.Element("svg", {"xmlns": SVG_NS, "width": "20", "height": "20", "viewBox": "0 0 20 20",
                              "aria-hidden": "true", "focusable": "false", "class": "gapmap-swatch"})
    if unattributed:
        _not_attributed_mark(root, 10, 10)
    else:
        el(root, "circle", cx=10, cy=10, r=8, fill=fill, stroke="#333333", stroke_width=1)
    return ET.tostring(root, encoding="unicode")


def _not_attributed_mark(parent: ET.Element, cx: float, cy: float) -> None:
    """What a "not attributed" cell shows: a dashed ring with a question mark (the review counts studies here
    without naming them), drawn apart from a gap's empty cell and from a bubble."""
    el(parent, "circle", cx=cx, cy=cy, r=9, fill="#ffffff", stroke=INK, stroke_width=1.25, stroke_dasharray="3 2")
    el(parent, "text", "?", x=cx, y=cy + 4, font_size=12, font_weight="700", fill=INK, text_anchor="middle")


def legend_values(gap_map: GapMap, facet: Facet | None) -> list[tuple[str, str, int]]:
    """(slug, label, studies) of each colour the map uses: the values of ``facet`` some matching study has."""
    if facet is None:
        return [("all", "studies", gap_map.total)]
    return gap_map.legend_values(facet)


def _legend_layout(items: list[tuple[str, str]], width: float) -> list[list[tuple[str, str, float]]]:
    lines: list[list[tuple[str, str, float]]] = [[]]
    x = 0.0
    for label, fill in items:
        w = 26 + len(label) * 12 * 0.55 + 18
        if x + w > width and lines[-1]:
            lines.append([])
            x = 0.0
        lines[-1].append((label, fill, x))
        x += w
    return lines


def _legend(
    root: ET.Element, gap_map: GapMap, facet: Facet | None, lines: list[list[tuple[str, str, float]]],
    largest: int, y: float, width: float, unattributed: bool = False,
) -> None:
    group = el(root, "g", class_="legend")
    title = f"Colour: {facet.label}" if facet is not None else "Colour: none (all studies)"
    el(group, "text", title + (" (a study with two values is counted under both)" if facet is not None else ""),
       x=MARGIN_MAP, y=y, font_size=12, font_weight="700", fill=INK)
    y += 8
    for line in lines:
        y += 26
        for label, fill, x in line:
            el(group, "circle", cx=MARGIN_MAP + x + 8, cy=y - 4, r=7, fill=fill, stroke="#333333", stroke_width=0.75)
            el(group, "text", label, x=MARGIN_MAP + x + 22, y=y, font_size=12, fill=INK)
    y += 34
    r_max = 21.0 if facet is None else 11.5
    el(group, "text", "Size:", x=MARGIN_MAP, y=y, font_size=12, font_weight="700", fill=INK)
    x = MARGIN_MAP + 44
    for n in sorted({1, largest}):
        r = radius(n, largest, r_max)
        el(group, "circle", cx=x + r, cy=y - 4, r=r, fill="#ffffff", stroke="#333333", stroke_width=0.75)
        el(group, "text", _plural(n), x=x + 2 * r + 6, y=y, font_size=12, fill=INK)
        x += 2 * r + 80
    if unattributed:
        y += 28
        _not_attributed_mark(group, MARGIN_MAP + 9, y - 4)
        el(group, "text", "not attributed: the review counts studies with this row's or column's value but does not "
           "say which (not a gap)", x=MARGIN_MAP + 24, y=y, font_size=12, fill=INK)
    text_lines(group, wrap(CAVEAT, width - 2 * MARGIN_MAP, 12), MARGIN_MAP, y + 28, 12, 16, fill=MUTED,
               class_="caveat")


# -- a network as nodes and links ------------------------------------------------------------------------------


def network_drawing(
    graph: Graph, positions: dict[str, tuple[float, float]], title: str, *, width: float = 900,
    height: float | None = None,
) -> ET.Element:
    """Nodes placed at ``positions`` (in [-1, 1]², as networkx lays them out); link width = its ``weight`` (the
    studies sharing both ends), node area = the node's ``studies``.

    Labels never overlap: a graph whose nodes have a ``side`` (a pair graph, laid out in two columns) gets a row per
    node and its labels wrapped beside its column; otherwise the labels of each half are pushed apart to at least a
    line's height, and the number on each link is its weight.
    """
    columns = graph.number_of_nodes() > 0 and all("side" in d for _, d in graph.nodes(data=True))
    per_side = [sum(1 for _, d in graph.nodes(data=True) if d.get("side") == s) for s in ("left", "right")]
    row = 34.0
    if height is None:
        height = 70 + row * max(max(per_side) - 1, 1) + 40 if columns else 620.0
    desc = (
        f"{graph.number_of_nodes()} nodes and {graph.number_of_edges()} links; a link joins two values reported by "
        "the same studies, and the thicker it is, the more studies. The tables on this page give the same numbers."
    )
    root = document(width, height, title, desc, "network")
    el(root, "text", title, x=16, y=24, font_size=15, font_weight="700", fill=INK)
    label_w = width / 2 - 130 if columns else 230.0
    cx, cy = width / 2, (70 + height - 40) / 2 if columns else height / 2 + 12
    sx = width / 2 - label_w - 20 if columns else width / 2 - 260
    sy = (height - 110) / 2 if columns else height / 2 - 70

    def at(node: str) -> tuple[float, float]:
        px, py = positions.get(node, (0.0, 0.0))
        return cx + px * sx, cy - py * sy

    links = el(root, "g", class_="links")
    for a, b, data in graph.edges(data=True):
        (x1, y1), (x2, y2) = at(a), at(b)
        weight = int(data.get("weight", 1))
        line = el(links, "line", x1=x1, y1=y1, x2=x2, y2=y2, stroke=MUTED, stroke_opacity="0.7",
                  stroke_width=1 + 1.5 * (weight - 1), class_="link", data_weight=weight)
        refs = f" ({data['refs']})" if data.get("refs") else ""
        el(line, "title", f"{graph.nodes[a].get('label', a)} — {graph.nodes[b].get('label', b)}: "
           f"{_plural(weight)}{refs}")
        if not columns:
            el(links, "text", str(weight), x=(x1 + x2) / 2, y=(y1 + y2) / 2 + 4, font_size=11, fill=INK,
               text_anchor="middle", stroke="#ffffff", stroke_width=3, paint_order="stroke")
    labels = _label_places(graph, at, cx, height)
    nodes = el(root, "g", class_="nodes")
    for node, data in graph.nodes(data=True):
        x, y = at(node)
        studies = int(data.get("studies", 1))
        r = 5 + 4 * math.sqrt(max(studies, 0))
        group = el(nodes, "g", class_="node", data_id=node)
        el(group, "circle", cx=x, cy=y, r=r, fill=colour(4), stroke="#ffffff", stroke_width=1.5)
        el(group, "title", f"{data.get('label', node)}: {_plural(studies)}")
        right, label_y = labels[node]
        lines = wrap(str(data.get("label", node)), label_w, 12, 2) if columns else [str(data.get("label", node))]
        top = label_y + 4 - 7 * (len(lines) - 1)
        for i, text in enumerate(lines):
            el(group, "text", text, x=x + (r + 6 if right else -r - 6), y=top + 14 * i, font_size=12, fill=INK,
               text_anchor="start" if right else "end", stroke="#ffffff", stroke_width=3, paint_order="stroke")
    return root


def _label_places(
    graph: Graph, at: Callable[[str], tuple[float, float]], cx: float, height: float, gap: float = 16.0
) -> dict[str, tuple[bool, float]]:
    """Each node's label: on the right of its node or not, and its baseline, the labels of each half spread to at
    least ``gap`` apart (moved down from the top, then back up if they pass the bottom)."""
    places: dict[str, tuple[bool, float]] = {}
    for right in (False, True):
        side = sorted(((n, at(n)[1]) for n in graph.nodes if (at(n)[0] >= cx) == right), key=lambda item: item[1])
        ys = [y for _, y in side]
        for i in range(1, len(ys)):
            ys[i] = max(ys[i], ys[i - 1] + gap)
        overflow = (ys[-1] - (height - 12)) if ys else 0.0
        if overflow > 0:
            ys = [y - overflow for y in ys]
            for i in range(len(ys) - 2, -1, -1):
                ys[i] = min(ys[i], ys[i + 1] - gap)
        places.update({node: (right, y) for (node, _), y in zip(side, ys, strict=True)})
    return places
