"""The /sparql query editor for browsers: a plain form (it works without JavaScript), the named queries the map
offers as examples (the core ``api/queries`` and the map's own ``queries/``:
:func:`~evidencemap.model.queries.named_queries`), and results rendered as an HTML table with the row cap stated
when it cut them. When scripts run, ``static/sparql-editor.js`` replaces the form with YASGUI (vendored in
``static/yasgui/``), which completes the map's terms from ``/sparql/vocabulary.json`` (:mod:`.sparql_vocabulary`).

The formats offered (the form's choices and the download links of a result) are those the query's form can be
written in: SELECT results as JSON, XML, CSV or TSV, ASK as JSON or XML, CONSTRUCT and DESCRIBE graphs as Turtle,
N-Triples, JSON-LD or RDF/XML. The form is read with the guard's lexer (:func:`query_form`), never a regex.

The page model (:class:`~evidencemap.web.sparql_models.EditorPage`) is built here; ``templates/sparql.html`` only
lays it out. A page showing a query's results (or its error) has a JSON twin: the same query with ``format=json``
(SPARQL results JSON; JSON-LD for graphs), announced in a ``Link`` header.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

import pyoxigraph as ox
from fastapi import Request
from fastapi.responses import Response

from evidencemap.errors import EvidenceMapError
from evidencemap.graph.formats import FILE_FORMATS, RDF_FORMATS
from evidencemap.graph.store import Binding
from evidencemap.model.queries import NamedQuery, named_queries
from evidencemap.namespaces import PREFIXES
from evidencemap.sparql.execution import FORM_KINDS, QueryOutcome
from evidencemap.sparql.guard import SparqlSyntaxError
from evidencemap.sparql.lexer import normalise_line_ends, scan
from evidencemap.sparql.results import writable_format
from evidencemap.web.context import AppContext
from evidencemap.web.security import CONTENT_SECURITY_POLICY
from evidencemap.web.sparql_models import Cell, EditorPage, Example, Limits, QueryError, ResultView
from evidencemap.web.templating import render_page

HTML_CHOICE = ("html", "Table in this page")
# (format parameter value, label) of every download, in the order offered; a query form gets those it can be
# written in (:func:`download_choices`)
DOWNLOADS = (
    ("json", "JSON"),
    ("xml", "XML"),
    ("csv", "CSV"),
    ("tsv", "TSV"),
    ("turtle", "Turtle"),
    ("ntriples", "N-Triples"),
    ("jsonld", "JSON-LD"),
    ("rdfxml", "RDF/XML"),
)
# the form's choices when the text's query form cannot be told (not SPARQL yet): every format, saying which form
# each one is for
FORMAT_CHOICES = (
    ("html", "Table in this page"),
    ("json", "JSON (SPARQL results; JSON-LD for graphs)"),
    ("xml", "XML (SPARQL results; RDF/XML for graphs)"),
    ("csv", "CSV (SELECT)"),
    ("tsv", "TSV (SELECT)"),
    ("turtle", "Turtle (CONSTRUCT, DESCRIBE)"),
    ("ntriples", "N-Triples (CONSTRUCT, DESCRIBE)"),
    ("jsonld", "JSON-LD (CONSTRUCT, DESCRIBE)"),
    ("rdfxml", "RDF/XML (CONSTRUCT, DESCRIBE)"),
)
# YASGUI's result table resizes its columns with a library (column-resizer) that injects two fixed <style> elements:
# its layout rules when a table is drawn, and a cursor rule while a column is dragged. The site's policy allows no
# inline style. Instead of 'unsafe-inline', the editor's page (and no other) allows exactly these two stylesheets by
# their SHA-256 hashes; tests/test_sparql_editor.py recomputes them from the vendored static/yasgui/yasgui.min.js.
YASGUI_STYLE_HASHES = (
    "sha256-zCK2EVMoPc04mRF/g5CotUvxbJPWS+8V0b+s9ptqQIk=",  # the resizer's layout rules (.grip-resizable ...)
    "sha256-c0O6TmFAkgpNbHxKAa1BrveWHHopjEtC47i0PzMudxg=",  # *{cursor:col-resize!important}, while dragging
)
EDITOR_CONTENT_SECURITY_POLICY = CONTENT_SECURITY_POLICY.replace(
    "style-src 'self'", "style-src 'self' " + " ".join(f"'{h}'" for h in YASGUI_STYLE_HASHES), 1)
STARTER_BODY = (
    "SELECT ?class (COUNT(?thing) AS ?things)\nWHERE { ?thing a ?class }\nGROUP BY ?class\nORDER BY DESC(?things)\n"
)


def with_trailing_values(text: str, bindings: Mapping[str, Binding]) -> str:
    """``text`` with a trailing VALUES clause binding the given variables (terms serialised by pyoxigraph): the
    query as its file has it, then the bound values, for a reader to see and rerun. (The map's query gate puts them
    at the start of the WHERE group instead, for the planner: :func:`evidencemap.graph.values.with_values`.)

    >>> with_trailing_values("SELECT ?x WHERE { ?x ?p ?o }", {"p": ox.NamedNode("http://example.org/p")})
    'SELECT ?x WHERE { ?x ?p ?o }\\nVALUES (?p) { (<http://example.org/p>) }\\n'
    """
    if not bindings:
        return text
    names = " ".join(f"?{name}" for name in bindings)
    terms = " ".join(str(term) for term in bindings.values())
    return f"{text.rstrip()}\nVALUES ({names}) {{ ({terms}) }}\n"


def examples(context: AppContext, only: str | None = None) -> list[Example]:
    """The named queries the site's map offers (a server of several maps: the core ones and every map's, or only the
    map ``only``'s when it is one of them), each anchored by its name, or by its map and name when another query
    offered has the same name."""
    queries = named_queries(context.evidence_map)
    if only is not None:
        queries = tuple(q for q in queries if q.map in {None, only})
    names = [q.name for q in queries]
    out: list[Example] = []
    for query in queries:
        out.append(Example(
            name=query.name,
            map=query.map,
            anchor=query.name if names.count(query.name) == 1 else query.qualified_name.replace("/", "-"),
            title=query.title,
            description=query.description,
            text=query.text,
            parameters=[f"?{p.name} = {p.default}" for p in query.parameters if p.default],
            bound_text=_bound(query, context),
        ))
    return out


def _bound(query: NamedQuery, context: AppContext) -> str | None:
    try:
        bindings = query.bindings(context.vocabulary, {}, defaults=True)
    except EvidenceMapError:  # a map whose vocabulary lacks the default concept
        return None
    return with_trailing_values(query.text, bindings) if bindings else None


def starter_query(context: AppContext) -> str:
    prefixes = "".join(f"PREFIX {k}: <{context.evidence_map.iri(v)}>\n" for k, v in PREFIXES.items())
    return prefixes + STARTER_BODY


def result_view(outcome: QueryOutcome, row_limit: int, downloads: list[tuple[str, str]]) -> ResultView:
    """The worker's answer (SPARQL results JSON, or an RDF format for graphs) as table rows."""
    boolean: bool | None = None
    columns: list[str] = []
    rows: list[list[Cell | None]] = []
    graph_format = RDF_FORMATS.get(outcome.serialiser) if outcome.form in {"CONSTRUCT", "DESCRIBE"} else None
    if graph_format is None:
        data = json.loads(outcome.body)
        if "boolean" in data:
            boolean = bool(data["boolean"])
        else:
            columns = list(data["head"]["vars"])
            rows = [[_cell(b.get(c)) for c in columns] for b in data["results"]["bindings"]]
    else:
        columns = ["subject", "predicate", "object"]
        rows = [
            [_term_cell(t.subject), _term_cell(t.predicate), _term_cell(t.object)]
            for t in ox.parse(outcome.body, format=graph_format.rdf_format)
        ]
    return ResultView(form=outcome.form, columns=columns, rows=rows, boolean=boolean, count=outcome.rows,
                      truncated=outcome.truncated, row_limit=row_limit, seconds=outcome.seconds, downloads=downloads)


def _cell(value: dict[str, Any] | None) -> Cell | None:
    if value is None:
        return None
    if value["type"] == "uri":
        return Cell(text=value["value"], href=linkable(value["value"]))
    if value["type"] == "bnode":
        return Cell(text=f"_:{value['value']}")
    if value["type"] == "triple":
        parts = value["value"]
        return Cell(text=" ".join(c.text for c in (_cell(parts[k]) for k in ("subject", "predicate", "object")) if c))
    return Cell(text=value["value"], note=value.get("xml:lang") or _short(value.get("datatype")))


def _term_cell(term: object) -> Cell:
    if isinstance(term, ox.NamedNode):
        return Cell(text=term.value, href=linkable(term.value))
    if isinstance(term, ox.Literal):
        note = term.language or _short(term.datatype.value)
        return Cell(text=term.value, note=note if note != "string" else None)
    return Cell(text=str(term))


def linkable(iri: str) -> str | None:
    """``iri`` when it is safe to link to (http or https); None for any other scheme (``javascript:``, ``data:``...),
    which is then shown as text.

    >>> linkable("https://w3id.org/evidencemap/"), linkable("javascript:alert(1)"), linkable(" JavaScript:x")
    ('https://w3id.org/evidencemap/', None, None)
    """
    return iri if iri.lower().startswith(("http://", "https://")) else None


def _short(datatype: str | None) -> str | None:
    return datatype.rsplit("#", 1)[-1] if datatype else None


def query_form(text: str) -> str | None:
    """The form of the query ``text`` (SELECT, ASK, CONSTRUCT or DESCRIBE) as the guard's lexer reads it (comments,
    strings and IRIs skipped); None when it names none.

    >>> query_form("# SELECT in a comment\\nCONSTRUCT { ?s ?p 'ASK' } WHERE { ?s ?p ?o }")
    'CONSTRUCT'
    """
    return scan(normalise_line_ends(text)).form


def download_choices(form: str) -> list[tuple[str, str]]:
    """(format parameter value, label) of each format a ``form`` query's results can be written in, one per format
    (``json`` of a graph is JSON-LD: only ``jsonld`` is offered).

    >>> [v for v, _ in download_choices("SELECT")], [v for v, _ in download_choices("ASK")]
    (['json', 'xml', 'csv', 'tsv'], ['json', 'xml'])
    >>> [v for v, _ in download_choices("DESCRIBE")]
    ['turtle', 'ntriples', 'jsonld', 'rdfxml']
    """
    kind = FORM_KINDS[form]
    chosen: dict[object, tuple[str, str]] = {}
    for value, label in DOWNLOADS:
        fmt = writable_format(kind, value)
        if fmt is not None:
            chosen.pop(fmt, None)  # a later, more specific name of the same format replaces an earlier one
            chosen[fmt] = (value, label)
    return list(chosen.values())


def format_choices(query: str) -> list[tuple[str, str]]:
    """The form's choices for the query it shows: the table, then the downloads of that query's form (every format,
    labelled with its forms, when the text names no form)."""
    form = query_form(query)
    return [HTML_CHOICE, *(download_choices(form) if form else FORMAT_CHOICES[1:])]


def _downloads(query: str, form: str) -> list[tuple[str, str]]:
    return [(label, "/sparql?" + urlencode({"query": query, "format": value}))
            for value, label in download_choices(form)]


def json_twin(query: str) -> str:
    """The URL of the same query's results as JSON: the JSON twin of a page showing them."""
    return "/sparql?" + urlencode({"query": query, "format": "json"})


def editor_page(
    context: AppContext, query: str, fmt: str | None, *, error: EvidenceMapError | None = None,
    result: ResultView | None = None, only: str | None = None,
) -> EditorPage:
    """The editor's page model: the query (a starter query when empty), and its results or error; ``only``: the map
    whose examples alone it shows (ignored when the server has no such map)."""
    settings = context.settings
    only = only if only in context.evidence_map.map_slugs() else None
    return EditorPage(
        query=query or starter_query(context),
        format=(fmt or "html").lower(),
        formats=format_choices(query or starter_query(context)),
        downloads={form: download_choices(form) for form in FORM_KINDS},
        examples=examples(context, only),
        map=only,
        limits=Limits(timeout=settings.query_timeout, max_rows=settings.max_rows,
                      max_query_length=settings.max_query_length),
        result=result,
        error=None if error is None else query_error(error),
    )


def query_error(error: EvidenceMapError) -> QueryError:
    if isinstance(error, SparqlSyntaxError):
        return QueryError(status=error.status, message=error.message, hint=error.hint, excerpt=error.excerpt,
                          line=error.line, column=error.column)
    return QueryError(status=error.status, message=error.message, hint=error.hint)


async def render_editor(
    request: Request, context: AppContext, query: str, fmt: str | None, *, error: EvidenceMapError | None = None,
    result: ResultView | None = None,
) -> Response:
    """The editor page, with the query, and its results or error when there are any; ``?map={slug}`` (where a map's
    site sends its readers) shows that map's examples alone."""
    page = editor_page(context, query, fmt, error=error, result=result, only=request.query_params.get("map"))
    # /sparql has already chosen the page (its format=json is SPARQL results JSON, not this model as JSON)
    response = await asyncio.to_thread(
        render_page, request, "sparql.html", page, json_url=json_twin(query) if query else None,
        media=FILE_FORMATS["html"].media_type, status_code=error.status if error is not None else 200,
    )
    response.headers["content-security-policy"] = EDITOR_CONTENT_SECURITY_POLICY
    return response


async def render_results(
    request: Request, context: AppContext, query: str, fmt: str | None, outcome: QueryOutcome
) -> Response:
    view = result_view(outcome, context.settings.max_rows, _downloads(query, outcome.form))
    return await render_editor(request, context, query, fmt, result=view)
