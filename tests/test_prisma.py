"""The PRISMA-ScR flow diagram: its numbers come from the graph's flow stages (section 3.1 of the review)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from evidencemap.errors import NotFound
from evidencemap.graph.store import EvidenceMap
from evidencemap.model.queries import get_named_query
from evidencemap.render.prisma import load_flow, prisma_fragment, prisma_svg
from evidencemap.settings import Settings
from visuals_fixtures import copy_map

SVG = "{http://www.w3.org/2000/svg}"
# section 3.1: identified, duplicate, excluded on title/abstract, full texts, excluded with the three reasons,
# added by the final monitoring, included
PRINTED = [2114, 1, 2048, 65, 56, 32, 23, 1, 2, 11]


def stages(svg_text: str) -> dict[str, tuple[int, bool, str]]:
    """stage key -> (count, derived, the text shown for it), read from the SVG."""
    root = ET.fromstring(svg_text)
    out = {}
    for group in root.iter(f"{SVG}g"):
        if "stage" in (group.get("class") or "").split():
            shown = " ".join(
                "".join(t.itertext()) for t in group.iter(f"{SVG}text") if t.get("class") == "count"
            )
            out[group.get("data-stage", "")] = (
                int(group.get("data-count", "-1")), group.get("data-derived") == "true", shown
            )
    return out


def test_prisma_svg_is_accessible_svg(bundled: EvidenceMap) -> None:
    root = ET.fromstring(prisma_svg(bundled))
    assert root.tag == f"{SVG}svg"
    title, desc = root.find(f"{SVG}title"), root.find(f"{SVG}desc")
    assert title is not None and "PRISMA-ScR" in (title.text or "")
    assert desc is not None and "2,114" in (desc.text or "")
    assert root.get("role") == "img"
    assert root.get("aria-labelledby") == f"{title.get('id')} {desc.get('id')}"
    sizes = [float(t.get("font-size", "0")) for t in root.iter(f"{SVG}text")]
    assert min(sizes) >= 12


def test_prisma_svg_shows_the_review_numbers(bundled: EvidenceMap) -> None:
    shown = stages(prisma_svg(bundled))
    printed = sorted(count for count, derived, _ in shown.values() if not derived)
    assert printed == sorted(PRINTED)
    for count, _, text in shown.values():
        assert f"n = {count:,}" in text
    assert shown["identified"][2] == "n = 2,114"
    assert shown["excluded-full-text"][0] == 56
    assert shown["excluded-population"][0] + shown["excluded-concept"][0] + shown["excluded-thesis"][0] == 56


def test_prisma_svg_marks_derived_numbers(bundled: EvidenceMap) -> None:
    shown = stages(prisma_svg(bundled))
    derived = {key: (count, text) for key, (count, is_derived, text) in shown.items() if is_derived}
    assert derived == {
        "screened": (2113, "n = 2,113 (derived*)"),
        "included-from-search": (9, "n = 9 (derived**)"),
    }
    root = ET.fromstring(prisma_svg(bundled))
    boxes = {g.get("data-stage"): g.find(f"{SVG}rect") for g in root.iter(f"{SVG}g") if g.get("data-stage")}
    assert boxes["screened"] is not None and boxes["screened"].get("stroke-dasharray")
    assert boxes["identified"] is not None and boxes["identified"].get("stroke-dasharray") is None


def test_prisma_numbers_agree_with_the_named_query(bundled: EvidenceMap) -> None:
    rows = bundled.select(get_named_query("prisma-flow").text)
    shown = stages(prisma_svg(bundled))
    assert {r["stage"].rsplit("/", 1)[-1]: (int(r["records"]), bool(r["derived"])) for r in rows} == {
        key: (count, derived) for key, (count, derived, _) in shown.items()
    }


def test_prisma_svg_follows_the_graph(tmp_path: Path) -> None:
    folder = copy_map(tmp_path)
    review = folder / "review.ttl"
    text = review.read_text(encoding="utf-8")
    assert text.count("evm:recordCount 2048 ;") == 1
    review.write_text(text.replace("evm:recordCount 2048 ;", "evm:recordCount 2047 ;"), encoding="utf-8")
    changed = prisma_svg(EvidenceMap.load(Settings(data=[folder])))
    shown = stages(changed)
    assert shown["excluded-screening"] == (2047, False, "n = 2,047")
    # 2,113 screened - 2,047 excluded is 66, not the 65 full texts the graph states: the diagram says so
    notes = next(t for t in ET.fromstring(changed).iter(f"{SVG}text") if t.get("class") == "notes")
    assert "Does not add up: Full-text studies assessed for eligibility: n = 65" in " ".join(notes.itertext())


def test_prisma_flow_of_the_bundled_map_adds_up(bundled: EvidenceMap) -> None:
    flow = load_flow(bundled)
    assert flow.problems() == []
    assert [s.key for s in flow.main()] == [
        "identified", "screened", "full-text-assessed", "included-from-search", "included"
    ]


def test_prisma_map_without_a_flow_is_not_found(tmp_path: Path, bundled: EvidenceMap) -> None:
    folder = copy_map(tmp_path)
    (folder / "review.ttl").unlink()
    evidence_map = EvidenceMap.load(Settings(data=[folder / "studies.ttl"]))
    with pytest.raises(NotFound):
        prisma_svg(evidence_map)
    with pytest.raises(NotFound):
        prisma_svg(bundled, review="no-such-review")


def test_the_review_page_inlines_the_same_diagram(bundled: EvidenceMap) -> None:
    """The fragment /review inlines is the standalone SVG without its XML declaration: the same stages, numbers and
    accessible name."""
    fragment, document = prisma_fragment(bundled), prisma_svg(bundled)
    assert fragment.startswith("<svg") and not fragment.startswith("<?xml")
    assert stages(fragment) == stages(document)
    assert sorted(v[0] for v in stages(fragment).values() if not v[1]) == sorted(PRINTED)
    root = ET.fromstring(fragment)
    assert root.get("role") == "img" and root.find(f"{SVG}title") is not None
