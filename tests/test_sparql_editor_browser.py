"""The /sparql editor in headless Chromium (issue 11): YASGUI loads under the page's Content-Security-Policy with no
console error and no request to another site, runs a query into a sortable table, offers the downloads of the
query's form, completes the map's terms, opens the named queries in tabs, marks a syntax error where the server
says it is, passes axe-core at desktop and phone width; and without JavaScript the plain form still works.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest

from browser_support import BROWSER_MARKS, save_screenshot
from test_accessibility_browser import WIDTHS, axe_violations, described

pytestmark = BROWSER_MARKS

READY = ".sparql-yasgui .CodeMirror"
ROWS = ".yasr table.dataTable tbody tr"


class Watched:
    """A page with what it logged and asked for."""

    def __init__(self, page: Any, server: str) -> None:
        self.page = page
        self.server = server
        self.errors: list[str] = []
        self.requests: list[str] = []
        page.on("console", self._console)
        page.on("pageerror", lambda error: self.errors.append(f"page error: {error}"))
        page.on("request", lambda request: self.requests.append(request.url))

    def _console(self, message: Any) -> None:
        if message.type != "error":
            return
        url = str((message.location or {}).get("url", ""))
        if url.endswith("/favicon.ico"):  # the browser's own request for an icon the site does not have
            return
        if url.startswith(self.server + "/sparql") and "status of 400" in message.text:
            return  # the network log line of a query the test made bad on purpose (the page shows the error)
        self.errors.append(f"{message.text} ({url})")

    def off_site(self) -> list[str]:
        return [url for url in self.requests if not url.startswith(self.server) and not url.startswith("data:")]


@pytest.fixture
def editor(browser: Any, server: str) -> Iterator[Watched]:
    """The editor at desktop width, loaded, with the site's real CSP (no bypass)."""
    context = browser.new_context(viewport=WIDTHS["desktop"])
    try:
        watched = Watched(context.new_page(), server)
        watched.page.goto(server + "/sparql")
        watched.page.wait_for_selector(READY, timeout=15_000)
        yield watched
    finally:
        context.close()


def set_query(page: Any, text: str) -> None:
    page.evaluate("text => window.evidencemapEditor.getTab().getYasqe().setValue(text)", text)


def run(page: Any) -> None:
    page.evaluate("() => window.evidencemapEditor.getTab().getYasqe().query().catch(() => null)")


def column(page: Any, index: int) -> list[str]:
    cells = page.locator(f"{ROWS} td:nth-child({index + 1})")
    return [text.strip() for text in cells.all_inner_texts()]


def test_editor_replaces_the_form_and_runs_a_query_into_a_sortable_table(editor: Watched) -> None:
    page = editor.page
    assert page.locator("#sparql-form").is_hidden()
    assert "SELECT ?class" in page.evaluate("() => window.evidencemapEditor.getTab().getYasqe().getValue()")
    run(page)
    page.wait_for_selector(ROWS)
    counts = [int(text.split('"')[1]) for text in column(page, 2)]
    assert counts == sorted(counts, reverse=True) and len(counts) > 10  # the query's own ORDER BY DESC
    header = page.locator(".yasr table.dataTable thead th").nth(2)
    header.click()  # sort by ?things, ascending
    page.wait_for_function("() => document.querySelector('.yasr thead th:nth-child(3)')"
                           ".getAttribute('aria-sort') === 'ascending'")
    ascending = [int(text.split('"')[1]) for text in column(page, 2)]
    assert ascending == sorted(counts)
    assert page.inner_text("#sparql-editor-downloads") == "Same query as: JSON · XML · CSV · TSV"
    assert not editor.errors, editor.errors  # CSP violations are console errors
    assert not editor.off_site(), editor.off_site()


def test_editor_downloads_match_a_construct_query_and_answer(editor: Watched) -> None:
    page = editor.page
    set_query(page, "PREFIX evm: <https://w3id.org/evidencemap/ontology#>\n"
                    "CONSTRUCT { ?s a evm:IncludedStudy } WHERE { ?s a evm:IncludedStudy }")
    run(page)
    page.wait_for_selector("#sparql-editor-downloads:not([hidden])")
    links = page.locator("#sparql-editor-downloads a")
    assert links.all_inner_texts() == ["Turtle", "N-Triples", "JSON-LD", "RDF/XML"]
    for href in [links.nth(i).get_attribute("href") for i in range(links.count())]:
        response = page.request.get(href)
        assert response.status == 200, href
    assert not editor.errors, editor.errors


def test_editor_marks_the_servers_error_position(editor: Watched) -> None:
    page = editor.page
    set_query(page, "SELECT ?s\nWHERE {\n  ?s ?p ?o .\n  ?s ?p ]\n}")
    run(page)
    page.wait_for_selector("#sparql-editor-error:not([hidden])")
    assert "line 4, column 9: unexpected ']'" in page.inner_text("#sparql-editor-error")
    assert page.inner_text(".sparql-error-token") == "]"
    cursor = page.evaluate("() => window.evidencemapEditor.getTab().getYasqe().getDoc().getCursor()")
    assert (cursor["line"], cursor["ch"]) == (3, 8)
    assert page.locator("#sparql-editor-downloads").is_hidden()
    assert not editor.errors, editor.errors


def test_editor_completes_the_maps_terms_without_asking_another_site(editor: Watched) -> None:
    page = editor.page
    page.wait_for_selector("#sparql-editor[data-vocabulary-loaded]")  # fetched while the editor starts
    set_query(page, "PREFIX evm: <https://w3id.org/evidencemap/ontology#>\nSELECT * WHERE { ?s a evm:Incl")
    page.evaluate("""() => { const y = window.evidencemapEditor.getTab().getYasqe();
        y.focus(); y.getDoc().setCursor({line: 1, ch: y.getDoc().getLine(1).length}); y.autocomplete(); }""")
    page.wait_for_selector(".CodeMirror-hints li")
    hints = page.locator(".CodeMirror-hints li").all_inner_texts()
    assert any(h.startswith("evm:IncludedStudy") and "—" in h for h in hints), hints  # with its label
    page.keyboard.press("Enter")
    assert page.evaluate("() => window.evidencemapEditor.getTab().getYasqe().getValue()").endswith("evm:IncludedStudy")
    set_query(page, "PREFIX evm: <https://w3id.org/evidencemap/ontology#>\n"
                    "SELECT * WHERE { ?s evm:reportsCh")
    page.evaluate("""() => { const y = window.evidencemapEditor.getTab().getYasqe();
        y.getDoc().setCursor({line: 1, ch: y.getDoc().getLine(1).length}); y.autocomplete(); }""")
    page.wait_for_selector(".CodeMirror-hints li")
    assert any(h.startswith("evm:reportsChallenge") for h in page.locator(".CodeMirror-hints li").all_inner_texts())
    page.keyboard.press("Escape")
    set_query(page, "SELECT * WHERE { ?s ?p <https://w3id.org/evidencemap/concept/delivery/onl")
    page.evaluate("""() => { const y = window.evidencemapEditor.getTab().getYasqe();
        y.getDoc().setCursor({line: 0, ch: y.getDoc().getLine(0).length}); y.autocomplete(); }""")
    page.wait_for_selector(".CodeMirror-hints li")
    concepts = page.locator(".CodeMirror-hints li").all_inner_texts()
    assert any("concept/delivery/online>" in h and "(delivery)" in h for h in concepts), concepts
    assert not editor.off_site(), editor.off_site()
    assert not editor.errors, editor.errors


def test_named_queries_open_in_tabs_and_run(editor: Watched) -> None:
    page = editor.page
    example = page.locator("#example-online-studies-burnout")
    title = example.locator("h3").inner_text()
    example.get_by_role("button", name="Open in the editor").click()
    assert page.locator(".sparql-yasgui .tabsList .tab.active").inner_text().splitlines()[0].strip() == title
    query = page.evaluate("() => window.evidencemapEditor.getTab().getYasqe().getValue()")
    assert "VALUES (?delivery ?challenge)" in query  # the example with its defaults bound
    run(page)
    page.wait_for_selector(ROWS)
    refs = [int(text.split('"')[1]) for text in column(page, 1)]
    assert refs == [40, 42, 44, 45]  # the four online studies that reported burnout
    assert not editor.errors, editor.errors


@pytest.mark.parametrize("width", list(WIDTHS))
def test_editor_with_results_has_no_wcag_violation(browser: Any, server: str, width: str, screenshots: Path) -> None:
    # axe is injected into the page: the site's CSP would refuse it (the editor itself runs under the real CSP in
    # the tests above)
    context = browser.new_context(viewport=WIDTHS[width], bypass_csp=True)
    try:
        page = context.new_page()
        page.goto(server + "/sparql")
        page.wait_for_selector(READY, timeout=15_000)
        run(page)
        page.wait_for_selector(ROWS)
        violations = axe_violations(page)
        assert not violations, f"/sparql editor at {width} width:\n{described(violations)}"
        overflow = page.evaluate("() => document.documentElement.scrollWidth - document.documentElement.clientWidth")
        assert overflow <= 0, f"the page scrolls sideways by {overflow} px at {width} width"
        save_screenshot(page, screenshots, "sparql.png" if width == "desktop" else "sparql-phone.png")
    finally:
        context.close()


def test_without_javascript_the_form_still_works(browser: Any, server: str) -> None:
    context = browser.new_context(viewport=WIDTHS["phone"], java_script_enabled=False)
    try:
        page = context.new_page()
        page.goto(server + "/sparql")
        assert page.locator("#sparql-form").is_visible() and page.locator(".sparql-yasgui").count() == 0
        page.fill("#sparql-query", "PREFIX evm: <https://w3id.org/evidencemap/ontology#>\nSELECT ?ref WHERE {"
                                   " ?s a evm:IncludedStudy ; evm:referenceNumber ?ref } ORDER BY ?ref")
        page.click(".sparql-form button[type=submit]")
        page.wait_for_selector(".sparql-table tbody tr")
        assert page.locator(".sparql-table tbody tr").count() == 11
        links = page.locator(".sparql-downloads a")
        assert links.all_inner_texts() == ["JSON", "XML", "CSV", "TSV"]
        assert page.request.get(server + str(links.nth(2).get_attribute("href"))).status == 200
        assert page.locator("#sparql-format option").all_inner_texts()[1:] == ["JSON", "XML", "CSV", "TSV"]
    finally:
        context.close()


def test_a_page_with_the_servers_error_has_it_marked_in_the_editor(browser: Any, server: str) -> None:
    context = browser.new_context(viewport=WIDTHS["desktop"])
    try:
        watched = Watched(context.new_page(), server)
        query = "SELECT ?s WHERE {\n  ?s ?p ?o\n  ?s ?q ?o2\n}"  # a dot forgotten: the second ?s is wrong
        watched.page.goto(server + "/sparql?" + urlencode({"query": query, "format": "html"}))
        watched.page.wait_for_selector(".sparql-error-token")
        assert watched.page.inner_text(".sparql-error-token") == "?s"
        cursor = watched.page.evaluate("() => window.evidencemapEditor.getTab().getYasqe().getDoc().getCursor()")
        assert (cursor["line"], cursor["ch"]) == (2, 2)
        assert "Line 3, column 3:" in watched.page.inner_text(".sparql-server-result")  # the page's own report stays
    finally:
        context.close()


def test_editor_completes_and_declares_the_maps_prefixes(editor: Watched) -> None:
    page = editor.page
    page.wait_for_selector("#sparql-editor[data-vocabulary-loaded]")
    page.evaluate("() => { const y = window.evidencemapEditor.getTab().getYasqe(); y.setValue(''); y.focus(); }")
    page.keyboard.type("PREFIX ev")
    page.evaluate("() => window.evidencemapEditor.getTab().getYasqe().autocomplete()")
    page.wait_for_selector(".CodeMirror-hints li")
    assert page.locator(".CodeMirror-hints li").all_inner_texts() == ["evm: <https://w3id.org/evidencemap/ontology#>"]
    page.keyboard.press("Escape")
    page.evaluate("() => { const y = window.evidencemapEditor.getTab().getYasqe(); y.setValue(''); y.focus(); }")
    page.keyboard.type("SELECT * WHERE { ?s a skos:")  # a prefix used before it is declared gets its declaration
    page.wait_for_function("() => window.evidencemapEditor.getTab().getYasqe().getValue().startsWith('PREFIX skos:')")
    assert page.evaluate("() => window.evidencemapEditor.getTab().getYasqe().getValue()").splitlines()[0] == (
        "PREFIX skos: <http://www.w3.org/2004/02/skos/core#>")
    assert not editor.off_site(), editor.off_site()


def test_the_keyboard_can_leave_the_editor(editor: Watched) -> None:
    """Tab indents inside the editor (as in any code editor); Esc then Tab moves on, as the page says (WCAG 2.1.2)."""
    page = editor.page
    assert "press Esc, then Tab" in page.inner_text("#sparql-editor-keys")
    page.evaluate("() => window.evidencemapEditor.getTab().getYasqe().focus()")
    inside = "() => document.activeElement === window.evidencemapEditor.getTab().getYasqe().getInputField()"
    assert page.evaluate(inside)
    page.keyboard.press("Tab")
    assert page.evaluate(inside)  # indented, still inside
    page.keyboard.press("Escape")
    page.keyboard.press("Tab")
    assert not page.evaluate(inside)
    assert page.evaluate("() => document.activeElement !== document.body")
