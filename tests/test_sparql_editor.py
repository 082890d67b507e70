"""The /sparql query editor: a form that works without JavaScript, the named queries as examples, results as a
table with the row cap stated."""

from __future__ import annotations

from html.parser import HTMLParser

from app_support import app_fixtures
from evidencemap.model.queries import load_named_queries
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

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "form":
            self.forms.append(values)
        elif tag in {"textarea", "select", "input"} and values.get("name"):
            self.fields.append(str(values["name"]))
        elif tag == "script":
            self.scripts.append(values.get("src"))


app, client = app_fixtures(TEST_SETTINGS)


def test_editor_is_served_to_browsers_without_a_query(client: TestClient) -> None:
    response = client.get("/sparql", headers=BROWSER)
    assert response.status_code == 200 and response.template.name == "sparql.html"  # type: ignore[attr-defined]
    page = response.context["page"]  # type: ignore[attr-defined]
    assert [e.name for e in page.examples] == [q.name for q in load_named_queries()]
    assert page.result is None and page.error is None
    assert "SELECT" in page.query
    form = FormFields()
    form.feed(response.text)
    assert form.forms == [{"class": "sparql-form", "id": "sparql-form", "method": "get", "action": "/sparql"}]
    assert form.fields == ["query", "format"]
    # the only scripts are the vendored editor and its set-up, same-origin files (no inline script: the CSP)
    assert form.scripts == ["/static/yasgui/yasgui.min.js", "/static/sparql-editor.js"]


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
