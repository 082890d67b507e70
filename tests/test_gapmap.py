"""The gap map's cells against the review's counts and against facets.select_studies, computed independently."""

from __future__ import annotations

import csv
import html
import io
import json
import re
import struct
import xml.etree.ElementTree as ET
import zlib
from pathlib import Path

import pytest

from evidencemap.errors import InvalidParameter
from evidencemap.graph.store import EvidenceMap
from evidencemap.model.facets import Selection, facet_counts
from evidencemap.model.vocabulary import Vocabulary, load_vocabulary
from evidencemap.render.svg import bubble_map, cell_glyph, facet_colours, serialise
from evidencemap.views.gapmap import CAVEAT, build_gap_map
from test_pages import STATIC_DIR, background_colours, contrast, css_variables
from visuals_fixtures import TestClient, map_with_extra_study, refs, studies_with

SVG = "{http://www.w3.org/2000/svg}"


def test_gap_map_emotional_support_online_matches_review(bundled: EvidenceMap, vocabulary: Vocabulary) -> None:
    # 3.3.1: emotional support and validation (35, 36, 38, 39, 40, 41, 42, 43, 45); online (36, 38, 40, 42, 44, 45)
    gap_map = build_gap_map(bundled, vocabulary, rows="component", cols="delivery")
    cell = gap_map.cell("emotional-support-validation", "online")
    assert [s.ref for s in cell.studies] == [36, 38, 40, 42, 45]
    assert cell.count == 5 and not cell.gap
    assert gap_map.row_totals["emotional-support-validation"] == 9
    assert gap_map.col_totals["online"] == 6


def test_gap_map_burnout_community_based_matches_review(bundled: EvidenceMap, vocabulary: Vocabulary) -> None:
    # 3.3.3: burnout (39, 40, 41, 42, 44, 45); 3.3.1: community-based (38, 39, 40, 41, 43, 45)
    gap_map = build_gap_map(bundled, vocabulary, rows="challenge", cols="modality")
    cell = gap_map.cell("emotional-vulnerability-burnout", "community-based")
    assert [s.ref for s in cell.studies] == [39, 40, 41, 45]
    assert gap_map.row_totals["emotional-vulnerability-burnout"] == 6
    assert gap_map.col_totals["community-based"] == 6


@pytest.mark.parametrize(
    ("rows", "cols"),
    [
        ("component", "delivery"),
        ("modality,component", "outcome"),
        ("modality,component", "challenge"),
        ("challenge", "modality"),
        ("outcome", "design"),
        ("delivery", "evidence-type"),
        ("year", "country"),
    ],
)
def test_gap_map_crossed_facets_yield_the_cells_the_data_implies(
    bundled: EvidenceMap, vocabulary: Vocabulary, rows: str, cols: str
) -> None:
    gap_map = build_gap_map(bundled, vocabulary, rows=rows, cols=cols)
    expected_keys = {(r.key, c.key) for r in gap_map.rows.values for c in gap_map.cols.values}
    assert set(gap_map.cells) == expected_keys
    for cell in gap_map.cells.values():
        expected = studies_with(bundled, vocabulary, **{cell.row.facet.name: [cell.row.slug]}) & studies_with(
            bundled, vocabulary, **{cell.col.facet.name: [cell.col.slug]}
        )
        assert {s.iri for s in cell.studies} == expected, cell.key
        assert (cell.state == "studies") == bool(expected)
        assert cell.gap == (not expected and cell.review is None)


def test_gap_map_gaps_are_exactly_the_empty_cells(bundled: EvidenceMap, vocabulary: Vocabulary) -> None:
    data = build_gap_map(bundled, vocabulary).to_dict()
    empty = [{"row": c["row"], "col": c["col"]} for c in data["cells"] if c["count"] == 0]
    unattributed = [c for c in data["cells"] if c["state"] == "not attributed"]
    assert all(c["count"] == 0 and c["review_count"] for c in unattributed)
    gaps = [e for e in empty if {"row": e["row"], "col": e["col"]} not in
            [{"row": c["row"], "col": c["col"]} for c in unattributed]]
    assert data["gaps"] == gaps
    cells = len(data["cells"])
    assert data["counts"] == {"cells": cells, "filled": cells - len(empty), "gaps": len(gaps),
                              "not_attributed": len(unattributed)}
    # no included study used mindfulness exercises: its whole row is a gap
    assert sum(1 for g in data["gaps"] if g["row"] == "mindfulness") == len(data["cols"]["values"])


def test_gap_map_defaults_are_modality_and_component_by_outcome(bundled: EvidenceMap, vocabulary: Vocabulary) -> None:
    data = build_gap_map(bundled, vocabulary).to_dict()
    assert [f["name"] for f in data["rows"]["facets"]] == ["modality", "component"]
    assert [f["name"] for f in data["cols"]["facets"]] == ["outcome"]
    assert [v["slug"] for v in data["rows"]["values"]] == [
        c.slug for name in ("modality", "component") for c in vocabulary.facet(name).concepts
    ]
    assert data["total"] == 11


def test_gap_map_concept_counts_narrower_concepts(bundled: EvidenceMap, vocabulary: Vocabulary) -> None:
    # "in person" has no study of its own: its studies are in a clinical (35, 37, 39, 41) or community setting (43)
    gap_map = build_gap_map(bundled, vocabulary, rows="delivery", cols="modality")
    assert gap_map.row_totals["in-person"] == 5
    in_person = gap_map.cell("in-person", "structured-manualized")
    clinical = gap_map.cell("clinical-setting", "structured-manualized")
    assert [s.ref for s in in_person.studies] == [35, 37] == [s.ref for s in clinical.studies]
    assert next(v for v in gap_map.rows.values if v.slug == "clinical-setting").depth == 1


def test_gap_map_filters_restrict_the_studies(bundled: EvidenceMap, vocabulary: Vocabulary) -> None:
    selection = Selection.parse(vocabulary, {"delivery": ["online"]})
    gap_map = build_gap_map(bundled, vocabulary, rows="challenge", cols="modality", selection=selection)
    assert len(gap_map.studies) == gap_map.total == 6
    cell = gap_map.cell("emotional-vulnerability-burnout", "community-based")
    expected = studies_with(
        bundled, vocabulary, delivery=["online"], challenge=["emotional-vulnerability-burnout"],
        modality=["community-based"],
    )
    assert {s.iri for s in cell.studies} == expected
    assert refs(bundled, expected) == [40, 45]
    assert gap_map.to_dict()["filters"] == {"delivery": ["online"]}


def test_gap_map_breakdown_by_design_and_evidence_type(bundled: EvidenceMap, vocabulary: Vocabulary) -> None:
    gap_map = build_gap_map(bundled, vocabulary, rows="component", cols="delivery")
    cell = gap_map.cell("emotional-support-validation", "online")
    selection = Selection.parse(vocabulary, {"component": ["emotional-support-validation"], "delivery": ["online"]})
    for facet in gap_map.breakdown:
        expected = {
            next(c.slug for c in facet.concepts if c.iri == iri): n
            for iri, n in facet_counts(bundled, facet, selection).items()
        }
        got = {slug: n for slug, _, n in gap_map.breakdown_of(cell, facet) if slug != "not-stated"}
        assert got == expected, facet.name
    # 45 (a theoretical review) states no evidence type
    assert ("not-stated", "not stated", 1) in gap_map.breakdown_of(cell, vocabulary.facet("evidence-type"))
    assert [f.name for f in gap_map.breakdown] == ["design", "evidence-type"]


def test_gap_map_payload_says_no_study_was_appraised(bundled: EvidenceMap, vocabulary: Vocabulary) -> None:
    data = build_gap_map(bundled, vocabulary).to_dict()
    assert data["caveat"] == CAVEAT
    assert "appraises no study's quality" in data["caveat"]
    assert "neither encodes the strength or quality of evidence" in data["caveat"]


def test_gap_map_unknown_facet_is_refused_with_the_valid_ones(bundled: EvidenceMap, vocabulary: Vocabulary) -> None:
    with pytest.raises(InvalidParameter) as raised:
        build_gap_map(bundled, vocabulary, rows="colour")
    assert "challenge" in str(raised.value.hint)


def test_gap_map_cell_names_are_row_colon_col(bundled: EvidenceMap, vocabulary: Vocabulary) -> None:
    gap_map = build_gap_map(bundled, vocabulary, rows="component", cols="delivery")
    assert gap_map.parse_cell("emotional-support-validation:online").key == "emotional-support-validation:online"
    with pytest.raises(InvalidParameter):
        gap_map.parse_cell("online:emotional-support-validation")


def test_gap_map_csv_is_the_matrix(bundled: EvidenceMap, vocabulary: Vocabulary) -> None:
    gap_map = build_gap_map(bundled, vocabulary, rows="component", cols="delivery")
    table = list(csv.reader(io.StringIO(gap_map.to_csv())))
    assert len(table) == 1 + len(gap_map.rows.values)
    assert len(table[0]) == 2 + len(gap_map.cols.values)
    online = next(i for i, h in enumerate(table[0]) if h.endswith("[delivery:online]"))
    row = next(r for r in table if r[1].endswith("[emotional-support-validation]"))
    assert int(row[online]) == 5


def test_gap_map_svg_bubble_area_is_proportional_to_studies(bundled: EvidenceMap, vocabulary: Vocabulary) -> None:
    gap_map = build_gap_map(bundled, vocabulary, rows="component", cols="delivery")
    root = ET.fromstring(serialise(bubble_map(gap_map, None)))
    assert root.tag == f"{SVG}svg"
    assert root.find(f"{SVG}title") is not None and root.find(f"{SVG}desc") is not None
    areas = {}
    for group in root.iter(f"{SVG}g"):
        if "cell" in (group.get("class") or "").split() and group.get("data-count") != "0":
            circle = group.find(f"{SVG}circle")
            assert circle is not None
            areas[group.get("data-cell")] = (int(group.get("data-count", "0")), float(circle.get("r", "0")) ** 2)
    filled = [c for c in gap_map.cells.values() if c.count]
    assert set(areas) == {c.key for c in filled}
    largest = max(n for n, _ in areas.values())
    top = next(a for n, a in areas.values() if n == largest)
    for n, area in areas.values():
        assert area / top == pytest.approx(n / largest, rel=0.01)


def test_gap_map_svg_colour_legend_uses_each_design_once(bundled: EvidenceMap, vocabulary: Vocabulary) -> None:
    gap_map = build_gap_map(bundled, vocabulary)
    root = ET.fromstring(serialise(bubble_map(gap_map, vocabulary.facet("design"))))
    legend = next(g for g in root.iter(f"{SVG}g") if g.get("class") == "legend")
    fills = [c.get("fill") for c in legend.iter(f"{SVG}circle") if c.get("fill") != "#ffffff"]
    assert len(fills) == len(set(fills)) >= len(vocabulary.facet("design").concepts)


def test_gap_map_follows_a_study_added_to_the_data(tmp_path: Path) -> None:
    evidence_map = map_with_extra_study(tmp_path)
    vocab = load_vocabulary(evidence_map)
    cell = build_gap_map(evidence_map, vocab, rows="component", cols="delivery").cell(
        "emotional-support-validation", "online"
    )
    assert [s.ref for s in cell.studies] == [36, 38, 40, 42, 45, 99]
    burnout = build_gap_map(evidence_map, vocab, rows="challenge", cols="modality").cell(
        "emotional-vulnerability-burnout", "community-based"
    )
    assert [s.ref for s in burnout.studies] == [39, 40, 41, 45, 99]


def test_gap_map_payload_is_counts_whose_size_does_not_follow_the_studies(
    bundled: EvidenceMap, vocabulary: Vocabulary
) -> None:
    """Issue 14: no study is listed in the matrix; each cell's breakdown counts follow breakdown_facets' values."""
    gap_map = build_gap_map(bundled, vocabulary, rows="component", cols="delivery")
    data = gap_map.to_dict()
    assert "/study/" not in json.dumps(data) and "studies" not in data["cells"][0]
    order = {f["name"]: [v["slug"] for v in f["values"]] for f in data["breakdown_facets"]}
    assert all(slugs[-1] == "not-stated" for slugs in order.values())
    for entry, cell in zip(data["cells"], gap_map.ordered_cells(), strict=True):
        assert (entry["row"], entry["col"], entry["count"]) == (cell.row.key, cell.col.key, len(cell.studies))
        for facet in gap_map.breakdown:
            named = dict(zip(order[facet.name], entry["breakdown"][facet.name], strict=True))
            expected = {slug: n for slug, _, n in gap_map.breakdown_of(cell, facet)}
            assert {slug: n for slug, n in named.items() if n} == expected
    totals = {f["name"]: {v["slug"]: v["count"] for v in f["values"]} for f in data["breakdown_facets"]}
    assert totals["design"]["qualitative-study"] == len(studies_with(bundled, vocabulary, design=["qualitative-study"]))


def test_gap_map_cell_studies_are_read_only_when_asked(bundled: EvidenceMap, vocabulary: Vocabulary) -> None:
    gap_map = build_gap_map(bundled, vocabulary, rows="component", cols="delivery")
    cell = gap_map.cell("emotional-support-validation", "online")
    assert "studies" not in cell.__dict__  # counted, not read
    assert [s.ref for s in cell.studies] == [36, 38, 40, 42, 45]
    detail = gap_map.cell_dict(cell, limit=2)
    assert [s["ref"] for s in detail["studies"]] == [36, 38] and detail["count"] == 5


def test_gap_map_colours_mean_one_thing_across_colourings(bundled: EvidenceMap, vocabulary: Vocabulary) -> None:
    """Issue 11: orange was "qualitative study" in one colouring and "quantitative data" in the other."""
    gap_map = build_gap_map(bundled, vocabulary)
    design = facet_colours(gap_map, vocabulary.facet("design"))
    evidence = facet_colours(gap_map, vocabulary.facet("evidence-type"))
    concept_colours = [c for slug, c in [*design.items(), *evidence.items()] if slug != "not-stated"]
    assert len(concept_colours) == len(set(concept_colours)) == len(design) + len(evidence) - 2
    other = build_gap_map(bundled, vocabulary, rows="challenge", cols="delivery")
    assert facet_colours(other, vocabulary.facet("design")) == design


def test_gap_map_cell_glyph_slices_and_marks(bundled: EvidenceMap, vocabulary: Vocabulary) -> None:
    gap_map = build_gap_map(bundled, vocabulary, rows="component", cols="delivery")
    design = vocabulary.facet("design")
    colours = facet_colours(gap_map, design)
    largest = gap_map.max_segment(None)
    cell = gap_map.cell("emotional-support-validation", "online")
    glyph = ET.fromstring(cell_glyph(gap_map, cell, design, colours, largest))
    assert glyph.get("aria-hidden") == "true"
    slices = [p.get("fill") for p in glyph.iter(f"{SVG}path")]
    assert slices == [colours[slug] for slug, _, _ in gap_map.breakdown_of(cell, design)]
    gap = next(c for c in gap_map.cells.values() if c.gap)
    assert not list(ET.fromstring(cell_glyph(gap_map, gap, design, colours, largest)))
    unattributed = build_gap_map(bundled, vocabulary, rows="country", cols="outcome")
    na = next(c for c in unattributed.cells.values() if c.state == "not attributed")
    mark = ET.fromstring(cell_glyph(unattributed, na, design, colours, largest))
    assert [t.text for t in mark.iter(f"{SVG}text")] == ["?"]


def test_gap_map_svg_text_is_readable(bundled: EvidenceMap, vocabulary: Vocabulary) -> None:
    """No text under 12 px in the download, and the cell numbers in the ink colour (they were 10 px grey)."""
    root = ET.fromstring(serialise(bubble_map(build_gap_map(bundled, vocabulary), vocabulary.facet("design"))))
    sizes = {float(t.get("font-size", "12")) for t in root.iter(f"{SVG}text")}
    assert min(sizes) >= 12
    numbers = [t for g in root.iter(f"{SVG}g") if g.get("data-count", "0") != "0" for t in g.iter(f"{SVG}text")]
    assert numbers and all(t.get("fill") == "#1a1a1a" for t in numbers)


# -- over HTTP: the matrix's links, the downloads ------------------------------------------------------------------


def png_pixels(data: bytes) -> tuple[int, int, bytes]:
    """(width, height, raw scanlines) of an 8-bit RGB or RGBA PNG, decoded with zlib: proof that it is a PNG."""
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    width, height, depth, colour_type = struct.unpack(">IIBB", data[16:26])
    assert data[12:16] == b"IHDR" and depth == 8 and colour_type in (2, 6)
    chunks, at = [], 8
    while at < len(data):
        (length,) = struct.unpack(">I", data[at:at + 4])
        kind = data[at + 4:at + 8]
        if kind == b"IDAT":
            chunks.append(data[at + 8:at + 8 + length])
        at += 12 + length
    raw = zlib.decompress(b"".join(chunks))
    assert len(raw) == height * (1 + width * (3 if colour_type == 2 else 4))
    return width, height, raw


def test_api_gapmap_cells_link_to_their_studies(client: TestClient) -> None:
    body = client.get("/api/gapmap?rows=component&cols=delivery").json()
    assert "/study/" not in json.dumps(body["cells"])
    filled = [c for c in body["cells"] if c["count"]]
    for cell in filled[:6]:
        assert cell["studies_url"].startswith("/api/studies?")
        listed = client.get(cell["studies_url"] + "&limit=100").json()
        assert listed["total"] == cell["count"], cell
    # two values of one facet, and a filtered facet on an axis: the study list cannot say it, the cell view can
    same = client.get("/api/gapmap?rows=challenge&cols=challenge").json()
    burnout = next(c for c in same["cells"] if c["row"] == c["col"] == "emotional-vulnerability-burnout")
    assert burnout["studies_url"].startswith("/api/gapmap?") and "cell=" in burnout["studies_url"]
    cell = client.get(burnout["studies_url"]).json()["cell"]
    assert len(cell["studies"]) == cell["count"] == burnout["count"] and cell["page_url"] is None
    filtered = client.get("/api/gapmap?rows=delivery&cols=modality&delivery=online").json()
    assert all(c["studies_url"].startswith("/api/gapmap?") for c in filtered["cells"])


def test_api_gapmap_svg_and_png_downloads(client: TestClient) -> None:
    links = client.get("/api/gapmap?rows=challenge&cols=modality&delivery=online").json()["links"]
    assert links["svg"].startswith("/api/gapmap.svg?") and links["png"].startswith("/api/gapmap.png?")
    svg = client.get(links["svg"])
    assert svg.status_code == 200 and svg.headers["content-type"] == "image/svg+xml"
    root = ET.fromstring(svg.content)
    assert int(float(root.get("width", "0"))) > 600
    png = client.get(links["png"])
    assert png.status_code == 200 and png.headers["content-type"] == "image/png"
    assert "attachment" in png.headers["content-disposition"]
    width, height, raw = png_pixels(png.content)
    assert (width, height) == (2 * int(float(root.get("width", "0"))), 2 * int(float(root.get("height", "0"))))
    assert len(set(raw[: width * 40])) > 2  # not a blank page: the title's ink is in the first rows


@pytest.mark.parametrize(
    ("url", "status", "hint"),
    [
        ("/api/gapmap.png?rows=colour", 400, "challenge"),
        ("/api/gapmap.svg?delivery=moon", 400, "online"),
        ("/api/gapmap.png?format=svg", 400, "png"),
        ("/api/gapmap.svg?cell=nowhere", 400, "row:col"),
        ("/api/gapmap?rows=challenge&cols=modality&cell=burnout:online", 400, "row:col"),
    ],
)
def test_gapmap_downloads_refuse_bad_parameters_in_the_one_error_shape(
    client: TestClient, url: str, status: int, hint: str
) -> None:
    response = client.get(url)
    assert response.status_code == status, response.text
    body = response.json()
    assert body["ok"] is False and body["status"] == status
    assert hint in body.get("hint", "") + body["error"] + " ".join(body.get("allowed") or [])


def test_gapmap_page_never_shows_not_said_as_none(client: TestClient) -> None:
    """A row the review counts studies for without naming them is not "0 studies" (nor are its cells gaps)."""
    source = client.get("/gapmap?rows=country&cols=outcome").text
    assert 'data-cell="united-kingdom:' in source and "is-not-attributed" in source
    page = " ".join(html.unescape(re.sub(r"<[^>]+>", "", source)).split())
    assert "United Kingdom (no study named: the review counts 2 studies without saying which)" in page
    assert "United Kingdom (0 studies)" not in page
    assert "Not attributed (the review counts studies but does not say which): United Kingdom," in page


def test_gapmap_css_keeps_the_focus_ring_and_text_readable() -> None:
    """gapmap.css's backgrounds keep the site's focus ring at 3:1 or more (WCAG 2.4.11), its text colours at 4.5:1
    on white, and it sets no font size under 12 px (0.75rem)."""
    style = (STATIC_DIR / "style.css").read_text(encoding="utf-8")
    css = (STATIC_DIR / "gapmap.css").read_text(encoding="utf-8")
    variables = css_variables(style)
    backgrounds = background_colours(css, variables)
    assert backgrounds and all(contrast(variables["focus"], b) >= 3 for b in backgrounds), backgrounds
    colours = set(re.findall(r"(?<![-\w])color:\s*(#[0-9a-fA-F]{6})", css))
    assert colours and all(contrast(c, "#ffffff") >= 4.5 for c in colours), colours
    sizes = [float(n) for n in re.findall(r"font-size:\s*([\d.]+)rem", css)]
    assert sizes and min(sizes) >= 0.75
    assert "@page { size: A4 landscape" in css and "@media print" in css


def test_gap_map_csv_says_not_attributed_not_zero(bundled: EvidenceMap, vocabulary: Vocabulary) -> None:
    gap_map = build_gap_map(bundled, vocabulary, rows="country", cols="outcome")
    table = list(csv.reader(io.StringIO(gap_map.to_csv())))
    uk = next(r for r in table if r[1].endswith("[united-kingdom]"))
    assert set(uk[2:]) == {"not attributed"}
    australia = next(r for r in table if r[1].endswith("[australia]"))
    assert all(v.isdigit() for v in australia[2:]) and "0" in australia[2:]
