"""The gap map, PRISMA diagram and network page in headless Chromium against a real uvicorn server.

Clicks a gap-map cell and checks its studies appear; saves the screenshots in docs/screenshots/.
"""

# ruff: noqa: F811  (fixtures imported from visuals_fixtures are redefined as test parameters)
from __future__ import annotations

import socket
import threading
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

import pytest

from evidencemap.settings import Settings
from evidencemap.store import EvidenceMap
from evidencemap.vocabulary import Vocabulary
from visuals_fixtures import bundled, refs, studies_with, vocabulary  # noqa: F401

CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOTS = Path(__file__).resolve().parents[1] / "docs" / "screenshots"
ARGS = [
    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]

pytestmark = [
    pytest.mark.browser,
    pytest.mark.server,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Chromium at /usr/bin/chromium"),
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    import uvicorn

    from evidencemap.web.app import create_app

    port = free_port()
    config = uvicorn.Config(create_app(Settings()), host="127.0.0.1", port=port, log_level="warning")
    instance = uvicorn.Server(config)
    thread = threading.Thread(target=instance.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not instance.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    instance.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    playwright_api = pytest.importorskip("playwright.sync_api")
    with playwright_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield chromium
        chromium.close()


def test_gapmap_click_on_a_cell_shows_its_studies(
    server: str, browser: object, bundled: EvidenceMap, vocabulary: Vocabulary
) -> None:
    expected = studies_with(
        bundled, vocabulary, component=["emotional-support-validation"], outcome=["feeling-understood-validated"]
    )
    page = browser.new_page(viewport={"width": 1680, "height": 1480})  # type: ignore[attr-defined]
    page.goto(f"{server}/gapmap")
    assert page.title().startswith("Evidence gap map")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "gapmap.png"))
    page.click('svg a.cell-link:has(g[data-cell="emotional-support-validation:feeling-understood-validated"])')
    page.wait_for_selector("#cell-studies")
    assert "cell=emotional-support-validation%3Afeeling-understood-validated" in page.url
    heading = page.inner_text("#cell-heading")
    assert "emotional support and validation × feeling understood and validated" in heading
    shown = [int(li.get_attribute("data-ref")) for li in page.query_selector_all("#cell-studies li")]
    assert shown == refs(bundled, expected) == [38, 39, 40, 42]
    page.close()


def test_prisma_diagram_screenshot(server: str, browser: object) -> None:
    page = browser.new_page(viewport={"width": 800, "height": 600})  # type: ignore[attr-defined]
    response = page.goto(f"{server}/api/prisma.svg")
    assert response is not None and response.ok
    root = ET.fromstring(response.body())
    width, height = (int(float(root.get(name, "600"))) for name in ("width", "height"))
    page.set_viewport_size({"width": width, "height": height})
    assert "2,114" in page.inner_html("svg")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "prisma.png"))
    page.close()


def test_network_page_screenshot(server: str, browser: object) -> None:
    page = browser.new_page(viewport={"width": 1100, "height": 1150})  # type: ignore[attr-defined]
    page.goto(f"{server}/network")
    assert page.locator("svg g.node").count() == page.locator("section:has(#nodes-heading) tbody tr").count()
    assert page.locator("section:has(#edges-heading) tbody tr").count() > 0
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "network.png"))
    page.close()
