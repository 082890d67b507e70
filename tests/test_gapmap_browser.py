"""The gap map page in headless Chromium (issue 11): it fits a 1366 px laptop with every column in view, becomes cards
on a 390 px phone, prints without its controls on A4 landscape with the heading row repeated, says every cell's
number, row and column to a screen reader, and works without JavaScript. (axe-core runs on it at both widths in
test_accessibility_browser.py.) Screenshots of both widths go to docs/screenshots/ with
EVIDENCEMAP_UPDATE_SCREENSHOTS=1."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from browser_support import BROWSER_MARKS, save_screenshot
from test_accessibility_browser import axe_violations, described

pytestmark = BROWSER_MARKS

LAPTOP = {"width": 1366, "height": 800}
PHONE = {"width": 390, "height": 844}
CELL = "emotional-support-validation:feeling-understood-validated"

# Every element of the page's main content that shows text of its own, with its computed font size in px.
TEXT_SIZES = """() => [...document.querySelectorAll('main *')].filter(e => {
  const s = getComputedStyle(e);
  if (s.display === 'none' || s.visibility === 'hidden' || e.closest('.visually-hidden')) return false;
  return [...e.childNodes].some(n => n.nodeType === 3 && n.textContent.trim());
}).map(e => [e.tagName + '.' + e.className, parseFloat(getComputedStyle(e).fontSize),
              e.textContent.trim().slice(0, 40)])"""


def open_page(browser: Any, server: str, viewport: dict[str, int], path: str = "/gapmap", **options: Any) -> Any:
    context = browser.new_context(viewport=viewport, **options)
    page = context.new_page()
    response = page.goto(server + path)
    assert response is not None and response.status == 200
    return page


def test_gapmap_fits_a_laptop_with_every_column_in_view(browser: Any, server: str, screenshots: Path) -> None:
    page = open_page(browser, server, LAPTOP)
    try:
        width = page.evaluate("innerWidth")
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        frame = page.locator(".gapmap-frame")
        assert frame.evaluate("f => f.scrollWidth <= f.clientWidth"), "the map scrolls sideways inside its frame"
        headings = page.locator("thead th.gapmap-col")
        assert headings.count() >= 10
        for i in range(headings.count()):
            box = headings.nth(i).bounding_box()
            assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= width, headings.nth(i).inner_text()
        last = page.locator("tbody tr:not(.gapmap-group) td:last-child")
        for i in range(last.count()):
            box = last.nth(i).bounding_box()
            assert box is not None and box["x"] + box["width"] <= width
        small = [t for t in page.evaluate(TEXT_SIZES) if t[1] < 12]
        assert not small, f"text under 12 px: {small[:5]}"
        save_screenshot(page, screenshots, "gapmap.png", full_page=True)
    finally:
        page.context.close()


def test_gapmap_on_a_phone_is_a_list_of_cards(browser: Any, server: str, screenshots: Path) -> None:
    page = open_page(browser, server, PHONE)
    try:
        width = page.evaluate("innerWidth")
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        assert not page.locator("table.gapmap thead").is_visible()
        card = page.locator("table.gapmap tbody tr:not(.gapmap-group)").first
        assert card.evaluate("r => getComputedStyle(r).display") == "grid"
        assert card.locator("th.gapmap-row").is_visible()
        assert card.locator("th.gapmap-row").evaluate("th => getComputedStyle(th).position") == "sticky"
        filled = card.locator("td.is-studies").first
        assert filled.locator(".gapmap-col-name").is_visible() and filled.locator(".gapmap-n").is_visible()
        assert page.locator(".gapmap-phone-note").is_visible()
        legend = page.locator(".gapmap-legend").bounding_box()
        assert legend is not None and legend["x"] >= 0 and legend["x"] + legend["width"] <= width
        for item in page.locator(".gapmap-colours li").all():
            box = item.bounding_box()
            assert box is not None and box["x"] + box["width"] <= width
        page.locator("table.gapmap caption").scroll_into_view_if_needed()
        save_screenshot(page, screenshots, "gapmap-phone.png")
    finally:
        page.context.close()


def test_gapmap_prints_the_matrix_without_controls(browser: Any, server: str) -> None:
    page = open_page(browser, server, LAPTOP)
    try:
        assert page.locator("form.gapmap-controls").is_visible()
        page.emulate_media(media="print")
        for hidden in ("form.gapmap-controls", "header.site", ".gapmap-downloads", ".gapmap-skip"):
            assert not page.locator(hidden).is_visible(), hidden
        assert page.locator("table.gapmap").is_visible()
        assert page.locator("table.gapmap thead").evaluate("h => getComputedStyle(h).display") == "table-header-group"
        assert page.locator("tbody tr").first.evaluate("r => getComputedStyle(r).breakInside") == "avoid"
        sizes = page.evaluate("""() => [...document.styleSheets].flatMap(s => { try { return [...s.cssRules]; }
            catch (e) { return []; } }).filter(r => r instanceof CSSPageRule).map(r => r.style.size)""")
        assert "a4 landscape" in [s.lower() for s in sizes]
        numbers = page.locator("td.is-studies .gapmap-n").first
        assert numbers.evaluate("n => getComputedStyle(n).color") == "rgb(0, 0, 0)"
        assert page.evaluate("document.documentElement.scrollWidth <= innerWidth")
        assert len(page.pdf(landscape=True, format="A4")) > 10_000
    finally:
        page.context.close()


def test_every_cell_is_a_link_that_says_its_number_row_and_column(browser: Any, server: str) -> None:
    page = open_page(browser, server, LAPTOP)
    try:
        cells = page.locator("td.gapmap-cell")
        rows = page.locator("tbody tr:not(.gapmap-group)").count()
        assert cells.count() == rows * page.locator("thead th.gapmap-col").count()
        names = page.evaluate("""() => [...document.querySelectorAll('td.gapmap-cell')].map(td => {
            const row = td.parentElement.querySelector('th').firstChild.textContent.trim();
            const head = document.querySelectorAll('thead th.gapmap-col')[td.cellIndex - 1].textContent.trim();
            const link = td.querySelector('a[href]');
            return [row, head, link ? link.textContent.replace(/\\s+/g, ' ').trim() : ''];
        })""")
        for row, head, said in names:
            assert said.endswith(f"{row}, {head}"), (row, head, said)
        said = "4 studies: emotional support and validation, feeling understood and validated"
        link = page.get_by_role("link", name=said)
        assert link.count() == 1
        link.focus()
        page.keyboard.press("Tab")
        following = page.evaluate("document.activeElement.closest('td')?.dataset.cell")
        assert following == "emotional-support-validation:increased-hope"
    finally:
        page.context.close()


def test_gapmap_works_without_javascript(browser: Any, server: str) -> None:
    page = open_page(browser, server, LAPTOP, java_script_enabled=False)
    try:
        page.click(f'td[data-cell="{CELL}"] a')
        page.wait_for_selector("#cell-studies")
        assert "feeling understood and validated" in page.inner_text("#cell-heading")
        assert page.locator("#cell-studies li").count() == 4
        assert page.locator(f'td[data-cell="{CELL}"] a[aria-current="true"]').count() == 1
    finally:
        page.context.close()


@pytest.mark.parametrize("width", [LAPTOP, PHONE], ids=["laptop", "phone"])
@pytest.mark.parametrize("path", [
    "/gapmap?rows=country&cols=outcome&cell=united-kingdom%3Aprogramme-satisfaction",  # not attributed
    "/gapmap?rows=challenge&cols=challenge&colour=none",  # one facet on both axes, one colour
    "/gapmap?rows=delivery&cols=modality&colour=evidence-type&delivery=online&support=cited",
])
def test_other_gap_maps_have_no_wcag_violation(browser: Any, server: str, path: str, width: dict[str, int]) -> None:
    """Beyond the default map of test_accessibility_browser.py: other axes, colourings and a not-attributed cell."""
    page = open_page(browser, server, width, path, bypass_csp=True)  # the site's CSP forbids injected scripts
    try:
        assert page.evaluate("document.documentElement.scrollWidth <= innerWidth")
        violations = axe_violations(page)
        assert not violations, described(violations)
    finally:
        page.context.close()
