"""The HTML pages for clinicians: home (question box and facets), answers, the study list with facet checkboxes,
a study, a concept, the review. Each renders the page model of its /api twin through
:func:`~evidencemap.web.templating.render_page` (so ``format=json`` or ``Accept: application/json`` gives that
model as JSON), links to the JSON, and works without JavaScript (the filters and the question are plain GET
forms). web/app.py registers :data:`router` and :func:`render_error`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any
from urllib.parse import parse_qsl, urlsplit

from fastapi import APIRouter, Depends, Query, Request
from markupsafe import Markup
from starlette.responses import Response

from evidencemap.model.facets import Selection
from evidencemap.model.support import support_levels
from evidencemap.render.prisma import prisma_fragment
from evidencemap.views.listing import evidence_facets, kinds_counted, matching, short_label
from evidencemap.web import inputs, maps
from evidencemap.web.api import (
    build_concept_page,
    build_facets_page,
    build_study_detail,
    build_study_list,
    searched,
)
from evidencemap.web.api_ask import build_answer
from evidencemap.web.api_common import Limit, Offset, Search, SupportLevel, canonical_params, url
from evidencemap.web.api_review import build_claims_page, build_review_page
from evidencemap.web.context import AppContext, get_context, rooted
from evidencemap.web.models import HomePage
from evidencemap.web.templating import render, render_page

router = APIRouter(include_in_schema=False)
Context = Annotated[AppContext, Depends(get_context)]

STUDIES_RESERVED = ("limit", "offset", "format", "support", "q")


def evidence_context(ctx: AppContext, selection: Selection | None, level: str | None = None,
                     total: int | None = None) -> dict[str, Any]:
    """What the clinicians' pages need to show the kind of evidence at a glance: ``map_total`` (the studies of the
    map: "4 of 11 studies"), ``kinds`` (the designs of the studies matching ``selection`` counted; none when
    ``selection`` is None, or when ``total`` is given and the selection does not find that many studies),
    ``badge_text`` (a fact value's short form for a badge), ``evidence_facets`` (the facets shown as badges) and
    ``support_names`` (the strengths of attribution, strongest first)."""
    vocabulary = ctx.vocabulary
    shorts = {c.iri: short_label(c) for f in evidence_facets(vocabulary) for c in f.concepts}
    kinds: Sequence[Any] = ()
    if selection is not None:
        kinds = kinds_counted(ctx.evidence_map, vocabulary, selection, level)
        if total is not None and len(matching(ctx.evidence_map, selection, level)) != total:
            kinds = ()

    def badge_text(value: Any) -> str:
        return shorts.get(str(getattr(value, "iri", "")), str(getattr(value, "label", "")))

    return {
        "map_total": len(matching(ctx.evidence_map, Selection())),
        "kinds": kinds,
        "badge_text": badge_text,
        "evidence_facets": [f.name for f in evidence_facets(vocabulary)],
        "support_names": list(support_levels(ctx.evidence_map).names),
    }


def _listed(ctx: AppContext, studies_url: str | None) -> tuple[Selection | None, str | None]:
    """The selection and support level of a study list's address (an answer's "open these studies")."""
    if not studies_url:
        return None, None
    items = parse_qsl(urlsplit(studies_url).query)
    selection = inputs.selection(ctx.vocabulary, items, STUDIES_RESERVED, ctx.evidence_map)
    params = dict(items)
    narrowed, _ = searched(ctx, selection, params.get("q"))
    return narrowed, inputs.support_level(ctx.evidence_map, params.get("support"))


@router.get("/")
def home(request: Request, ctx: Context) -> Response:
    facets = build_facets_page(ctx)
    page = HomePage(total=facets.total, facets=facets.facets)
    return render_page(request, "home.html", page, json_url=rooted("/api/facets"), title=ctx.title,
                       **evidence_context(ctx, None))


@router.get("/ask")
def ask_page(
    request: Request, ctx: Context, q: Annotated[str, Query()] = "", limit: Limit = None, offset: Offset = 0
) -> Response:
    answer = build_answer(ctx, q, inputs.page(ctx.settings, limit, offset))
    facets = build_facets_page(ctx)
    page = HomePage(total=facets.total, facets=facets.facets, answer=answer)
    selection, level = _listed(ctx, answer.studies_url) if answer.total else (None, None)
    return render_page(request, "home.html", page, json_url=url("/api/ask", [("q", answer.question)]),
                       title=answer.question, **evidence_context(ctx, selection, level, answer.total))


@router.get("/studies")
def studies_page(
    request: Request, ctx: Context, limit: Limit = None, offset: Offset = 0, support: SupportLevel = None,
    q: Search = None,
) -> Response:
    selection = inputs.selection(ctx.vocabulary, request.query_params.multi_items(), STUDIES_RESERVED,
                                 ctx.evidence_map)
    level = inputs.support_level(ctx.evidence_map, support)
    kept = [*inputs.support_params(ctx.evidence_map, level), *([("q", q.strip())] if q and q.strip() else [])]
    page = build_study_list(ctx, selection, inputs.page(ctx.settings, limit, offset), level, q)
    narrowed, _ = searched(ctx, selection, q)
    return render_page(request, "studies.html", page, json_url=page.links.self_, title="Studies",
                       **evidence_context(ctx, narrowed, level, page.total),
                       page_url=lambda o: url("/studies", [*canonical_params(selection), *kept,
                                                           *([("limit", str(limit))] if limit else []),
                                                           *([("offset", str(o))] if o else [])]))


@router.get("/studies/{study_id}")
def study_page(request: Request, study_id: str, ctx: Context, support: SupportLevel = None) -> Response:
    level = inputs.support_level(ctx.evidence_map, support)
    page = build_study_detail(ctx, study_id, level)
    json_url = url(f"/api/studies/{page.id}", inputs.support_params(ctx.evidence_map, level))
    return render_page(request, "study.html", page, json_url=json_url, title=page.citation or page.id,
                       other_reviews=maps.other_reviews(ctx, study_id), **evidence_context(ctx, None))


@router.get("/concepts/{scheme}/{slug}")
def concept_page(
    request: Request, scheme: str, slug: str, ctx: Context, limit: Limit = None, offset: Offset = 0,
    support: SupportLevel = None,
) -> Response:
    level = inputs.support_level(ctx.evidence_map, support)
    page = build_concept_page(ctx, scheme, slug, inputs.page(ctx.settings, limit, offset), level)
    json_url = url(f"/api/concepts/{scheme}/{slug}", inputs.support_params(ctx.evidence_map, level))
    selection, _ = _listed(ctx, page.studies_url)
    return render_page(request, "concept.html", page, json_url=json_url, title=page.concept.label,
                       **evidence_context(ctx, selection, level, page.total))


@router.get("/review")
def review_page(request: Request, ctx: Context) -> Response:
    page = build_review_page(ctx)
    drawing = Markup(prisma_fragment(ctx.evidence_map, page.review.slug)) if page.flow else None
    return render_page(request, "review.html", page, json_url=rooted("/api/review"), title=page.review.title,
                       prisma=drawing)


@router.get("/review/claims")
def review_claims_page(request: Request, ctx: Context) -> Response:
    page = build_claims_page(ctx)
    return render_page(request, "review_claims.html", page, json_url=rooted("/api/review/claims"),
                       title="Claims check")


def render_error(request: Request, status: int, message: str, hint: str | None) -> Response:
    """The error page browsers get (registered as app.state.render_error; JSON clients get the error body)."""
    return render(request, "error.html", None, json_url=None, status_code=status, title=f"Error {status}",
                  status=status, message=message, hint=hint)
