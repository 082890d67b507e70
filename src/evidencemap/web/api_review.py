"""/api/review: the record of the review the map is built from, its search, criteria and flow, and the claims
check (every count the review states, recomputed from the per-study facts)."""

from __future__ import annotations

import dataclasses
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from evidencemap.errors import NotFound
from evidencemap.model.claims import check_claims, summary
from evidencemap.model.reviews import review_details, reviews
from evidencemap.web.api_common import ERRORS, LD, Format, respond
from evidencemap.web.context import AppContext, get_context
from evidencemap.web.models import ClaimRow, CriterionInfo, FlowStageInfo, ReviewInfo, ReviewPage, SearchSourceInfo

router = APIRouter(prefix="/api", tags=["clinicians"])


def build_review_page(ctx: AppContext) -> ReviewPage:
    found = reviews(ctx.evidence_map)
    if not found:
        raise NotFound("This map holds no review record.")
    record = found[0]
    details = review_details(ctx.evidence_map, record.iri)
    results = check_claims(ctx.evidence_map, ctx.vocabulary)
    return ReviewPage(
        review=ReviewInfo.model_validate(record),
        sources=[SearchSourceInfo.model_validate(s) for s in details.sources],
        criteria=[CriterionInfo.model_validate(c) for c in details.criteria],
        flow=[FlowStageInfo.model_validate(f) for f in details.flow],
        claims=[ClaimRow.model_validate(dataclasses.asdict(r)) for r in results],
        claims_summary=summary(results),
        notes=details.notes,
    )


@router.get("/review", response_model=ReviewPage, responses={**LD, **ERRORS}, summary="The review and its claims")
def get_review(request: Request, ctx: Annotated[AppContext, Depends(get_context)], format: Format = None) -> Response:
    """The review's record and licence, eligibility criteria, search, PRISMA-ScR flow, and the claims check: every
    count the review states, recomputed from the per-study facts."""
    return respond(request, build_review_page(ctx), ctx.vocabulary, format)
