"""/api/review: the record of the review the map is built from, its own bottom line (its conclusion, quoted), its
search, criteria and flow, and the claims check (every count the review states, recomputed from the per-study
facts), also on its own at /api/review/claims for curators."""

from __future__ import annotations

import dataclasses
from typing import Annotated

import pyoxigraph as ox
from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from evidencemap import namespaces as ns
from evidencemap.errors import NotFound
from evidencemap.graph.store import EvidenceMap
from evidencemap.model.claims import check_claims, summary
from evidencemap.model.reviews import ReviewRecord, review_details, reviews
from evidencemap.web.api_common import ERRORS, LD, Format, respond
from evidencemap.web.context import AppContext, get_context
from evidencemap.web.models import (
    ClaimRow,
    ClaimsPage,
    ConclusionPassage,
    CriterionInfo,
    FlowStageInfo,
    ReviewInfo,
    ReviewPage,
    SearchSourceInfo,
)

router = APIRouter(prefix="/api", tags=["clinicians"])

# The passages in which the review states its bottom line, in the order of their IRIs, with their sections.
CONCLUSION_QUERY = ns.sparql_prefixes(("evm", "oa", "dcterms")) + """
SELECT ?passage ?quote ?section ?title WHERE {
  ?review evm:conclusion ?passage .
  ?passage oa:hasSelector/oa:exact ?quote .
  OPTIONAL { ?passage evm:section ?s . ?s evm:sectionNumber ?section . OPTIONAL { ?s dcterms:title ?title } }
}
ORDER BY STR(?passage)
"""


def conclusion(evidence_map: EvidenceMap, review_iri: str) -> list[ConclusionPassage]:
    """The review's own bottom line: the passages it is linked to by ``evm:conclusion`` ([] when none is)."""
    rows = evidence_map.select(CONCLUSION_QUERY, {"review": ox.NamedNode(review_iri)})
    return [ConclusionPassage(passage=str(r["passage"]), quote=str(r["quote"]),
                              section=str(r["section"]) if "section" in r else None,
                              section_title=str(r["title"]) if "title" in r else None) for r in rows]


def _record(ctx: AppContext) -> ReviewRecord:
    found = reviews(ctx.evidence_map)
    if not found:
        raise NotFound("This map holds no review record.")
    return found[0]


def build_review_page(ctx: AppContext) -> ReviewPage:
    record = _record(ctx)
    details = review_details(ctx.evidence_map, record.iri)
    results = check_claims(ctx.evidence_map, ctx.vocabulary)
    return ReviewPage(
        review=ReviewInfo.model_validate(record),
        conclusion=conclusion(ctx.evidence_map, record.iri),
        sources=[SearchSourceInfo.model_validate(s) for s in details.sources],
        criteria=[CriterionInfo.model_validate(c) for c in details.criteria],
        flow=[FlowStageInfo.model_validate(f) for f in details.flow],
        claims=[ClaimRow.model_validate(dataclasses.asdict(r)) for r in results],
        claims_summary=summary(results),
        notes=details.notes,
    )


def build_claims_page(ctx: AppContext) -> ClaimsPage:
    results = check_claims(ctx.evidence_map, ctx.vocabulary)
    return ClaimsPage(
        review=ReviewInfo.model_validate(_record(ctx)),
        claims=[ClaimRow.model_validate(dataclasses.asdict(r)) for r in results],
        claims_summary=summary(results),
    )


@router.get("/review", response_model=ReviewPage, responses={**LD, **ERRORS}, summary="The review and its claims")
def get_review(request: Request, ctx: Annotated[AppContext, Depends(get_context)], format: Format = None) -> Response:
    """The review's record and licence, its own bottom line (its conclusion, quoted with its section), eligibility
    criteria, search, PRISMA-ScR flow, and the claims check: every count the review states, recomputed from the
    per-study facts."""
    return respond(request, build_review_page(ctx), ctx.vocabulary, format)


@router.get("/review/claims", response_model=ClaimsPage, responses={**LD, **ERRORS},
            summary="The claims check: every count the review states, recomputed")
def get_review_claims(request: Request, ctx: Annotated[AppContext, Depends(get_context)],
                      format: Format = None) -> Response:
    """For curators: every count the review states, the count the map gives from its per-study facts, and the
    verdict (agrees, disagrees, or not attributable when the review does not say which studies it counts)."""
    return respond(request, build_claims_page(ctx), ctx.vocabulary, format)
