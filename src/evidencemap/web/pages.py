"""The HTML pages for clinicians: home (question box and facets), answers, the study list with facet checkboxes,
a study, a concept, the review. Each renders the page model of its /api twin through
:func:`~evidencemap.web.templating.render_page` (so ``format=json`` or ``Accept: application/json`` gives that
model as JSON), links to the JSON, and works without JavaScript (the filters and the question are plain GET
forms). web/app.py registers :data:`router` and :func:`render_error`."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from starlette.responses import Response

from evidencemap.web import inputs
from evidencemap.web.api import build_concept_page, build_facets_page, build_study_detail, build_study_list
from evidencemap.web.api_ask import build_answer
from evidencemap.web.api_common import Limit, Offset, Search, SupportLevel, canonical_params, url
from evidencemap.web.api_review import build_review_page
from evidencemap.web.context import AppContext, get_context
from evidencemap.web.models import HomePage
from evidencemap.web.templating import render, render_page

router = APIRouter(include_in_schema=False)
Context = Annotated[AppContext, Depends(get_context)]

STUDIES_RESERVED = ("limit", "offset", "format", "support", "q")


@router.get("/")
def home(request: Request, ctx: Context) -> Response:
    facets = build_facets_page(ctx)
    page = HomePage(total=facets.total, facets=facets.facets)
    return render_page(request, "home.html", page, json_url="/api/facets", title=ctx.title)


@router.get("/ask")
def ask_page(
    request: Request, ctx: Context, q: Annotated[str, Query()] = "", limit: Limit = None, offset: Offset = 0
) -> Response:
    answer = build_answer(ctx, q, inputs.page(ctx.settings, limit, offset))
    facets = build_facets_page(ctx)
    page = HomePage(total=facets.total, facets=facets.facets, answer=answer)
    return render_page(request, "home.html", page, json_url=url("/api/ask", [("q", answer.question)]),
                       title=answer.question)


@router.get("/studies")
def studies_page(
    request: Request, ctx: Context, limit: Limit = None, offset: Offset = 0, support: SupportLevel = None,
    q: Search = None,
) -> Response:
    selection = inputs.selection(ctx.vocabulary, request.query_params.multi_items(), STUDIES_RESERVED)
    level = inputs.support_level(ctx.evidence_map, support)
    kept = [*inputs.support_params(ctx.evidence_map, level), *([("q", q.strip())] if q and q.strip() else [])]
    page = build_study_list(ctx, selection, inputs.page(ctx.settings, limit, offset), level, q)
    return render_page(request, "studies.html", page, json_url=page.links.self_, title="Studies",
                       page_url=lambda o: url("/studies", [*canonical_params(selection), *kept,
                                                           *([("limit", str(limit))] if limit else []),
                                                           *([("offset", str(o))] if o else [])]))


@router.get("/studies/{study_id}")
def study_page(request: Request, study_id: str, ctx: Context, support: SupportLevel = None) -> Response:
    level = inputs.support_level(ctx.evidence_map, support)
    page = build_study_detail(ctx, study_id, level)
    json_url = url(page.links.json_, inputs.support_params(ctx.evidence_map, level))
    return render_page(request, "study.html", page, json_url=json_url, title=page.citation or page.id)


@router.get("/concepts/{scheme}/{slug}")
def concept_page(
    request: Request, scheme: str, slug: str, ctx: Context, limit: Limit = None, offset: Offset = 0,
    support: SupportLevel = None,
) -> Response:
    level = inputs.support_level(ctx.evidence_map, support)
    page = build_concept_page(ctx, scheme, slug, inputs.page(ctx.settings, limit, offset), level)
    json_url = url(f"/api/concepts/{scheme}/{slug}", inputs.support_params(ctx.evidence_map, level))
    return render_page(request, "concept.html", page, json_url=json_url, title=page.concept.label)


@router.get("/review")
def review_page(request: Request, ctx: Context) -> Response:
    page = build_review_page(ctx)
    return render_page(request, "review.html", page, json_url="/api/review", title=page.review.title)


def render_error(request: Request, status: int, message: str, hint: str | None) -> Response:
    """The error page browsers get (registered as app.state.render_error; JSON clients get the error body)."""
    return render(request, "error.html", None, json_url=None, status_code=status, title=f"Error {status}",
                  status=status, message=message, hint=hint)
