"""The clinicians' pages in headless Chromium, as a person would use them (issue 3).

Asks the burnout question from the home page, ticks a facet on the study list, opens a study from the list and
reads its facts, and checks that the pages fit a phone. What the pages should show is checked against the
review's own text (maps/dufour-2025/review.txt), not against the map that renders them. Screenshots are taken on
every run and kept in docs/screenshots/ only when EVIDENCEMAP_UPDATE_SCREENSHOTS=1 (see browser_support.py).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from browser_support import BROWSER_MARKS, save_screenshot
from evidencemap.resources import bundled_map_dir

pytestmark = BROWSER_MARKS

DESKTOP = {"width": 1280, "height": 1000}
PHONE = {"width": 390, "height": 844}
QUESTION = "which online studies reported burnout"
# Section 3.3.3 of the review: the online studies that report emotional vulnerability and burnout.
BURNOUT_ONLINE = {40: "Bates 2023", 42: "Dahlenburg et al. 2024", 44: "Jewell et al. 2022", 45: "León 2022"}
# Section 3.2: "The remaining studies (n = 6) (38-41, 43, 45) described community-based or semi-structured peer groups."
COMMUNITY_BASED = [38, 39, 40, 41, 43, 45]
STUDY_REF, STUDY_SLUG = 38, "barr-2022"


def review_text() -> str:
    return (bundled_map_dir() / "review.txt").read_text(encoding="utf-8")


def normalised(text: str) -> str:
    return " ".join(text.split())


def reference(ref: int) -> str:
    """The line of the review's reference list for reference ``ref``."""
    match = re.search(rf"^- {ref}\. (.+)$", review_text(), re.MULTILINE)
    assert match, f"reference {ref} is not in the review's reference list"
    return match.group(1)


def shown_studies(page: Any) -> dict[int, str]:
    """Reference number -> citation of each study card on the page, in page order."""
    shown: dict[int, str] = {}
    for card in page.locator("article.study").all():
        ref = int(card.locator(".ref").inner_text().removeprefix("reference "))
        shown[ref] = card.locator(".study-heading a").inner_text()
    return shown


def horizontal_overflow(page: Any) -> int:
    """How many CSS pixels the page is wider than the viewport (0 when nothing scrolls sideways)."""
    width: int = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    return width


def test_home_question_about_burnout_lists_the_four_online_studies(
    server: str, browser: Any, screenshots: Path
) -> None:
    page = browser.new_page(viewport=DESKTOP)
    page.goto(f"{server}/")
    assert page.locator("h1").inner_text() == "Explore the evidence"
    assert page.locator("#q").is_visible() and page.locator("label[for=q]").is_visible()
    assert page.locator("#facet-form").is_visible()
    save_screenshot(page, screenshots, "home.png")

    page.fill("#q", QUESTION)
    page.press("#q", "Enter")
    page.wait_for_url(re.compile(r"/ask\?q=which\+online\+studies\+reported\+burnout$"))
    assert page.locator("h1").inner_text() == "Your question"
    assert page.locator("#q").input_value() == QUESTION
    interpretation = page.locator("#interpretation")
    assert interpretation.is_visible()
    assert "online" in interpretation.inner_text()
    assert "emotional vulnerability and burnout" in interpretation.inner_text()
    assert normalised(page.locator("#answer-count").inner_text()) == "4 studies"
    assert shown_studies(page) == BURNOUT_ONLINE
    assert list(shown_studies(page)) == sorted(BURNOUT_ONLINE)
    for card in page.locator("#answer article.study").all():
        assert card.is_visible()
        why = card.locator("ul.why").inner_text()
        assert "online" in why and "emotional vulnerability and burnout" in why
    save_screenshot(page, screenshots, "answer.png")
    page.close()


def test_ticking_a_modality_lists_the_six_community_based_studies_at_a_shareable_url(
    server: str, browser: Any, screenshots: Path
) -> None:
    page = browser.new_page(viewport=DESKTOP)
    page.goto(f"{server}/studies")
    assert len(shown_studies(page)) == 11
    box = page.locator("#facet-modality-community-based")
    assert box.is_visible() and not box.is_checked()
    box.check()
    page.click("#apply-filters")
    page.wait_for_url(re.compile(r"/studies\?"))
    assert parse_qs(urlsplit(page.url).query) == {"modality": ["community-based"]}
    assert list(shown_studies(page)) == COMMUNITY_BASED
    assert page.locator("#facet-modality-community-based").is_checked()
    count = normalised(page.locator("#result-count").inner_text())
    assert count.startswith("6 studies with") and "community-based peer group" in count
    save_screenshot(page, screenshots, "studies.png")
    shared_url = page.url
    page.close()

    other = browser.new_context(viewport=DESKTOP)  # someone else opening the shared link
    shared = other.new_page()
    shared.goto(shared_url)
    assert list(shown_studies(shared)) == COMMUNITY_BASED
    other.close()


def test_study_opened_from_the_list_shows_facts_with_the_reviews_words(
    server: str, browser: Any, screenshots: Path
) -> None:
    page = browser.new_page(viewport=DESKTOP)
    page.goto(f"{server}/studies?modality=community-based")
    page.click(f"#study-{STUDY_SLUG}-title a")
    page.wait_for_url(f"{server}/studies/{STUDY_SLUG}")

    listed = reference(STUDY_REF)
    assert page.locator("h1").inner_text() == "Barr et al. 2022"
    assert page.locator("#study").get_attribute("data-ref") == str(STUDY_REF)
    title = page.locator("#study-title").inner_text()
    assert title and title in listed
    doi = re.search(r"doi: (\S+)$", listed)
    assert doi
    doi_link = page.locator("#doi-link")
    assert doi_link.is_visible()
    assert doi_link.get_attribute("href") == f"https://doi.org/{doi.group(1)}"
    assert page.locator("#json-link").get_attribute("href") == f"/api/studies/{STUDY_SLUG}"

    text = normalised(review_text())
    headings = {line.strip() for line in review_text().splitlines()}
    quoted = page.locator(".fact:has(blockquote)")
    assert quoted.count() > 0
    for fact in quoted.all():
        quote = normalised(fact.locator("blockquote p").inner_text()).strip("“”")
        assert quote in text, f"not the review's words: {quote!r}"
        section = re.fullmatch(r"Review section (.+?)(?:, (.+))?", fact.locator("blockquote footer").inner_text())
        assert section, "a quote without its section"
        number, title = section.groups()
        heading = f"{number} {title}" if title else number  # unnumbered parts ("References") are named once
        assert heading in headings, f"no section {number} in the review"
    first = quoted.first
    assert first.locator(".fact-value a").is_visible() and first.locator("blockquote").is_visible()

    derived = page.locator(".fact:has(.fact-value .badge.derived)")
    assert derived.count() > 0
    rationale = derived.first.locator(".rationale")
    assert rationale.is_visible()
    assert rationale.inner_text().startswith("Why derived:") and len(rationale.inner_text()) > 40

    footer = page.locator("#attribution")
    assert footer.is_visible()
    review_doi = re.search(r"doi: (10\.3389/\S+)", review_text())
    assert review_doi and "Creative Commons Attribution License (CC BY)" in review_text()
    assert footer.locator(f'a[href="https://doi.org/{review_doi.group(1)}"]').count() == 1
    licence = footer.locator("a[rel=license]")
    assert (licence.get_attribute("href") or "").startswith("https://creativecommons.org/licenses/by/")
    assert "Licence:" in footer.inner_text()
    save_screenshot(page, screenshots, "study.png")
    page.close()


def test_review_page_shows_its_bottom_line_the_flow_and_links_the_claims(
    server: str, browser: Any, screenshots: Path
) -> None:
    page = browser.new_page(viewport=DESKTOP)
    page.goto(f"{server}/review")
    assert "scoping review" in page.locator("#review-title").inner_text()
    bottom_line = page.locator("#bottom-line blockquote")
    assert bottom_line.is_visible()
    words = normalised(bottom_line.locator("p").first.inner_text()).strip("“”")
    conclusion = normalised(review_text()).split("5 Conclusion", 1)[1]
    assert words in conclusion, "the bottom line is the review's own words, from its section 5"
    diagram = page.locator("figure.prisma svg")
    assert diagram.is_visible() and diagram.bounding_box()["width"] > 600  # inline, at a readable size
    assert page.locator("#prisma-flow tbody tr").count() > 0
    assert page.locator("#claims").count() == 0
    page.locator("#claims-link").click()
    page.wait_for_url("**/review/claims")
    assert page.locator("#claims tbody tr").count() > 40
    page.goto(f"{server}/review")
    save_screenshot(page, screenshots, "review.png")
    page.close()


@pytest.mark.parametrize(
    "path",
    ["/", f"/ask?q={QUESTION.replace(' ', '+')}", "/studies?modality=community-based", f"/studies/{STUDY_SLUG}",
     "/review", "/review/claims", "/network"],
)
def test_page_fits_a_phone_screen_without_sideways_scrolling(server: str, browser: Any, path: str) -> None:
    page = browser.new_page(viewport=PHONE)
    page.goto(f"{server}{path}")
    assert page.locator("h1").is_visible()
    assert horizontal_overflow(page) <= 1, f"{path} scrolls sideways on a 390 px wide screen"
    page.close()
