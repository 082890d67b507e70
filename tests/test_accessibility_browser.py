"""The clinicians' pages against axe-core's WCAG 2.x A and AA rules, in headless Chromium at a desktop and a phone
width (issue 11), and the skip links that shorten the way to the results.

axe-core is vendored in tests/resources/axe/ (MPL-2.0; see its README there), injected into each page as it is
served; a violation fails the test with each rule's id, the elements it found and the rule's help text.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from browser_support import BROWSER_MARKS

pytestmark = BROWSER_MARKS

AXE = Path(__file__).resolve().parent / "resources" / "axe" / "axe.min.js"
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
WIDTHS = {"desktop": {"width": 1366, "height": 900}, "phone": {"width": 390, "height": 844}}
PAGES = {
    "home": "/",
    "answer": "/ask?q=which+online+studies+reported+burnout",
    "values answer": "/ask?q=what+challenges+did+online+studies+report",
    "studies": "/studies",
    "filtered studies": "/studies?delivery=online",
    "study": "/studies/jewell-2022",
    "concept": "/concepts/delivery/online",
    "gap map": "/gapmap",
    "gap map cell": "/gapmap?cell=skill-building%3Aprogramme-satisfaction",
    "network": "/network",
    "review": "/review",
    "claims check": "/review/claims",
    "ontology": "/ontology",
    "linked concept": "/concept/delivery/online",
    "linked study": "/data/dufour-2025/study/jewell-2022",
    "validation": "/validation",
    "sparql": "/sparql",
    "map index": "/maps",
    "matrix of studies by review": "/matrix",
    "a map's own site": "/maps/dufour-2025/studies",
}
def axe_violations(page: Any) -> list[dict[str, Any]]:
    """The violations of the WCAG A/AA rules that axe-core finds on the page as it is now."""
    page.add_script_tag(content=AXE.read_text(encoding="utf-8"))
    result: dict[str, Any] = page.evaluate(
        "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']})", WCAG_TAGS)
    violations: list[dict[str, Any]] = result["violations"]
    return violations


def described(violations: list[dict[str, Any]]) -> str:
    lines = []
    for v in violations:
        targets = [" ".join(map(str, node["target"])) for node in v["nodes"]]
        lines.append(f"{v['id']} ({v['impact']}): {v['help']} — {len(targets)} element(s): {targets[:5]}")
    return "\n".join(lines)


@pytest.mark.parametrize("width", list(WIDTHS))
@pytest.mark.parametrize("name", list(PAGES))
def test_page_has_no_wcag_violation(browser: Any, server: str, name: str, width: str) -> None:
    context = browser.new_context(viewport=WIDTHS[width], bypass_csp=True)  # the site's CSP forbids injected scripts
    try:
        page = context.new_page()
        response = page.goto(server + PAGES[name])
        assert response is not None and response.status == 200
        violations = axe_violations(page)
        assert not violations, f"{name} at {width} width:\n{described(violations)}"
    finally:
        context.close()


def test_axe_reports_a_violation_it_is_shown(browser: Any) -> None:
    """The check can fail: a page with an image without alternative text and an unlabelled field is caught."""
    context = browser.new_context(bypass_csp=True)
    try:
        page = context.new_page()
        page.set_content('<!doctype html><html lang="en"><title>t</title><main><img src="x.png">'
                         '<input type="text"></main></html>')
        found = {v["id"] for v in axe_violations(page)}
        assert {"image-alt", "label"} <= found, found
    finally:
        context.close()


@pytest.mark.parametrize(("path", "skip_link", "lands_on"), [
    ("/", "#skip-to-show-studies", "#apply-filters"),
    ("/studies?delivery=online", "#skip-to-results", "#results"),
    ("/ask?q=which+online+studies+reported+burnout", "#skip-to-results", "#answer"),
])
def test_skip_link_is_near_the_top_and_reaches_its_target(
        browser: Any, server: str, path: str, skip_link: str, lands_on: str) -> None:
    """Within the first Tab stops of the page (after "Skip to content" and the site's menu), the skip link moves
    the keyboard to the results, or to the button that shows them; the next Tab goes on from there."""
    context = browser.new_context(viewport=WIDTHS["desktop"])
    try:
        page = context.new_page()
        page.goto(server + path)
        for _ in range(12):
            page.keyboard.press("Tab")
            if page.evaluate("document.activeElement.id") == skip_link.lstrip("#"):
                break
        else:
            pytest.fail(f"{skip_link} is not among the first 12 Tab stops of {path}")
        assert page.locator(skip_link).is_visible(), "a focused skip link must be visible"
        page.keyboard.press("Enter")
        page.keyboard.press("Tab")
        inside = page.evaluate(
            "sel => { const t = document.querySelector(sel); const a = document.activeElement; return t === a"
            " || t.contains(a) || !!(t.compareDocumentPosition(a) & Node.DOCUMENT_POSITION_FOLLOWING); }",
            lands_on)
        assert inside, f"after {skip_link}, Tab went to {page.evaluate('document.activeElement.outerHTML')[:200]}"
    finally:
        context.close()
