"""What the browser tests share: a real uvicorn server on a free port, headless Chromium from Debian driven by
Playwright, and where screenshots go. conftest.py shares the fixtures (``server``, ``browser``, ``screenshots``) with
every test module; the marks (``BROWSER_MARKS``) and ``save_screenshot`` are imported from here.

Screenshots are always taken (so a page that fails to render fails the test), but they are written into
docs/screenshots/ only when ``EVIDENCEMAP_UPDATE_SCREENSHOTS=1``; otherwise into the test's tmp_path, so that a
plain test run leaves the git tree as it found it.
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from app_support import serving
from evidencemap.settings import Settings
from evidencemap.web.app import create_app

CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOTS = Path(__file__).resolve().parents[1] / "docs" / "screenshots"
UPDATE_SCREENSHOTS = "EVIDENCEMAP_UPDATE_SCREENSHOTS"
ARGS = [
    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"

BROWSER_MARKS = [
    pytest.mark.browser,
    pytest.mark.server,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Chromium at /usr/bin/chromium (.ci/run installs it)"),
    pytest.mark.skipif(
        importlib.util.find_spec("playwright") is None,
        reason="needs Playwright for Python (.venv/bin/pip install -e '.[test]')",
    ),
]


@pytest.fixture(scope="session")
def server() -> Iterator[str]:
    """The base URL of the app serving the bundled map, run by uvicorn in a thread."""
    with serving(create_app(Settings())) as base:
        yield base


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Debian's headless Chromium, launched by Playwright (never a downloaded browser). Once per module, not per
    session: Playwright's sync API runs one instance at a time, so a module with a browser fixture of its own could
    not start it while a session-wide one is open."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def screenshots(tmp_path: Path) -> Path:
    """docs/screenshots/ when EVIDENCEMAP_UPDATE_SCREENSHOTS=1, else a folder of this test's own."""
    if os.environ.get(UPDATE_SCREENSHOTS) == "1":
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        return SCREENSHOTS
    return tmp_path


def save_screenshot(page: Any, folder: Path, name: str, *, full_page: bool = False) -> Path:
    """Screenshot ``page`` as ``folder/name``, and check that a non-trivial PNG was written."""
    path = folder / name
    page.screenshot(path=str(path), full_page=full_page)
    data = path.read_bytes()
    assert data.startswith(PNG_SIGNATURE), f"{name} is not a PNG"
    assert len(data) > 5_000, f"{name} is suspiciously small ({len(data)} bytes): did the page render?"
    return path
