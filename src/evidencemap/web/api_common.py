"""What every endpoint of the clinicians' REST API shares: error responses and parameters for the OpenAPI
document, links, the JSON / JSON-LD response and the study model of a list. Request input (filters, paging,
``format`` and Accept) is read by web/inputs.py.

The endpoints are in web/api.py (facets, studies, concepts), web/api_review.py (the review and its claims check)
and web/api_ask.py (plain-English questions); web/app.py registers the three routers.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import Query, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel

from evidencemap.model.facets import Selection
from evidencemap.model.studies import StudySummary, ValueRef
from evidencemap.model.vocabulary import Vocabulary
from evidencemap.web.context import rooted
from evidencemap.web.inputs import API_FORMATS, JSONLD, Formats, media_type
from evidencemap.web.jsonld import to_jsonld
from evidencemap.web.models import ErrorBody, Reason, Study, StudyLinks

ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorBody, "description": "Unknown facet, value, format or question; `allowed` lists the valid "
          "choices."},
    404: {"model": ErrorBody, "description": "No such study, scheme or concept."},
    406: {"model": ErrorBody, "description": "None of the accepted media types can be produced; `allowed` lists "
          "those that can."},
    422: {"model": ErrorBody, "description": "A parameter of the wrong type or out of range (e.g. limit=abc)."},
}
LD: dict[int | str, dict[str, Any]] = {
    200: {"content": {JSONLD: {}}, "description": "JSON by default; JSON-LD with Accept: application/ld+json."}
}

Limit = Annotated[int | None, Query(ge=1, description="Page size (default and maximum from the settings).")]
Offset = Annotated[int, Query(ge=0, description="Studies to skip.")]
Format = Annotated[str | None, Query(description="json or jsonld (and csv for /api/studies): overrides Accept.")]
Search = Annotated[str | None, Query(
    max_length=500, description="Free text: author surnames, title words, journal, year or programme name; every "
    "word must match (case, accents and one typing slip in longer words are forgiven).", examples=["Grenyer"],
)]
SupportLevel = Annotated[str | None, Query(
    description="The weakest strength of attribution to accept: cited (facts the review cites the study for), "
    "derived (also facts its text forces) or inferred (also facts its text and reference list make plausible; the "
    "default: every fact). Lists, counts and the gap map count only facts at least that strong.",
    examples=["cited"],
)]


def url(path: str, params: Sequence[tuple[str, str]]) -> str:
    """A link to ``path`` with ``params``, under the site answering the request (a map's: ``/maps/{slug}``)."""
    return rooted(f"{path}?{urlencode(list(params))}" if params else path)


def respond(request: Request, model: BaseModel, vocabulary: Vocabulary, fmt: str | None = None,
            formats: Formats = API_FORMATS) -> Response:
    """The model as JSON, or as JSON-LD when asked for (``format`` or Accept, through web/inputs.py)."""
    media = media_type(request, formats, fmt)
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


def card_value(value: ValueRef) -> dict[str, object]:
    """A fact's value as a study card shows it (web/models.StudyValue)."""
    return {"iri": value.iri, "slug": value.slug, "label": value.label, "scheme": value.scheme,
            "support": value.support}


def links_of(summary_: StudySummary) -> StudyLinks:
    return StudyLinks(html=rooted(f"/studies/{summary_.id}"), json_=rooted(f"/api/studies/{summary_.id}"))


def study_model(summary_: StudySummary, selection: Selection | None = None) -> Study:
    """The study card of a list: what the card shows (web/models.Study), built from plain dicts (a page of cards
    is on every list's path)."""
    intervention = summary_.intervention
    data: dict[str, object] = {
        "iri": summary_.iri, "id": summary_.id, "ref": summary_.ref, "citation": summary_.citation,
        "title": summary_.title, "year": summary_.year, "doi": summary_.doi, "doi_url": summary_.doi_url,
        "journal": summary_.journal,
        "facets": {name: [card_value(v) for v in values] for name, values in summary_.facets.items()},
        "intervention": None if intervention is None else {
            "iri": intervention.iri, "label": intervention.label,
            "facets": {name: [card_value(v) for v in values] for name, values in intervention.facets.items()},
        },
        "why": reasons(summary_, selection) if selection else [],
        "links": links_of(summary_),
    }
    return Study.model_validate(data)


def study_record(summary_: StudySummary) -> dict[str, Any]:
    """A study's full summary (every value with its section, the authors, the report, the intervention's
    description) as the fields of web/models.StudyDetail."""
    return {**dataclasses.asdict(summary_), "doi_url": summary_.doi_url, "why": [], "links": links_of(summary_)}
