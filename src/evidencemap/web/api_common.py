"""What every endpoint of the clinicians' REST API shares: media types, error responses and parameters for the
OpenAPI document, paging, links, content negotiation (JSON, JSON-LD, CSV) and the study model of a list.

The endpoints are in web/api.py (facets, studies, concepts, and the one /api router the app registers),
web/api_review.py (the review and its claims check) and web/api_ask.py (plain-English questions).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import Query, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel

from evidencemap.errors import InvalidParameter
from evidencemap.model.facets import Selection
from evidencemap.model.studies import StudySummary
from evidencemap.model.vocabulary import Vocabulary
from evidencemap.settings import Settings
from evidencemap.web.jsonld import to_jsonld
from evidencemap.web.models import ErrorBody, Reason, Study, StudyLinks
from evidencemap.web.negotiation import not_acceptable, preferred

JSON, JSONLD, CSV = "application/json", "application/ld+json", "text/csv"
FORMATS = {"json": JSON, "jsonld": JSONLD, "csv": CSV}
ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorBody, "description": "Unknown facet, value or question; the message lists valid ones."},
    404: {"model": ErrorBody, "description": "No such study, scheme or concept."},
    406: {"model": ErrorBody, "description": "None of the accepted media types can be produced."},
    422: {"model": ErrorBody, "description": "A parameter of the wrong type (e.g. limit=abc)."},
}
LD = {200: {"content": {JSONLD: {}}, "description": "JSON by default; JSON-LD with Accept: application/ld+json."}}

Limit = Annotated[int | None, Query(ge=1, description="Page size (default and maximum from the settings).")]
Offset = Annotated[int, Query(ge=0, description="Studies to skip.")]
Format = Annotated[str | None, Query(description="json or jsonld (and csv for /api/studies): overrides Accept.")]


def paging(settings: Settings, limit: int | None) -> int:
    """The page size: ``limit``, or the default; :raises InvalidParameter: above the maximum."""
    if limit is None:
        return settings.default_page_size
    if limit > settings.max_page_size:
        raise InvalidParameter(f"limit={limit} is too large.", hint=f"Use at most {settings.max_page_size}.")
    return limit


def url(path: str, params: Sequence[tuple[str, str]]) -> str:
    return f"{path}?{urlencode(list(params))}" if params else path


# -- content negotiation -------------------------------------------------------------------------------------------


def negotiate(request: Request, offered: Sequence[str], fmt: str | None = None) -> str:
    """The media type to answer with: ``format`` first, then the Accept header's preference (JSON when none).

    :raises InvalidParameter: for an unknown format; :raises NotAcceptable: when Accept rules out every offer.
    """
    if fmt:
        if fmt not in FORMATS or FORMATS[fmt] not in offered:
            valid = ", ".join(k for k, v in FORMATS.items() if v in offered)
            raise InvalidParameter(f"Unknown format {fmt!r}.", hint=f"Use one of: {valid}.")
        return FORMATS[fmt]
    accept = request.headers.get("accept")
    media = preferred(accept, offered)
    if media is None:
        raise not_acceptable(accept, offered)
    return media


def respond(request: Request, model: BaseModel, vocabulary: Vocabulary, fmt: str | None = None) -> Response:
    """The model as JSON, or as JSON-LD when asked for."""
    media = negotiate(request, (JSON, JSONLD), fmt)
    if media == JSONLD:
        base_iri = request.app.state.context.settings.base_iri
        return JSONResponse(to_jsonld(model, vocabulary, base_iri), media_type=JSONLD)
    return JSONResponse(model.model_dump(mode="json", by_alias=True))


# -- filters and studies ------------------------------------------------------------------------------------------


def canonical_params(selection: Selection) -> list[tuple[str, str]]:
    """The selection as query parameters in a stable order (facet order, then value order): a shareable URL."""
    params: list[tuple[str, str]] = []
    for choice in sorted(selection.choices, key=lambda c: c.facet.order):
        if choice.facet.is_concept_facet:
            params.extend((choice.facet.name, c.slug) for c in sorted(choice.concepts, key=lambda c: c.order))
        else:
            params.extend((choice.facet.name, v) for v in sorted(choice.literals))
    return params


def reasons(summary_: StudySummary, selection: Selection) -> list[Reason]:
    """Which of the study's values satisfy each chosen facet (a chosen concept or a narrower one)."""
    out = []
    for choice in selection.choices:
        if not choice.facet.is_concept_facet:
            continue
        chosen = {c.iri for c in choice.concepts}
        by_iri = {c.iri: c for c in choice.facet.concepts}
        for value in summary_.values(choice.facet.name):
            concept = by_iri.get(value.iri)
            if concept and any(a.iri in chosen for a in choice.facet.ancestors(concept)):
                out.append(Reason(facet=choice.facet.name, chosen=[c.slug for c in choice.concepts],
                                  value=dataclasses.asdict(value)))  # type: ignore[arg-type]
    return out


def study_model(summary_: StudySummary, selection: Selection | None = None) -> Study:
    data = dataclasses.asdict(summary_)
    data.update(
        doi_url=summary_.doi_url,
        why=reasons(summary_, selection) if selection else [],
        links=StudyLinks(html=f"/studies/{summary_.id}", json=f"/api/studies/{summary_.id}"),
    )
    return Study.model_validate(data)
