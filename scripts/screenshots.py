"""Screenshots of every page of the site at a laptop's and a phone's width, into docs/screenshots/.

Serves the bundled map with uvicorn on a free port and drives Debian's headless Chromium with Playwright: the same
harness as the browser tests (tests/browser_support.py, tests/app_support.py). Each page is taken at 1366 x 900 and
at 390 x 844 (the top of the page, as a reader first sees it) as ``<name>-desktop.png`` and ``<name>-phone.png``;
docs/visuals.md shows them.

    .venv/bin/python scripts/screenshots.py            # every page
    .venv/bin/python scripts/screenshots.py review     # the pages whose name contains "review"
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from app_support import serving  # noqa: E402  (the test harness, found on the path above)
from browser_support import ARGS, CHROMIUM, PNG_SIGNATURE  # noqa: E402
from evidencemap.settings import Settings  # noqa: E402
from evidencemap.web.app import create_app  # noqa: E402

OUT = ROOT / "docs" / "screenshots"
WIDTHS = {"desktop": {"width": 1366, "height": 900}, "phone": {"width": 390, "height": 844}}
# Every page of the site: (file name, path, what it shows).
PAGES = [
    ("home", "/", "the question box, three example questions and the topics to filter by"),
    ("answer", "/ask?q=which+online+studies+reported+burnout",
     "an answer: 4 of 11 studies with their designs counted, how the question was read, study cards with badges"),
    ("values-answer", "/ask?q=what+challenges+did+online+studies+report", "an answer that lists values with counts"),
    ("studies", "/studies?delivery=online", "the study list filtered to online delivery, cards with evidence badges"),
    ("study", "/studies/jewell-2022", "a study: its record, its facts with the review's words and sections"),
    ("concept", "/concepts/delivery/online", "a concept and its studies"),
    ("review", "/review", "the review's bottom line, record, criteria, search and PRISMA diagram"),
    ("claims", "/review/claims", "the claims check, for curators"),
    ("gapmap-page", "/gapmap", "the evidence gap map (the gap map's own tests take gapmap.png and gapmap-phone.png)"),
    ("network", "/network", "which outcome goes with which challenge: the pairs drawn and listed"),
    ("sparql-page", "/sparql", "the SPARQL editor"),
    ("ontology", "/ontology", "the ontology's documentation"),
    ("linked-study", "/data/dufour-2025/study/jewell-2022", "a study as linked data"),
    ("validation", "/validation", "the map's SHACL validation report"),
    ("error", "/studies/no-such-study", "the error page"),
]


def take(only: str = "") -> list[Path]:
    from playwright.sync_api import sync_playwright

    OUT.mkdir(parents=True, exist_ok=True)
    written = []
    with serving(create_app(Settings())) as base, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        for width, viewport in WIDTHS.items():
            context = browser.new_context(viewport=viewport)
            page = context.new_page()
            for name, path, _ in PAGES:
                if only not in name:
                    continue
                page.goto(base + path, wait_until="networkidle")
                target = OUT / f"{name}-{width}.png"
                page.screenshot(path=str(target))
                if not target.read_bytes().startswith(PNG_SIGNATURE):
                    raise SystemExit(f"{target} is not a PNG")
                written.append(target)
                print(f"{target.relative_to(ROOT)}  {path}")
            context.close()
        browser.close()
    return written


if __name__ == "__main__":
    take(sys.argv[1] if len(sys.argv) > 1 else "")
