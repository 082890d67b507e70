"""The gap map, PRISMA diagram and network page in headless Chromium against a real uvicorn server.

Clicks a gap-map cell and checks its studies appear; takes the screenshots of the PRISMA diagram and the network
page (kept in docs/screenshots/ when EVIDENCEMAP_UPDATE_SCREENSHOTS=1, see browser_support.py; the gap map's are taken
by test_gapmap_browser.py).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

from browser_support import BROWSER_MARKS, save_screenshot
from evidencemap.graph.store import EvidenceMap
from evidencemap.model.vocabulary import Vocabulary
from visuals_fixtures import refs, studies_with

pytestmark = BROWSER_MARKS


def test_gapmap_click_on_a_cell_shows_its_studies(
    server: str, browser: Any, screenshots: Path, bundled: EvidenceMap, vocabulary: Vocabulary
) -> None:
    expected = studies_with(
        bundled, vocabulary, component=["emotional-support-validation"], outcome=["feeling-understood-validated"]
    )
    page = browser.new_page(viewport={"width": 1366, "height": 1480})
    page.goto(f"{server}/gapmap")
    assert page.title().startswith("Evidence gap map")  # its screenshots: test_gapmap_browser.py
    page.click('td[data-cell="emotional-support-validation:feeling-understood-validated"] a')
    page.wait_for_selector("#cell-studies")
    assert "cell=emotional-support-validation%3Afeeling-understood-validated" in page.url
    heading = page.inner_text("#cell-heading")
    assert "emotional support and validation × feeling understood and validated" in heading
    shown = [int(li.get_attribute("data-ref")) for li in page.query_selector_all("#cell-studies li")]
    assert shown == refs(bundled, expected) == [38, 39, 40, 42]
    page.close()


def test_prisma_diagram_screenshot(server: str, browser: Any, screenshots: Path) -> None:
    page = browser.new_page(viewport={"width": 800, "height": 600})
    response = page.goto(f"{server}/api/prisma.svg")
    assert response is not None and response.ok
    root = ET.fromstring(response.body())
    width, height = (int(float(root.get(name, "600"))) for name in ("width", "height"))
    page.set_viewport_size({"width": width, "height": height})
    assert "2,114" in page.inner_html("svg")
    save_screenshot(page, screenshots, "prisma.png")
    page.close()


def test_network_page_screenshot(server: str, browser: Any, screenshots: Path) -> None:
    page = browser.new_page(viewport={"width": 1100, "height": 1150})
    page.goto(f"{server}/network")
    # the clinicians' pairs first, then the analysts' co-occurrence network with its tables
    assert page.locator("#pairs tbody tr").count() > 0
    drawn = page.locator("section.for-analysts .visuals-drawing svg g.node").count()
    assert drawn == page.locator("[aria-labelledby=nodes-heading] tbody tr").count()
    assert page.locator("[aria-labelledby=edges-heading] tbody tr").count() > 0
    save_screenshot(page, screenshots, "network.png")
    page.close()
