"""The /sparql query editor: a form that works without JavaScript, the named queries as examples, results as a
table with the row cap stated."""

from __future__ import annotations

import base64
import hashlib
import json
import re
from html.parser import HTMLParser

import pyoxigraph as ox
import pytest

from app_support import app_fixtures
from evidencemap.model.queries import named_queries
from evidencemap.sparql.guard import engine_syntax_error
from evidencemap.sparql.syntax import locate
from evidencemap.web.security import CONTENT_SECURITY_POLICY
from evidencemap.web.sparql_editor import EDITOR_CONTENT_SECURITY_POLICY, YASGUI_STYLE_HASHES
from evidencemap.web.templating import STATIC_DIR as STATIC
from sparql_support import PREFIX, TEST_SETTINGS, TestClient

BROWSER = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}
STUDIES = PREFIX + "SELECT ?study ?ref WHERE { ?study a evm:IncludedStudy ; evm:referenceNumber ?ref } ORDER BY ?ref"


class FormFields(HTMLParser):
    """The form's method and action and the names of its fields."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[dict[str, str | None]] = []
        self.fields: list[str] = []
        self.scripts: list[str | None] = []
        self.editor: dict[str, str | None] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "form":
            self.forms.append(values)
        elif tag in {"textarea", "select", "input"} and values.get("name"):
            self.fields.append(str(values["name"]))
        elif tag == "script":
            self.scripts.append(values.get("src"))
        elif values.get("id") == "sparql-editor":
            self.editor = values


app, client = app_fixtures(TEST_SETTINGS)


def test_editor_is_served_to_browsers_without_a_query(client: TestClient) -> None:
    response = client.get("/sparql", headers=BROWSER)
    assert response.status_code == 200 and response.template.name == "sparql.html"  # type: ignore[attr-defined]
    page = response.context["page"]  # type: ignore[attr-defined]
    assert [e.name for e in page.examples] == [q.name for q in named_queries()]
    assert page.result is None and page.error is None
    assert "SELECT" in page.query
    form = FormFields()
    form.feed(response.text)
    assert form.forms == [{"class": "sparql-form", "id": "sparql-form", "method": "get", "action": "/sparql"}]
    assert form.fields == ["query", "format"]
    # the only scripts are the vendored editor and its set-up, same-origin files (no inline script: the CSP)
    assert [str(src).rsplit("/static/", 1)[-1] for src in form.scripts] == ["yasgui/yasgui.min.js", "sparql-editor.js"]
    assert all(str(src).startswith("/") for src in form.scripts)


def test_editor_shows_results_as_a_table(client: TestClient) -> None:
    response = client.get("/sparql", params={"query": STUDIES, "format": "html"})
    assert response.status_code == 200
    result = response.context["page"].result  # type: ignore[attr-defined]
    assert result.columns == ["study", "ref"]
    assert [int(row[1].text) for row in result.rows] == list(range(35, 46))
    assert result.rows[0][0].href.startswith("https://w3id.org/evidencemap/data/dufour-2025/study/")
    assert result.truncated is False
    assert 'class="sparql-table"' in response.text and "Result cut" not in response.text
    assert response.context["page"].query == STUDIES  # type: ignore[attr-defined]


def test_editor_states_a_cut_result(client: TestClient) -> None:
    response = client.get("/sparql", params={"query": "SELECT * WHERE { ?s ?p ?o }", "format": "html"})
    result = response.context["page"].result  # type: ignore[attr-defined]
    assert result.truncated is True and len(result.rows) == result.row_limit == 200
    assert "Result cut at the row limit" in response.text
    assert response.headers["evidencemap-truncated"] == "true"


def test_editor_shows_ask_and_construct(client: TestClient) -> None:
    ask = client.get("/sparql", params={"query": PREFIX + "ASK { ?s evm:referenceNumber 44 }", "format": "html"})
    assert ask.context["page"].result.boolean is True  # type: ignore[attr-defined]
    construct = client.get("/sparql", params={
        "query": PREFIX + "CONSTRUCT { ?s a evm:IncludedStudy } WHERE { ?s a evm:IncludedStudy }", "format": "html"})
    result = construct.context["page"].result  # type: ignore[attr-defined]
    assert result.columns == ["subject", "predicate", "object"] and len(result.rows) == 11


def test_editor_shows_a_syntax_error_where_it_is(client: TestClient) -> None:
    response = client.get("/sparql", params={"query": "SELECT * WHERE {", "format": "html"})
    assert response.status_code == 400 and response.template.name == "sparql.html"  # type: ignore[attr-defined]
    error = response.context["page"].error  # type: ignore[attr-defined]
    assert (error.line, error.column) == (1, 17)
    assert error.excerpt.endswith("^")
    assert response.context["page"].query == "SELECT * WHERE {"  # type: ignore[attr-defined]


def test_editor_shows_a_refusal(client: TestClient) -> None:
    query = "SELECT * WHERE { SERVICE <http://example.org/sparql> { ?s ?p ?o } }"
    response = client.get("/sparql", params={"query": query}, headers=BROWSER)
    assert response.status_code == 403
    assert response.context["page"].error.message.startswith("SERVICE is refused")  # type: ignore[attr-defined]


def test_editor_example_with_defaults_answers_the_burnout_question(client: TestClient) -> None:
    page = client.get("/sparql", headers=BROWSER).context["page"]  # type: ignore[attr-defined]
    example = next(e for e in page.examples if e.name == "online-studies-burnout")
    assert example.parameters == ["?delivery = online", "?challenge = emotional-vulnerability-burnout"]
    response = client.get("/sparql", params={"query": example.bound_text, "format": "html"})
    assert [int(row[0].text) for row in response.context["page"].result.rows] == [40, 42, 44, 45]  # type: ignore[attr-defined]


def test_editor_every_example_runs(client: TestClient) -> None:
    page = client.get("/sparql", headers=BROWSER).context["page"]  # type: ignore[attr-defined]
    for example in page.examples:
        for text in filter(None, (example.text, example.bound_text)):
            response = client.get("/sparql", params={"query": text, "format": "html"})
            assert response.status_code == 200, (example.name, response.text[:300])
            assert response.context["page"].result.rows, example.name  # type: ignore[attr-defined]


def test_editor_download_links_reach_the_endpoint(client: TestClient) -> None:
    response = client.get("/sparql", params={"query": STUDIES, "format": "html"})
    links = dict(response.context["page"].result.downloads)  # type: ignore[attr-defined]
    csv = client.get(links["CSV"])
    assert csv.headers["content-type"].startswith("text/csv") and len(csv.text.splitlines()) == 12


def test_editor_stylesheet_is_served(client: TestClient) -> None:
    response = client.get("/static/sparql.css")
    assert response.status_code == 200 and ".sparql-table" in response.text


def test_editor_results_link_their_json_twin(client: TestClient) -> None:
    response = client.get("/sparql", params={"query": STUDIES, "format": "html"})
    link = response.headers["link"]
    assert link.startswith("</sparql?") and 'rel="alternate"' in link
    twin = client.get(link[1:link.index(">")])
    assert twin.headers["content-type"].startswith("application/sparql-results+json")
    assert len(twin.json()["results"]["bindings"]) == len(response.context["page"].result.rows)  # type: ignore[attr-defined]
    assert "link" not in client.get("/sparql", headers=BROWSER).headers  # the empty editor has no results to twin


# -- error positions: the reported line and column land on the offending token ----------------------------------

BAD_QUERIES = [
    # (query, line, column, the token that starts there)
    ("SELECT ?s WHERE {\n  ?s ?p ?o .\n  ?s ?p ]\n}", 3, 9, "]"),  # rdflib said 3:3, the triple's subject
    ("SELECT ?s\nWHERE { ?s ?p ?o }\nORDER BY\nLIMIT 5", 4, 1, "LIMIT"),  # rdflib said 3:1, ORDER
    ("PREFIX ex: <http://e.org/>\nSELECT ?s\nWHERE {\n  ?s ex:p ?o .\n  ?s ex:q ?o2 FILTER(\n}\n", 6, 1, "}"),
    ("SELECT ?s WHERE {\n  ?s ?p ?o\n  ?s ?q ?o2\n}", 3, 3, "?s"),  # the missing dot: the next subject
    ("SELECT ?s WHERE {\n  ?s ?p ?o .\n  OPTIONAL { ?s ?q }\n}", 3, 20, "}"),
    ("SELECT ?s (COUNT(?o) ?n) WHERE {\n  ?s ?p ?o .\n}", 1, 22, "?n"),  # AS forgotten
    ("SELECT ?s WHERE {\n  { SELECT ?s WHERE { ?s ?p ?o } GROUP BY }\n}", 2, 43, "}"),  # inside a sub-query
    ("SELECT ?s WHERE {\n\t?s\t?p ?o .\n\t?s ?p ]\n}", 3, 8, "]"),  # tabs count as one character
    ('SELECT ?s WHERE {\n  ?s ?p "caf\\u00e9" . ?s ?p ]\n}', 2, 29, "]"),  # an escape is six characters
    ("# comment with SELECT\r\nSELECT ?s WHERE {\r\n  ?s ?p ]\r\n}", 3, 9, "]"),  # a form's CR LF line ends
    ("SELEC ?s WHERE { ?s ?p ?o }", 1, 1, "SELEC"),
]


def _token_at(query: str, line: int, column: int) -> str:
    text = query.replace("\r\n", "\n").split("\n")[line - 1]
    return text[column - 1:]


@pytest.mark.parametrize(("query", "line", "column", "token"), BAD_QUERIES)
def test_syntax_error_points_at_the_offending_token(
    client: TestClient, query: str, line: int, column: int, token: str
) -> None:
    body = client.get("/sparql", params={"query": query}).json()
    assert body["status"] == 400
    assert (body["line"], body["column"]) == (line, column), body["error"]
    assert _token_at(query, body["line"], body["column"]).startswith(token)
    assert f"line {line}, column {column}: unexpected '{token}'" in body["error"]
    caret = body["excerpt"].split("\n")[1]
    assert len(caret) == column and caret.endswith("^")  # under the token, tabs kept so that it lines up


def test_syntax_error_at_the_end_says_the_query_ends_too_early(client: TestClient) -> None:
    body = client.get("/sparql", params={"query": "SELECT ?s\nWHERE {\n  ?s ?p ?o ."}).json()
    assert (body["line"], body["column"]) == (3, 13)
    assert "the query ends too early" in body["error"]


def test_editor_page_marks_the_same_position(client: TestClient) -> None:
    query = BAD_QUERIES[0][0]
    error = client.get("/sparql", params={"query": query, "format": "html"}).context["page"].error  # type: ignore[attr-defined]
    assert (error.line, error.column) == (3, 9)
    assert "Line 3, column 9:" in client.get("/sparql", params={"query": query, "format": "html"}).text


def test_engine_positions_count_characters_not_bytes() -> None:
    # pyoxigraph (which reports the errors of queries too long for rdflib's budget) counts UTF-8 bytes: "é" is two
    text = 'ASK { ?s ?p "éé" . ?s ?p ] }'
    with pytest.raises(SyntaxError) as caught:
        ox.Store().query(text)
    byte_column = int(str(caught.value).split(":")[1])
    error = engine_syntax_error(str(caught.value), text)
    assert error.column == len(text.encode()[:byte_column - 1].decode()) + 1 == byte_column - 2


# -- downloads that match the query form ---------------------------------------------------------------------

CONSTRUCT = PREFIX + "CONSTRUCT { ?s a evm:IncludedStudy } WHERE { ?s a evm:IncludedStudy }"
DOWNLOADS_BY_FORM = {
    "SELECT": ["JSON", "XML", "CSV", "TSV"],
    "ASK": ["JSON", "XML"],
    "CONSTRUCT": ["Turtle", "N-Triples", "JSON-LD", "RDF/XML"],
}


@pytest.mark.parametrize(("query", "form"), [
    (STUDIES, "SELECT"),
    (PREFIX + "ASK { ?s evm:referenceNumber 44 }", "ASK"),
    (CONSTRUCT, "CONSTRUCT"),
])
def test_result_downloads_match_the_query_form_and_all_work(client: TestClient, query: str, form: str) -> None:
    result = client.get("/sparql", params={"query": query, "format": "html"}).context["page"].result  # type: ignore[attr-defined]
    assert [label for label, _ in result.downloads] == DOWNLOADS_BY_FORM[form]
    for label, href in result.downloads:
        response = client.get(href)
        assert response.status_code == 200, (label, response.text[:200])  # never an error page


def test_form_offers_the_formats_of_the_query_it_shows(client: TestClient) -> None:
    def values(query: str) -> list[str]:
        page = client.get("/sparql", params={"query": query, "format": "html"}).context["page"]  # type: ignore[attr-defined]
        return [value for value, _ in page.formats]

    assert values(STUDIES) == ["html", "json", "xml", "csv", "tsv"]
    assert values(CONSTRUCT) == ["html", "turtle", "ntriples", "jsonld", "rdfxml"]
    # the form is read as the guard's lexer reads it: a keyword in a comment or a string does not count
    assert values("# CONSTRUCT\nSELECT * WHERE { ?s ?p 'CONSTRUCT' } LIMIT 1") == ["html", "json", "xml", "csv", "tsv"]
    # text that names no form yet (an error page) keeps every format, each labelled with its forms
    page = client.get("/sparql", params={"query": "please list the studies", "format": "html"}).context["page"]  # type: ignore[attr-defined]
    assert len(page.formats) == 9 and dict(page.formats)["turtle"].endswith("(CONSTRUCT, DESCRIBE)")


def test_editor_page_gives_the_script_the_downloads_of_each_form(client: TestClient) -> None:
    page = client.get("/sparql", headers=BROWSER).context["page"]  # type: ignore[attr-defined]
    assert {form: [label for _, label in choices] for form, choices in page.downloads.items()} == {
        **DOWNLOADS_BY_FORM, "DESCRIBE": DOWNLOADS_BY_FORM["CONSTRUCT"]}
    form = FormFields()
    form.feed(client.get("/sparql", headers=BROWSER).text)
    given = json.loads(str(form.editor["data-downloads"]))
    assert given == {form: [list(choice) for choice in choices] for form, choices in page.downloads.items()}
    assert form.editor["data-vocabulary"] == "/sparql/vocabulary.json"


# -- the vocabulary the editor completes ---------------------------------------------------------------------

def test_vocabulary_json_lists_the_maps_prefixes_and_terms(client: TestClient) -> None:
    response = client.get("/sparql/vocabulary.json")
    assert response.status_code == 200 and response.headers["content-type"].startswith("application/json")
    data = response.json()
    assert data["prefixes"]["evm"] == "https://w3id.org/evidencemap/ontology#"
    assert data["prefixes"]["skos"] == "http://www.w3.org/2004/02/skos/core#"
    classes = {t["iri"]: t for t in data["classes"]}
    properties = {t["iri"]: t for t in data["properties"]}
    evm = data["prefixes"]["evm"]
    assert classes[evm + "IncludedStudy"]["label"]  # declared by the ontology, with its label
    assert evm + "reportsChallenge" in properties and properties[evm + "reportsChallenge"]["label"]
    assert "http://purl.org/dc/terms/title" in properties  # used by the map, declared elsewhere
    # every class and predicate the map uses is there (what a query can match)
    used = client.get("/sparql", params={
        "query": "SELECT DISTINCT ?c WHERE { ?s a ?c FILTER(isIRI(?c)) }", "format": "json"}).json()
    assert {b["c"]["value"] for b in used["results"]["bindings"]} <= set(classes)
    online = next(c for c in data["concepts"] if c["iri"].endswith("/concept/delivery/online"))
    assert online["facet"] == "delivery" and online["label"] and isinstance(online["altLabels"], list)
    burnout = [c for c in data["concepts"] if c["iri"].endswith("emotional-vulnerability-burnout")]
    assert len(burnout) == 1 and burnout[0]["facet"] == "challenge"


def test_vocabulary_json_has_no_iri_from_elsewhere_to_fetch(client: TestClient) -> None:
    """The editor completes from this document alone: it names no service to ask (prefix.cc, LOV)."""
    text = client.get("/sparql/vocabulary.json").text
    assert "prefix.cc" not in text and "lov.linkeddata" not in text


# -- the editor's page: its scripts and its policy --------------------------------------------------------------

def test_editor_page_policy_allows_only_yasguis_two_stylesheets() -> None:
    """The hashes in the policy are those of the <style> texts the vendored YASGUI injects (column-resizer); a new
    YASGUI with other texts fails here (and in the browser test, with a CSP error in the console)."""
    script = (STATIC / "yasgui" / "yasgui.min.js").read_text(encoding="utf-8")
    layout = re.search(r"createStyle\(a,`([^`]*)`", script)
    assert layout is not None and "*{cursor:`+" in script  # the dragging rule is built from the default cursor
    texts = [layout.group(1), "*{cursor:col-resize!important}"]
    hashes = ["sha256-" + base64.b64encode(hashlib.sha256(t.encode()).digest()).decode() for t in texts]
    assert list(YASGUI_STYLE_HASHES) == hashes


def test_editor_page_has_its_own_policy_and_no_other_page_has_it(client: TestClient) -> None:
    editor = client.get("/sparql", headers=BROWSER).headers["content-security-policy"]
    assert editor == EDITOR_CONTENT_SECURITY_POLICY
    assert "script-src 'self';" in editor and "'unsafe-inline'" not in editor and "'unsafe-eval'" not in editor
    for h in YASGUI_STYLE_HASHES:
        assert f"'{h}'" in editor
    results = client.get("/sparql", params={"query": STUDIES, "format": "html"}).headers["content-security-policy"]
    assert results == editor
    for path in ("/", "/studies", "/review", "/sparql/vocabulary.json"):
        assert client.get(path, headers=BROWSER).headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    # the endpoint's own answers keep the site's policy
    answer = client.get("/sparql", params={"query": STUDIES})
    assert answer.headers["content-security-policy"] == CONTENT_SECURITY_POLICY


def test_editor_static_files_are_served(client: TestClient) -> None:
    for path in ("/static/sparql-editor.js", "/static/yasgui/yasgui.min.js", "/static/yasgui/yasgui.min.css"):
        response = client.get(path)
        assert response.status_code == 200 and len(response.content) > 1_000, path
    assert "vocabulary" in client.get("/static/sparql-editor.js").text


def test_locating_stops_at_its_cpu_budget() -> None:
    """rdflib's parser is slow on long VALUES lists: the second reading gives up within its budget (the caller
    keeps the engine's position), and finds the token when it has the time."""
    values = " ".join(f"<http://example.org/{i}>" for i in range(10_000))
    text = f"SELECT ?s WHERE {{ VALUES ?s {{ {values} }}\n ?s ?p ] }}"
    assert locate(text, cpu_seconds=0.05) is None
    short = locate("SELECT ?s WHERE {\n ?s ?p ] }", cpu_seconds=1.0)
    assert short is not None and (short.line, short.column, short.found) == (2, 8, "]")
