"""What every endpoint of the clinicians' REST API shares: error responses and parameters for the OpenAPI
document, links, the JSON / JSON-LD response and the study model of a list. Request input (filters, paging,
``format`` and Accept) is read by web/inputs.py.

The endpoints are in web/api.py (facets, studies, concepts), web/api_review.py (the review and its claims check)
and web/api_ask.py (plain-English questions); web/app.py registers the three routers.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import Query, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel

from evidencemap.graph.store import EvidenceMap
from evidencemap.model.facets import Selection
from evidencemap.model.studies import StudySummary, ValueRef
from evidencemap.model.study_cards import Kept
from evidencemap.model.vocabulary import Concept, Facet, Vocabulary
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
JSON = "application/json"
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
            formats: Formats = API_FORMATS, *, rendered: Mapping[str, bytes] | None = None) -> Response:
    """The model as JSON, or as JSON-LD when asked for (``format`` or Accept, through web/inputs.py). The JSON is
    written by pydantic's serializer in one step (the same bytes as ``JSONResponse`` of ``model_dump``, a fifth of
    the time: some 150 KB on a study list); ``rendered`` gives fields already written as JSON (:func:`json_with`)."""
    media = media_type(request, formats, fmt)
    if media == JSONLD:
        base_iri = request.app.state.context.settings.base_iri
        return JSONResponse(to_jsonld(model, vocabulary, base_iri), media_type=JSONLD)
    return Response(json_with(model, rendered or {}), media_type=JSON)


def json_with(model: BaseModel, rendered: Mapping[str, bytes]) -> bytes:
    """``model.model_dump_json(by_alias=True)``, with the fields of ``rendered`` (by field name, written by the
    same serializer: a study list's facet counts, the same for every page of a version) put in as they are instead
    of being written again. The same bytes: fields keep their order."""
    if not rendered:
        return model.model_dump_json(by_alias=True).encode()
    fields = type(model).model_fields
    parts: list[bytes] = []
    written: list[str] = []

    def flush() -> None:
        if written:
            parts.append(model.model_dump_json(by_alias=True, include=set(written)).encode()[1:-1])
            written.clear()

    for name, info in fields.items():
        if name in rendered:
            flush()
            key = info.serialization_alias or info.alias or name
            parts.append(b'"' + key.encode() + b'":' + rendered[name])
        else:
            written.append(name)
    flush()
    return b"{" + b",".join(p for p in parts if p) + b"}"


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


class Reasons:
    """Why each study of a list matches ``selection``: which of its values satisfy each chosen concept facet (a
    chosen concept or a narrower one), as the plain dicts of web/models.Reason. Whether a value satisfies a choice
    is worked out once per value for the whole list (a page of 50 cards asks about the same few values)."""

    def __init__(self, selection: Selection) -> None:
        self.choices: list[tuple[Facet, list[str], set[str], dict[str, Concept], dict[str, bool]]] = [
            (choice.facet, [c.slug for c in choice.concepts], {c.iri for c in choice.concepts},
             {c.iri: c for c in choice.facet.concepts}, {})
            for choice in selection.choices if choice.facet.is_concept_facet
        ]

    def __call__(self, summary_: StudySummary) -> list[dict[str, object]]:
        out: list[dict[str, object]] = []
        for facet, slugs, chosen, by_iri, known in self.choices:
            for value in summary_.values(facet.name):
                hit = known.get(value.iri)
                if hit is None:
                    concept = by_iri.get(value.iri)
                    hit = known[value.iri] = concept is not None and any(
                        a.iri in chosen for a in facet.ancestors(concept))
                if hit:
                    out.append({"facet": facet.name, "chosen": slugs, "value": dict(vars(value))})
        return out


def reasons(summary_: StudySummary, selection: Selection) -> list[Reason]:
    """Which of the study's values satisfy each chosen facet (a chosen concept or a narrower one)."""
    return [Reason.model_validate(r) for r in Reasons(selection)(summary_)]


def card_value(value: ValueRef) -> dict[str, object]:
    """A fact's value as a study card shows it (web/models.StudyValue)."""
    return {"iri": value.iri, "slug": value.slug, "label": value.label, "scheme": value.scheme,
            "support": value.support}


def links_of(summary_: StudySummary) -> StudyLinks:
    return StudyLinks(html=rooted(f"/studies/{summary_.id}"), json_=rooted(f"/api/studies/{summary_.id}"))


def study_model(summary_: StudySummary, selection: Selection | None = None) -> Study:
    """The study card of a list: what the card shows (web/models.Study)."""
    return study_models([summary_], selection)[0]


CARD_MODELS = 2_000  # study cards kept as models per map and version (some 10 KB each)


def study_models(summaries: Sequence[StudySummary], selection: Selection | None = None,
                 evidence_map: EvidenceMap | None = None) -> list[Study]:
    """The study cards of a list, with why each matches ``selection``. A card is built from plain dicts validated in
    one call; with ``evidence_map``, it is kept for the map's version (least recently used out, by site and study,
    for the very summary it was made from), and a list copies it with its own ``why``."""
    why = Reasons(selection) if selection is not None else None
    kept = card_models(evidence_map) if evidence_map is not None else None
    root = rooted("")
    out = []
    for summary_ in summaries:
        found = kept.get((root, summary_.iri)) if kept is not None else None
        card = found[1] if found is not None and found[0] is summary_ else None
        if card is None:
            card = _card(summary_)
            if kept is not None:
                kept.put((root, summary_.iri), (summary_, card))
        reasons_ = why(summary_) if why is not None else []
        out.append(card.model_copy(update={"why": [Reason.model_validate(r) for r in reasons_]}) if reasons_ else card)
    return out


def card_models(evidence_map: EvidenceMap) -> Kept[tuple[str, str], tuple[StudySummary, Study]]:
    """The study cards of the map's version kept as models, by (site root, study IRI)."""
    return evidence_map.derive("web.api_common.card_models", lambda: Kept(CARD_MODELS))


def _card(summary_: StudySummary) -> Study:
    """A study card without ``why`` (web/models.Study), validated from plain dicts in one call."""
    intervention = summary_.intervention
    return Study.model_validate({
        "iri": summary_.iri, "id": summary_.id, "ref": summary_.ref, "citation": summary_.citation,
        "title": summary_.title, "year": summary_.year, "doi": summary_.doi, "doi_url": summary_.doi_url,
        "journal": summary_.journal,
        "facets": {name: [card_value(v) for v in values] for name, values in summary_.facets.items()},
        "intervention": None if intervention is None else {
            "iri": intervention.iri, "label": intervention.label,
            "facets": {name: [card_value(v) for v in values] for name, values in intervention.facets.items()},
        },
        "why": [],
        "links": {"html": rooted(f"/studies/{summary_.id}"), "json": rooted(f"/api/studies/{summary_.id}")},
    })


def study_record(summary_: StudySummary) -> dict[str, Any]:
    """A study's full summary (every value with its section, the authors, the report, the intervention's
    description) as the fields of web/models.StudyDetail."""
    return {**dataclasses.asdict(summary_), "doi_url": summary_.doi_url, "why": [], "links": links_of(summary_)}
