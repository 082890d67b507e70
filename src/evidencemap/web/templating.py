"""The Jinja2 templates of the HTML pages, :func:`render_page`, the one helper that renders a page model (as the
page, or as its JSON twin), and the static files (:func:`mount_static`, called by web/app.py).

Every page (this package's and other routers') should render through :data:`templates`: its context processor adds
``site``, the attribution of the review(s) the map is built from, read from the store, which base.html shows in
the footer of every page.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from jinja2 import pass_context
from markupsafe import Markup, escape
from pydantic import BaseModel
from starlette.responses import Response

from evidencemap.graph.store import EvidenceMap
from evidencemap.model.reviews import example_questions, reviews
from evidencemap.publish.citations import MapEdition, how_to_cite, map_edition
from evidencemap.web.context import rooted
from evidencemap.web.inputs import JSON, PAGE_FORMATS, media_type
from evidencemap.web.models import ReviewInfo

TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"
STATIC_DIR = Path(__file__).resolve().parent / "static"


def licence_text(iri: str | None) -> str | None:
    """A readable name for a licence IRI when the map gives no label: its host and path."""
    if not iri:
        return None
    parts = urlsplit(iri)
    return (parts.netloc + parts.path).rstrip("/") or iri


# The formats a citation link offers, with the names readers know them by (publish/citations.py writes them).
CITATION_LINKS = (("ris", "RIS"), ("bibtex", "BibTeX"), ("csl-json", "CSL-JSON"))


def cited_edition(evidence_map: EvidenceMap) -> tuple[MapEdition, str] | None:
    """The map's edition record and its "how to cite this map" sentence, read once per version of the map."""

    def build() -> tuple[MapEdition, str] | None:
        edition = map_edition(evidence_map)
        return (edition, how_to_cite(edition)) if edition else None

    return evidence_map.derive("web.templating.cited_edition", build)


def site_context(request: Request) -> dict[str, Any]:
    """What every page may use: ``root``, the path the site is served under (empty, or a map's ``/maps/{slug}``
    when a map is mounted there; every internal link in a template starts with it), ``site``, the reviews the map is
    built from (with licence and attribution, shown by base.html), ``edition`` and ``how_to_cite``, the map's edition
    record (version, date) and how to cite it (the footer's "How to cite this map"), ``facet_labels``, the label of
    each facet by name, ``example_questions``, the questions the map offers as examples (the home page links them
    to their answers), and ``several_maps``, whether the server holds several maps (the header links their index)."""
    root = str(request.scope.get("root_path", ""))
    context = getattr(request.app.state, "context", None)
    if context is None:
        return {"root": root, "site": [], "facet_labels": {}, "edition": None, "how_to_cite": None,
                "example_questions": [], "several_maps": False}
    # A server of several maps cites none of them on its own pages (the map index, the matrix): each map's site does;
    # every page of it links the map index.
    store = context.evidence_map.parent or context.evidence_map
    several = len(store.map_slugs()) > 1
    cited = None if several and context.evidence_map.slug is None else cited_edition(context.evidence_map)
    return {
        "root": root,
        "site": [ReviewInfo.model_validate(r) for r in reviews(context.evidence_map, count_studies=False)],
        "facet_labels": {f.name: f.label for f in context.vocabulary.facets},
        "edition": cited[0] if cited else None,
        "how_to_cite": cited[1] if cited else None,
        "example_questions": example_questions(context.evidence_map),
        "several_maps": several,
    }


def citation_url(list_url: str, format_name: str) -> str:
    """The citation export of a study list: ``/api/studies?delivery=online&format=csv`` (the list's own link, with
    its filters, search and support level) -> ``/api/cite/studies?delivery=online&format=ris``."""
    params = [(k, v) for k, v in parse_qsl(urlsplit(list_url).query) if k not in ("format", "limit", "offset")]
    return rooted("/api/cite/studies?" + urlencode([*params, ("format", format_name)]))


def emphasis(text: str | None) -> Markup:
    """Text with the reference list's *starred* journal names in italics (everything else escaped)."""
    return Markup(re.sub(r"\*([^*]+)\*", r"<i>\1</i>", str(escape(text or ""))))


def counted(number: int, singular: str, plural: str | None = None) -> str:
    """A number with its noun in the right form: ``1 | counted('study', 'studies')`` is "1 study", 2 is "2 studies"
    (``plural`` defaults to the singular with an s)."""
    return f"{number} {singular if number == 1 else plural or singular + 's'}"


def mount_static(app: FastAPI) -> None:
    """Serve ``static/`` at /static, unless it is already served (web/app.py mounts it once)."""
    if not any(getattr(route, "name", None) == "static" for route in app.routes):
        app.mount("/static", StaticFiles(directory=str(STATIC_DIR)), name="static")


@pass_context
def url_for(context: dict[str, Any], name: str, /, **path_params: Any) -> str:
    """The path of a route or static file, from the server's root (``/static/style.css``), never an absolute URL
    built from the request's Host header (which the client chooses, issue 9)."""
    request: Request = context["request"]
    return str(request.scope.get("root_path", "")) + str(request.app.url_path_for(name, **path_params))


templates = Jinja2Templates(directory=str(TEMPLATES_DIR), context_processors=[site_context])
templates.env.globals["url_for"] = url_for
templates.env.globals["licence_text"] = licence_text
templates.env.globals["citation_url"] = citation_url
templates.env.globals["citation_links"] = CITATION_LINKS
templates.env.filters["emphasis"] = emphasis
templates.env.filters["counted"] = counted
templates.env.globals["urlencode"] = lambda params: urlencode(params, doseq=True)


def json_link(json_url: str) -> str:
    """The ``Link`` header value announcing a page's JSON twin."""
    return f'<{json_url}>; rel="alternate"; type="application/json"'


def render_page(
    request: Request,
    template: str,
    page: BaseModel,
    *,
    json_url: str | None,
    title: str | None = None,
    media: str | None = None,
    link: str | None = None,
    **extra: Any,
) -> Response:
    """A page of the site: the page model ``page`` rendered with ``template``, or the model itself as JSON when the
    request asks for it (``format=json`` or an Accept header that prefers JSON; web/inputs.py). Either way the
    response announces the JSON twin ``json_url`` in a ``Link: rel="alternate"`` header (``link`` replaces that
    header, for documents with several alternates). ``media`` fixes the representation (a document URL with an
    extension is one format); ``extra`` is what only the drawing needs (an SVG, a link builder, form choices).
    """
    chosen = media or media_type(request, PAGE_FORMATS, request.query_params.get("format"))
    announced = link or (json_link(json_url) if json_url else None)
    headers = {"Link": announced} if announced else None
    if chosen == JSON:
        return JSONResponse(page.model_dump(mode="json", by_alias=True), headers=headers)
    return render(request, template, page, json_url=json_url, title=title, headers=headers, **extra)


def render(
    request: Request,
    name: str,
    page: BaseModel | None,
    *,
    json_url: str | None,
    status_code: int = 200,
    title: str | None = None,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> Response:
    """The HTML of ``name`` whose context is the page model (``page``) and whose JSON twin is ``json_url``, announced
    in a ``Link: rel="alternate"`` header (unless ``headers`` are given) as well as on the page. Pages call
    :func:`render_page`; this is also the error page's renderer."""
    if headers is None:
        headers = {"Link": json_link(json_url)} if json_url else None
    context = {"page": page, "json_url": json_url, "title": title, **extra}
    return templates.TemplateResponse(request, name, context, status_code=status_code, headers=headers)
