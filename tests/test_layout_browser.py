"""Every page on a laptop, a phone and paper, in headless Chromium (issue 11): no page scrolls sideways at 1366 or
390 px (a wide table or drawing scrolls inside its own labelled, keyboard-reachable region, or reflows), study cards
carry their evidence badges, and the print stylesheet applies (menu, forms and buttons gone under print emulation).
"""

from __future__ import annotations

from typing import Any

import pytest

from browser_support import BROWSER_MARKS

pytestmark = BROWSER_MARKS

WIDTHS = {"desktop": {"width": 1366, "height": 900}, "phone": {"width": 390, "height": 844}}
# Every page of the site, one of each kind.
PAGES = {
    "home": "/",
    "answer": "/ask?q=which+online+studies+reported+burnout",
    "values answer": "/ask?q=what+challenges+did+online+studies+report",
    "not understood": "/ask?q=zzzz+qqqq",
    "studies": "/studies",
    "filtered studies": "/studies?delivery=online&challenge=emotional-vulnerability-burnout",
    "study": "/studies/jewell-2022",
    "concept": "/concepts/delivery/online",
    "review": "/review",
    "claims check": "/review/claims",
    "gap map": "/gapmap",
    "network": "/network",
    "sparql": "/sparql",
    "ontology": "/ontology",
    "linked concept": "/concept/delivery/online",
    "linked study": "/data/dufour-2025/study/jewell-2022",
    "validation": "/validation",
    "error": "/studies/no-such-study",
}
# The elements of a page that scroll sideways on their own; each must be reachable by keyboard and named.
SCROLLERS = """() => [...document.querySelectorAll('body *')].filter(e => {
  const o = getComputedStyle(e).overflowX;
  return (o === 'auto' || o === 'scroll') && e.scrollWidth > e.clientWidth + 1 && e.checkVisibility();
}).map(e => ({tag: e.tagName, tabindex: e.getAttribute('tabindex'), name: e.getAttribute('aria-label')
  || e.getAttribute('aria-labelledby'), role: e.getAttribute('role')}))"""


def overflow(page: Any) -> int:
    """How many CSS pixels the page is wider than the window (0 when nothing scrolls sideways)."""
    width: int = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    return width


@pytest.mark.parametrize("width", list(WIDTHS))
@pytest.mark.parametrize("name", list(PAGES))
def test_no_page_scrolls_sideways(browser: Any, server: str, name: str, width: str) -> None:
    context = browser.new_context(viewport=WIDTHS[width])
    try:
        page = context.new_page()
        response = page.goto(server + PAGES[name])
        assert response is not None and response.status in (200, 404)
        assert overflow(page) <= 0, f"{name} is {overflow(page)} px wider than a {width} window"
        page.evaluate("document.querySelectorAll('details').forEach(d => { d.open = true; })")  # what they hide too
        assert overflow(page) <= 0, f"{name} with its details open is {overflow(page)} px wider than a {width} window"
        for region in page.evaluate(SCROLLERS):
            assert region["tabindex"] == "0" and region["name"], f"{name}: a scroll area the keyboard cannot reach " \
                f"or that has no name: {region}"
    finally:
        context.close()


@pytest.mark.parametrize("width", list(WIDTHS))
def test_study_cards_carry_their_evidence_badges(browser: Any, server: str, width: str) -> None:
    """Every card of the study list shows its design as a visible badge, with how strongly the review attributes
    it; the list says how many of the map's studies it shows."""
    context = browser.new_context(viewport=WIDTHS[width])
    try:
        page = context.new_page()
        page.goto(server + "/studies?delivery=online")
        cards = page.locator("article.study")
        assert cards.count() == 6
        for i in range(cards.count()):
            badge = cards.nth(i).locator(".kind-badge.design").first
            assert badge.is_visible(), f"card {i} has no visible design badge"
            assert badge.locator(".strength").inner_text().strip().lower() in {"cited", "derived", "inferred",
                                                                                "extracted"}
        assert "6 of 11 studies" in page.locator("#list-of-total").inner_text()
    finally:
        context.close()


@pytest.mark.parametrize("path", ["/", "/studies?delivery=online", "/studies/jewell-2022", "/review", "/network"])
def test_print_hides_the_menu_and_forms(browser: Any, server: str, path: str) -> None:
    """Under print emulation the menu, forms and buttons are gone and the content stays; on screen they are there."""
    context = browser.new_context(viewport=WIDTHS["desktop"])
    try:
        page = context.new_page()
        page.goto(server + path)
        shown = "sel => [...document.querySelectorAll(sel)].filter(e => e.getClientRects().length > 0).length"
        assert page.evaluate(shown, "header.site nav") == 1
        page.emulate_media(media="print")
        assert page.evaluate(shown, "header.site nav, form, button, select, input") == 0
        assert page.locator("h1").is_visible() and page.locator("footer.site").is_visible()
        assert page.evaluate(shown, "article.study, .fact, #bottom-line, #pairs, #prisma-flow") > 0 or path == "/"
        if path == "/studies/jewell-2022":
            pdf = page.pdf(format="A4")
            assert pdf.startswith(b"%PDF") and len(pdf) > 10_000
    finally:
        context.close()
