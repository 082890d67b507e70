"""Several maps on one server: the map index, the review-by-study matrix, which reviews include a study, and the
redirects and choices that keep one review's routes from mixing maps.

Each map's whole site is served under ``/maps/{slug}`` (web/app.py). With several maps, the server's own routes that
belong to one review (``/studies``, ``/review``, ``/api/facets``...) answer 300 Multiple Choices listing the same
route under each map (:data:`choice_router`); a study's page or JSON there (``/studies/{id}``) answers 301 to the one
map that has that study. A resource of the shared IRI space used before each map had its own
(``/data/study/{slug}``, ``report``, ``intervention``, ``work``) answers 301 to where it is now,
``/data/{map}/study/{slug}`` (:data:`site_router`).
"""

from __future__ import annotations

import csv
import dataclasses
import io
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse, RedirectResponse
from pydantic import BaseModel, Field
from starlette.responses import Response
from starlette.routing import Match

from evidencemap import namespaces as ns
from evidencemap.errors import NotFound
from evidencemap.graph.formats import FILE_FORMATS
from evidencemap.model.maps import Matrix, MatrixRow, maps_with_study, matrix_of, moved_resource
from evidencemap.model.studies import find_study
from evidencemap.publish import linkeddata as ld
from evidencemap.web import inputs, linked
from evidencemap.web.api_common import Limit, Offset
from evidencemap.web.context import AppContext, get_context, rooted
from evidencemap.web.errors import error_body, wants_html
from evidencemap.web.inputs import CSV, HTML
from evidencemap.web.templating import render, render_page

Context = Annotated[AppContext, Depends(get_context)]

index_router = APIRouter(tags=["maps"])  # the server's own: the map index and the matrix
site_router = APIRouter(tags=["maps"])  # every site (the server's and each map's): moved IRIs, a study's reviews
choice_router = APIRouter(include_in_schema=False)  # a server of several maps: its home and one review's routes

MATRIX_FORMATS = inputs.offered(FILE_FORMATS["json"], FILE_FORMATS["csv"])
MatrixFormat = Annotated[str | None, Query(description="json or csv: overrides Accept.")]
# The kinds of resource that moved from data/{kind}/{slug} into each map's own IRI space.
MOVED_KINDS = ("study", "report", "intervention", "work")


def site_path(slug: str) -> str:
    """The path of a map's site on this server."""
    return f"/maps/{slug}"


# -- page models --------------------------------------------------------------------------------------------------


class MapEntry(BaseModel):
    """One map of the server."""

    slug: str = Field(description="The map's slug: its IRIs are under data/{slug}/ and its site under /maps/{slug}.",
                      examples=["dufour-2025"])
    title: str | None = Field(None, description="The map's title (its edition's dcterms:title).")
    edition: str | None = Field(None, description="The IRI of the map's edition record.")
    version: str | None = Field(None, description="The map edition's version.", examples=["2.0.0"])
    modified: str | None = Field(None, description="The date of the map's edition.")
    review: str | None = Field(None, description="The IRI of the review the map is built from.")
    review_title: str | None = Field(None, description="The review's title.")
    review_citation: str | None = Field(None, description="The review's short citation.")
    review_doi: str | None = Field(None, description="The review's DOI.")
    study_count: int = Field(description="The review's included studies in this map.")
    url: str = Field(description="The map's home page.", examples=["/maps/dufour-2025/"])
    review_url: str = Field(description="The map's review page.")
    api_url: str = Field(description="The map's facets and counts, as JSON.")


class MapIndex(BaseModel):
    """The maps this server holds; as a choice, the same route under each of them."""

    count: int = Field(description="How many maps.")
    maps: list[MapEntry]
    matrix_url: str = Field(description="The review-by-study matrix of these maps.")
    path: str | None = Field(None, description="For a choice: the route asked for, which belongs to one review.")
    choices: list[str] = Field(default_factory=list, description="For a choice: that route under each map.")


class MatrixCell(BaseModel):
    """One map's record of a study of the matrix."""

    map: str = Field(description="The map's slug.")
    iri: str = Field(description="The study's IRI in that map.")
    id: str = Field(description="The study's slug in that map.")
    reference: int | None = Field(None, description="Its reference number in that map's review.")
    url: str = Field(description="The study's page in that map's site.")


class MatrixStudy(BaseModel):
    """One study, matched across maps (same DOI, or owl:sameAs), shown once."""

    label: str = Field(description="How the study is cited.")
    title: str | None = None
    year: str | None = None
    doi: str | None = Field(None, description="The DOI the maps were matched by (normalised).")
    reviews: list[str] = Field(description="The slugs of the maps that include the study.")
    cells: list[MatrixCell] = Field(description="Each including map's record of the study.")


class MatrixPage(BaseModel):
    """The review-by-study matrix: columns are the maps' reviews, rows the studies matched across them."""

    maps: list[MapEntry]
    count: int = Field(description="How many distinct studies.")
    shared: int = Field(description="How many of them more than one review includes (listed first).")
    limit: int = Field(description="Studies on this page.")
    offset: int = Field(description="Studies skipped.")
    studies: list[MatrixStudy]
    csv_url: str = Field(description="Every row of the matrix as CSV.")
    next: str | None = Field(None, description="The next page.")
    prev: str | None = Field(None, description="The previous page.")


class StudyInclusion(BaseModel):
    """A map whose review includes the study (the same study: same DOI, or owl:sameAs)."""

    map: str = Field(description="The map's slug.", examples=["dufour-2025"])
    review: str | None = Field(None, description="The review's IRI.")
    review_title: str | None = None
    review_citation: str | None = None
    study: str = Field(description="The study's IRI in that map.")
    id: str = Field(description="The study's slug in that map.")
    url: str = Field(description="The study's page in that map's site.")


class StudyReviews(BaseModel):
    """Which reviews (maps) include this study."""

    study: str = Field(description="The study's IRI.")
    count: int
    reviews: list[StudyInclusion]


# -- building them ------------------------------------------------------------------------------------------------


def _several(ctx: AppContext) -> bool:
    root = ctx.evidence_map.parent or ctx.evidence_map
    return len(root.map_slugs()) > 1


def _map_root(slug: str, several: bool) -> str:
    """Where a map's site is, as a link from the server's root (a single map is also served at the root)."""
    return site_path(slug) if several else ""


def map_entries(matrix: Matrix) -> list[MapEntry]:
    return [
        MapEntry(**dataclasses.asdict(m), url=site_path(m.slug) + "/",
                 review_url=site_path(m.slug) + "/review", api_url=site_path(m.slug) + "/api/facets")
        for m in matrix.maps
    ]


def _cells(row: MatrixRow) -> list[MatrixCell]:
    return [MatrixCell(map=slug, iri=e.iri, id=e.slug, reference=e.reference,
                       url=f"{site_path(slug)}/studies/{e.slug}") for slug, e in sorted(row.entries.items())]


def matrix_page(ctx: AppContext, page: inputs.Page | None = None, path: str = "/api/matrix") -> MatrixPage:
    """The matrix, one page of its rows (every row without ``page``), with links to the pages around it."""
    matrix = matrix_of(ctx.evidence_map)
    size, offset = (page.size, page.offset) if page else (len(matrix.rows), 0)
    rows = matrix.rows[offset:offset + size]
    studies = [MatrixStudy(label=r.label, title=r.title, year=r.year, doi=r.doi, reviews=sorted(r.entries),
                           cells=_cells(r)) for r in rows]
    total = len(matrix.rows)

    def at(start: int) -> str:
        return rooted(f"{path}?limit={size}&offset={start}" if start else f"{path}?limit={size}")

    return MatrixPage(maps=map_entries(matrix), count=total, shared=len(matrix.shared), limit=size, offset=offset,
                      studies=studies, csv_url=rooted("/api/matrix?format=csv"),
                      next=at(offset + size) if offset + size < total else None,
                      prev=at(max(0, offset - size)) if offset > 0 else None)


def matrix_csv(page: MatrixPage) -> str:
    """One row per study, one column per map (the study's slug in that map, empty when the map does not include it)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    slugs = [m.slug for m in page.maps]
    writer.writerow(["study", "title", "year", "doi", *slugs, "reviews"])
    for study in page.studies:
        by_map = {c.map: c.id for c in study.cells}
        writer.writerow([study.label, study.title or "", study.year or "", study.doi or "",
                         *(by_map.get(s, "") for s in slugs), len(study.reviews)])
    return out.getvalue()


def index_page(ctx: AppContext, path: str | None = None) -> MapIndex:
    matrix = matrix_of(ctx.evidence_map)
    entries = map_entries(matrix)
    choices = [site_path(m.slug) + path for m in entries] if path is not None else []
    return MapIndex(count=len(entries), maps=entries, matrix_url=rooted("/matrix"), path=path, choices=choices)


def study_reviews(ctx: AppContext, identifier: str) -> StudyReviews:
    """The maps whose reviews include the study ``identifier`` of this site's map."""
    iri = find_study(ctx.evidence_map, identifier)
    matrix = matrix_of(ctx.evidence_map)
    row = matrix.row_of(iri)
    several = _several(ctx)
    by_slug = {m.slug: m for m in matrix.maps}
    found = []
    for slug, entry in sorted(row.entries.items()) if row else []:
        summary = by_slug[slug]
        found.append(StudyInclusion(map=slug, review=summary.review, review_title=summary.review_title,
                                    review_citation=summary.review_citation, study=entry.iri, id=entry.slug,
                                    url=f"{_map_root(slug, several)}/studies/{entry.slug}"))
    return StudyReviews(study=iri, count=len(found), reviews=found)


def other_reviews(ctx: AppContext, identifier: str) -> list[StudyInclusion]:
    """The other maps whose reviews include the study ``identifier`` (the study page's "Also included in")."""
    found = study_reviews(ctx, identifier)
    return [r for r in found.reviews if r.study != found.study]


# -- the server's own routes ----------------------------------------------------------------------------------------


@index_router.get("/maps", response_model=MapIndex, summary="The maps this server holds (page)",
                  responses={200: {"content": {HTML: {}}, "description": "The page, or its model as JSON."}})
def maps_page(request: Request, ctx: Context) -> Response:
    """Each map: its title, review, version and study count, with links to its site, review page and API."""
    return render_page(request, "maps.html", index_page(ctx), json_url=rooted("/api/maps"), title="Maps")


@index_router.get("/api/maps", response_model=MapIndex, summary="The maps this server holds")
def maps_json(ctx: Context) -> MapIndex:
    """Each map: its title, review, version and study count, with links to its site, review page and API."""
    return index_page(ctx)


@index_router.get("/matrix", response_model=MatrixPage, summary="The review-by-study matrix (page)",
                  responses={200: {"content": {HTML: {}}, "description": "The page, or its model as JSON."}})
def matrix_html(request: Request, ctx: Context, limit: Limit = None, offset: Offset = 0) -> Response:
    """Rows: the studies of every map, a study several reviews include shown once (first); columns: the reviews."""
    page = matrix_page(ctx, inputs.page(ctx.settings, limit, offset), "/matrix")
    return render_page(request, "matrix.html", page, json_url=rooted(f"/api/matrix?limit={page.limit}&offset={offset}"),
                       title="Studies by review")


@index_router.get("/api/matrix", response_model=MatrixPage, summary="The review-by-study matrix",
                  responses={200: {"content": {CSV: {}}, "description": "JSON, or CSV with format=csv."}})
def matrix_json(request: Request, ctx: Context, format: MatrixFormat = None, limit: Limit = None,
                offset: Offset = 0) -> Response:
    """The studies of every map (a study several reviews include once: same DOI, or owl:sameAs) and the reviews
    including each, a page at a time (`limit`, `offset`; the studies several reviews include first); `format=csv` (or
    `Accept: text/csv`) gives every row, one per study, with one column per map."""
    media = inputs.media_type(request, MATRIX_FORMATS, format)
    if media == CSV:
        return Response("\ufeff" + matrix_csv(matrix_page(ctx)), media_type="text/csv; charset=utf-8",
                        headers={"Content-Disposition": 'inline; filename="matrix.csv"'})
    return JSONResponse(matrix_page(ctx, inputs.page(ctx.settings, limit, offset)).model_dump(mode="json"))


# -- every site ---------------------------------------------------------------------------------------------------


@site_router.get("/api/studies/{study_id}/reviews", response_model=StudyReviews,
                 summary="Which reviews include this study")
def study_reviews_json(study_id: str, request: Request, ctx: Context) -> Response:
    """The maps whose reviews include this study (by slug or reference number): the same study in another map
    has the same DOI, or the data link the two with owl:sameAs."""
    if ctx.evidence_map.slug is None and _several(ctx):  # the server's root: the id is one map's
        return one_review_route(f"api/studies/{study_id}/reviews", request, ctx)
    return JSONResponse(study_reviews(ctx, study_id).model_dump(mode="json"))


@site_router.get("/data/{kind}/{rest:path}", include_in_schema=False)
def moved_data(kind: str, rest: str, request: Request, ctx: Context) -> Response:
    """A resource of the former shared IRI space (``/data/study/{slug}``) answers 301 to its map's IRI, unless a
    map still uses that IRI; everything else under /data is linked data."""
    path = f"/data/{kind}/{rest}"
    if kind in MOVED_KINDS and "/" not in rest:
        stem, fmt = ld.split_extension(path)
        slug = stem.rsplit("/", 1)[-1]
        if not ld.exists(ctx.evidence_map, ctx.evidence_map.iri(f"{ns.DATA}{kind}/{slug}")):
            moved = moved_resource(ctx.evidence_map, kind, slug)
            mine = [m for m in moved if ctx.evidence_map.slug is None or
                    m.startswith(f"{ns.DATA}{ctx.evidence_map.slug}/")]
            if len(mine) == 1:
                target = "/" + mine[0].removeprefix(ns.CANONICAL_BASE)
                return RedirectResponse(rooted(target + (f".{fmt.extension}" if fmt else "")), status_code=301)
    return linked.resolve(request, ctx, path)


@site_router.get("/sparql", include_in_schema=False)
def sparql_of_server(request: Request) -> Response:
    """A map's site has no SPARQL endpoint of its own: the server's sees every map, each in its named graphs (its
    editor shows the core examples and this map's: ``map={slug}``, ignored by the protocol)."""
    slug = get_context(request).evidence_map.slug
    query = "&".join(part for part in (request.url.query, urlencode({"map": slug}) if slug else "") if part)
    return RedirectResponse("/sparql" + (f"?{query}" if query else ""), status_code=307)


# -- a server of several maps: its home page, and one review's routes ------------------------------------------------


@choice_router.get("/")
def home(request: Request, ctx: Context) -> Response:
    """The map index, as the server's home page."""
    return render_page(request, "maps.html", index_page(ctx), json_url=rooted("/api/maps"), title="Maps")


def _site_answers(request: Request, path: str) -> bool:
    """Whether a map's site has a route for ``path`` (a GET)."""
    sites = getattr(request.app.state, "sites", {})
    site = next(iter(sites.values()), None)
    if site is None:
        return False
    scope = {"type": "http", "path": path, "method": "GET", "root_path": ""}
    return any(route.matches(scope)[0] == Match.FULL for route in site.router.routes)


def choose(request: Request, ctx: Context, path: str) -> Response:
    """300 Multiple Choices: ``path`` belongs to one review; the same path under each map."""
    page = index_page(ctx, path + (f"?{request.url.query}" if request.url.query else ""))
    message = f"{path} belongs to one review's map: choose one of the {page.count} maps."
    if wants_html(request):
        return render(request, "maps.html", page, json_url=None, status_code=300, title="Choose a map")
    return JSONResponse(error_body(300, message, "The same page of each map is listed.", page.choices),
                        status_code=300)


@choice_router.get("/{path:path}")
def one_review_route(path: str, request: Request, ctx: Context) -> Response:
    """A study's page or JSON: 301 to the one map that has it; any other route of a map's site: the choice."""
    full = "/" + path
    if full in {site_path(slug) for slug in getattr(request.app.state, "sites", {})}:
        return RedirectResponse(full + "/", status_code=308)  # a map's home is /maps/{slug}/
    parts = path.split("/")
    study = parts[1] if parts[:1] == ["studies"] and len(parts) == 2 else \
        parts[2] if parts[:2] == ["api", "studies"] and parts[3:] in ([], ["reviews"]) and len(parts) > 2 else None
    if study:
        found = maps_with_study(ctx.evidence_map, study)
        if len(found) == 1:
            query = f"?{request.url.query}" if request.url.query else ""
            return RedirectResponse(f"{site_path(found[0])}{full}{query}", status_code=301)
        if not found:
            raise NotFound(f"No study {study!r} in any map here.", hint="Studies are listed per map: /maps.")
    if _site_answers(request, full):
        return choose(request, ctx, full)
    raise NotFound(f"Nothing at {full}.", hint="The maps of this server are listed at /maps.")


__all__ = ["choice_router", "index_router", "site_router"]
