"""The clinicians' REST API under /api: facets, studies (filtered, paged, counted, as JSON, JSON-LD or CSV), one
study, one concept, the review with its claims check, and plain-English questions.

Each endpoint builds one page model (web/models.py); pages.py renders the same models as HTML. Facet parameters are
named after the facets of the vocabulary and validated against it before any query is built.
"""

from __future__ import annotations

import csv
import dataclasses
import io
from collections.abc import Iterable, Sequence
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel

from .. import ask as asking
from ..claims import check_claims, summary
from ..errors import BadRequest, InvalidParameter, NotAcceptable, NotFound
from ..facets import Choice, Selection, facet_counts, select_studies, studies_query
from ..settings import Settings
from ..studies import StudySummary, find_study, review_details, reviews, study_detail, study_summaries
from ..vocabulary import Concept, Facet, Vocabulary, scheme_slug
from .context import AppContext, get_context
from .jsonld import to_jsonld
from .models import (
    AnswerValue,
    AskAnswer,
    ClaimRow,
    ConceptDetail,
    ConceptInfo,
    ConceptPage,
    ConceptRef,
    CorrectionInfo,
    CriterionInfo,
    ErrorBody,
    FacetCounts,
    FacetInfo,
    FacetsPage,
    FlowStageInfo,
    Interpretation,
    ListLinks,
    Mapping,
    MatchInfo,
    Reason,
    ReviewInfo,
    ReviewPage,
    SearchSourceInfo,
    Study,
    StudyDetail,
    StudyLinks,
    StudyList,
    ValueCount,
)

router = APIRouter(prefix="/api", tags=["clinicians"])

JSON, JSONLD, CSV = "application/json", "application/ld+json", "text/csv"
RESERVED = ("limit", "offset", "format")
FORMATS = {"json": JSON, "jsonld": JSONLD, "csv": CSV}
ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorBody, "description": "Unknown facet, value or question; the message lists valid ones."},
    404: {"model": ErrorBody, "description": "No such study, scheme or concept."},
    406: {"model": ErrorBody, "description": "None of the accepted media types can be produced."},
    422: {"model": ErrorBody, "description": "A parameter of the wrong type (e.g. limit=abc)."},
}
LD = {200: {"content": {JSONLD: {}}, "description": "JSON by default; JSON-LD with Accept: application/ld+json."}}
FacetFilters = {
    "parameters": [
        {
            "name": "filters",
            "in": "query",
            "description": "Any number of facet parameters named after the facets of /api/facets, each value a "
            "concept slug (or a year): ?delivery=online&challenge=emotional-vulnerability-burnout. Repeated "
            "values of one facet are OR-ed (also comma-separated), different facets AND-ed; a value also matches "
            "its narrower concepts.",
            "required": False,
            "style": "form",
            "explode": True,
            "schema": {"type": "object", "additionalProperties": {"type": "array", "items": {"type": "string"}}},
        }
    ]
}

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
    accept = request.headers.get("accept", "").strip()
    if not accept:
        return offered[0]
    best, best_q = None, 0.0
    for part in accept.split(","):
        media, *params = (p.strip() for p in part.split(";"))
        q = 1.0
        for p in params:
            if p.startswith("q="):
                try:
                    q = float(p[2:])
                except ValueError:
                    q = 0.0
        matches = [o for o in offered if media in (o, "*/*") or (media.endswith("/*") and o.startswith(media[:-1]))]
        candidate = media if media in offered else (matches[0] if matches else None)
        if candidate and q > best_q:
            best, best_q = candidate, q
    if best is None:
        raise NotAcceptable(f"Cannot answer with {accept!r}.", hint=f"Use one of: {', '.join(offered)}.")
    return best


def respond(request: Request, model: BaseModel, vocabulary: Vocabulary, fmt: str | None = None) -> Response:
    """The model as JSON, or as JSON-LD when asked for."""
    media = negotiate(request, (JSON, JSONLD), fmt)
    if media == JSONLD:
        base_iri = request.app.state.context.settings.base_iri
        return JSONResponse(to_jsonld(model, vocabulary, base_iri), media_type=JSONLD)
    return JSONResponse(model.model_dump(mode="json", by_alias=True))


# -- filters -------------------------------------------------------------------------------------------------------


def parse_selection(vocabulary: Vocabulary, items: Iterable[tuple[str, str]]) -> Selection:
    """The facet parameters of a request as a Selection.

    :raises BadRequest: for an unknown facet or value, listing the valid ones;
    :raises InvalidParameter: for a value of the wrong type (a year that is not a number).
    """
    grouped: dict[str, list[str]] = {}
    for key, value in items:
        if key not in RESERVED:
            grouped.setdefault(key, []).append(value)
    for name, values in grouped.items():
        try:
            facet = vocabulary.facet(name)
            if facet.is_concept_facet:
                for value in (v.strip() for raw in values for v in raw.split(",")):
                    if value:
                        facet.concept(value)
        except InvalidParameter as exc:
            raise BadRequest(exc.message, hint=exc.hint) from None
    return Selection.parse(vocabulary, grouped)


def canonical_params(selection: Selection) -> list[tuple[str, str]]:
    """The selection as query parameters in a stable order (facet order, then value order): a shareable URL."""
    params: list[tuple[str, str]] = []
    for choice in sorted(selection.choices, key=lambda c: c.facet.order):
        if choice.facet.is_concept_facet:
            params.extend((choice.facet.name, c.slug) for c in sorted(choice.concepts, key=lambda c: c.order))
        else:
            params.extend((choice.facet.name, v) for v in sorted(choice.literals))
    return params


def _with(selection: Selection, facet: Facet, value: str) -> list[tuple[str, str]]:
    params = canonical_params(selection)
    return params if (facet.name, value) in params else [*params, (facet.name, value)]


def toggled(selection: Selection, facet: Facet, value: str) -> list[tuple[str, str]]:
    params = canonical_params(selection)
    pair = (facet.name, value)
    return [p for p in params if p != pair] if pair in params else [*params, pair]


def _hierarchy(facet: Facet) -> list[tuple[Concept, int]]:
    out: list[tuple[Concept, int]] = []

    def walk(parent: Concept | None, depth: int) -> None:
        for child in facet.children(parent):
            if all(child is not c for c, _ in out):
                out.append((child, depth))
                walk(child, depth + 1)

    walk(None, 0)
    out.extend((c, 0) for c in facet.concepts if all(c is not x for x, _ in out))
    return out


def facet_count_models(ctx: AppContext, selection: Selection) -> list[FacetCounts]:
    """Every facet with the counts of its values among the studies matching ``selection``."""
    out = []
    chosen = {c.facet.name: c for c in selection.choices}
    for facet in ctx.vocabulary.facets:
        counts = facet_counts(ctx.evidence_map, facet, selection)
        choice = chosen.get(facet.name, Choice(facet))
        values = []
        if facet.is_concept_facet:
            for concept, depth in _hierarchy(facet):
                values.append(ValueCount(
                    value=concept.slug, label=concept.pref_label, iri=concept.iri, count=counts.get(concept.iri, 0),
                    depth=depth, selected=concept in choice.concepts,
                    toggle_url=url("/api/studies", toggled(selection, facet, concept.slug)),
                ))
        else:
            for value in sorted(set(counts) | set(choice.literals)):
                values.append(ValueCount(
                    value=value, label=value, count=counts.get(value, 0), selected=value in choice.literals,
                    toggle_url=url("/api/studies", toggled(selection, facet, value)),
                ))
        out.append(FacetCounts(iri=facet.iri, name=facet.name, label=facet.label, values=values))
    return out


# -- studies -------------------------------------------------------------------------------------------------------


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


def build_study_list(ctx: AppContext, selection: Selection, limit: int | None, offset: int) -> StudyList:
    size = paging(ctx.settings, limit)
    iris = select_studies(ctx.evidence_map, selection)
    summaries = study_summaries(ctx.evidence_map, ctx.vocabulary, iris[offset:offset + size])
    params = canonical_params(selection)
    paged = [*params, *([("limit", str(size))] if limit else [])]
    return StudyList(
        total=len(iris), limit=size, offset=offset, filters=selection.as_params(),
        sparql=studies_query(selection), studies=[study_model(s, selection) for s in summaries],
        facets=facet_count_models(ctx, selection),
        links=ListLinks(
            self=url("/api/studies", [*paged, *([("offset", str(offset))] if offset else [])]),
            html=url("/studies", params), csv=url("/api/studies", [*params, ("format", "csv")]),
            next=url("/api/studies", [*paged, ("offset", str(offset + size))]) if offset + size < len(iris) else None,
            prev=url("/api/studies", [*paged, *([("offset", str(max(0, offset - size)))] if offset > size else [])])
            if offset else None,
        ),
    )


def studies_csv(ctx: AppContext, summaries: Sequence[StudySummary]) -> str:
    """One row per study, each facet's values joined with '; ' (for spreadsheets)."""
    facets = [f for f in ctx.vocabulary.concept_facets]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(["ref", "id", "citation", "title", "year", "doi", "authors", "journal", "intervention",
                     *[f.name for f in facets], "iri"])
    for s in summaries:
        writer.writerow([
            s.ref, s.id, s.citation or "", s.title or "", s.year or "", s.doi or "", s.authors or "",
            s.journal or "", (s.intervention.label if s.intervention else "") or "",
            *["; ".join(v.label for v in s.values(f.name)) for f in facets], s.iri,
        ])
    return out.getvalue()


@router.get("/facets", response_model=FacetsPage, responses={**LD, **ERRORS}, summary="Every facet and its values")
def get_facets(request: Request, ctx: Annotated[AppContext, Depends(get_context)], format: Format = None) -> Response:
    """Every facet (design, delivery, outcome, challenge, ...) with its values, their synonyms and definitions,
    and how many included studies have each; all read from the ontology's concept schemes."""
    return respond(request, build_facets_page(ctx), ctx.vocabulary, format)


def build_facets_page(ctx: AppContext) -> FacetsPage:
    total = len(select_studies(ctx.evidence_map, Selection()))
    facets = []
    for facet in ctx.vocabulary.facets:
        counts = facet_counts(ctx.evidence_map, facet, Selection())
        if facet.is_concept_facet:
            values = [concept_info(facet, c, counts.get(c.iri, 0), depth) for c, depth in _hierarchy(facet)]
        else:
            values = [ConceptInfo(slug=v, label=v, count=n) for v, n in sorted(counts.items())]
        facets.append(FacetInfo(
            iri=facet.iri, name=facet.name, label=facet.label, alt_labels=list(facet.alt_labels),
            definition=facet.definition or None, scheme=scheme_slug(facet.scheme) if facet.scheme else None,
            values=values,
        ))
    return FacetsPage(total=total, facets=facets)


def concept_info(facet: Facet, concept: Concept, count: int, depth: int = 0) -> ConceptInfo:
    by_iri = {c.iri: c for c in facet.concepts}
    return ConceptInfo(
        iri=concept.iri, slug=concept.slug, label=concept.pref_label, alt_labels=list(concept.alt_labels),
        hidden_labels=list(concept.hidden_labels), definition=concept.definition or None, notation=concept.notation,
        broader=[by_iri[b].slug for b in concept.broader if b in by_iri], depth=depth, count=count,
        url=f"/concepts/{scheme_slug(concept.scheme)}/{concept.slug}",
    )


@router.get("/studies", response_model=StudyList, openapi_extra=FacetFilters, summary="Studies, filtered by facets",
            responses={200: {"content": {JSONLD: {}, CSV: {}}, "description": "JSON, JSON-LD or CSV."}, **ERRORS})
def get_studies(
    request: Request, ctx: Annotated[AppContext, Depends(get_context)], limit: Limit = None, offset: Offset = 0,
    format: Format = None,
) -> Response:
    """The included studies matching the facet parameters, with the total, paging and the counts of every facet's
    values among them. `Accept: text/csv` or `format=csv` gives one row per study with its facets joined."""
    selection = parse_selection(ctx.vocabulary, request.query_params.multi_items())
    media = negotiate(request, (JSON, JSONLD, CSV), format)
    if media == CSV:
        iris = select_studies(ctx.evidence_map, selection)
        if limit is not None:
            iris = iris[offset:offset + paging(ctx.settings, limit)]
        body = studies_csv(ctx, study_summaries(ctx.evidence_map, ctx.vocabulary, iris, provenance=False))
        return Response(body, media_type="text/csv; charset=utf-8",
                        headers={"Content-Disposition": 'inline; filename="studies.csv"'})
    model = build_study_list(ctx, selection, limit, offset)
    return respond(request, model, ctx.vocabulary, "jsonld" if media == JSONLD else None)


def build_study_detail(ctx: AppContext, identifier: str) -> StudyDetail:
    detail = study_detail(ctx.evidence_map, ctx.vocabulary, find_study(ctx.evidence_map, identifier))
    data = study_model(detail.summary).model_dump(by_alias=True)
    data.update(
        bibliographic_citation=detail.bibliographic_citation, url=detail.url, notes=detail.notes,
        facts=[dataclasses.asdict(f) for f in detail.facts],
    )
    return StudyDetail.model_validate(data)


@router.get("/studies/{study_id}", response_model=StudyDetail, responses={**LD, **ERRORS}, summary="One study")
def get_study(
    request: Request, study_id: str, ctx: Annotated[AppContext, Depends(get_context)], format: Format = None
) -> Response:
    """One study in full, by slug (`jewell-2022`) or reference number (`44`): every fact with its provenance
    (review section, the review's words, cited or derived, and the rationale of derived facts)."""
    return respond(request, build_study_detail(ctx, study_id), ctx.vocabulary, format)


# -- concepts ------------------------------------------------------------------------------------------------------


def build_concept_page(ctx: AppContext, scheme: str, slug: str, limit: int | None, offset: int) -> ConceptPage:
    facet = ctx.vocabulary.facet_for_scheme(scheme)
    try:
        concept = facet.concept(slug)
    except InvalidParameter as exc:
        raise NotFound(f"No concept {slug!r} in scheme {scheme!r}.", hint=exc.hint) from None
    selection = Selection((Choice(facet, concepts=(concept,)),))
    iris = select_studies(ctx.evidence_map, selection)
    size = paging(ctx.settings, limit)
    summaries = study_summaries(ctx.evidence_map, ctx.vocabulary, iris[offset:offset + size])
    by_iri = {c.iri: c for c in facet.concepts}

    def ref(c: Concept) -> ConceptRef:
        return ConceptRef(iri=c.iri, slug=c.slug, label=c.pref_label, facet=facet.name, scheme=scheme)

    info = concept_info(facet, concept, len(iris))
    detail = ConceptDetail(
        **info.model_dump(exclude={"broader"}), broader=info.broader, facet=facet.name, facet_label=facet.label,
        scheme=scheme, broader_concepts=[ref(by_iri[b]) for b in concept.broader if b in by_iri],
        narrower_concepts=[ref(c) for c in facet.children(concept)],
        mappings=[Mapping(relation=r, target=t) for r, t in concept.mappings],
    )
    return ConceptPage(concept=detail, total=len(iris), studies=[study_model(s, selection) for s in summaries],
                       studies_url=url("/api/studies", canonical_params(selection)))


@router.get("/concepts/{scheme}/{slug}", response_model=ConceptPage, responses={**LD, **ERRORS},
            summary="One concept and its studies")
def get_concept(
    request: Request, scheme: str, slug: str, ctx: Annotated[AppContext, Depends(get_context)],
    limit: Limit = None, offset: Offset = 0, format: Format = None,
) -> Response:
    """A concept (e.g. `/api/concepts/challenge/emotional-vulnerability-burnout`) with its definition, synonyms,
    broader and narrower concepts, mappings to other vocabularies, and the studies that have it."""
    return respond(request, build_concept_page(ctx, scheme, slug, limit, offset), ctx.vocabulary, format)


# -- the review ----------------------------------------------------------------------------------------------------


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


# -- questions -----------------------------------------------------------------------------------------------------


def _concept_ref(target: asking.Target) -> ConceptRef | None:
    c = target.concept
    if c is None:
        return None
    return ConceptRef(iri=c.iri, slug=c.slug, label=c.pref_label, facet=target.facet.name,
                      scheme=scheme_slug(c.scheme))


def describe(answer: asking.Answer) -> str:
    """The interpretation in one sentence."""
    if not answer.understood:
        return "Nothing in the question was recognised."
    parts = []
    for choice in answer.selection.choices:
        names = [c.pref_label for c in choice.concepts] or list(choice.literals)
        if any(m.used_as == "any value" and m.target.facet is choice.facet for m in answer.matches):
            parts.append(f"any {choice.facet.label}")
        else:
            parts.append(f"{choice.facet.label} {' or '.join(names)}")
    scope = "studies with " + " and ".join(parts) if parts else "included studies"
    if answer.intent == "count":
        return f"How many {scope}."
    if answer.intent == "values" and answer.values_facet is not None:
        return f"Each {answer.values_facet.label}, with how many {scope} have it."
    sentence = scope if parts else "all " + scope
    return sentence[0].upper() + sentence[1:] + "."


def build_answer(ctx: AppContext, question: str, limit: int | None, offset: int) -> AskAnswer:
    answer = asking.ask(question, ctx.evidence_map, ctx.vocabulary)
    size = paging(ctx.settings, limit)
    summaries = study_summaries(ctx.evidence_map, ctx.vocabulary, answer.study_iris[offset:offset + size])
    values = []
    if answer.values_facet is not None:
        by_iri = {c.iri: c for c in answer.values_facet.concepts}
        for key, count in answer.values:
            c = by_iri.get(key)
            value = c.slug if c else key
            values.append(AnswerValue(
                value=value, label=c.pref_label if c else key, iri=c.iri if c else None, count=count,
                url=f"/concepts/{scheme_slug(c.scheme)}/{c.slug}" if c else None,
                studies_url=url("/api/studies", _with(answer.selection, answer.values_facet, value)),
            ))
    matches = [
        MatchInfo(
            text=m.text, kind=m.target.kind, facet=m.target.facet.name, facet_label=m.target.facet.label,
            concept=_concept_ref(m.target), value=m.target.literal, matched_label=m.target.label, used_as=m.used_as,
            alternatives=[r for r in (_concept_ref(t) for t in m.alternatives) if r],
        )
        for m in answer.matches
    ]
    return AskAnswer(
        question=answer.question, intent=answer.intent, understood=answer.understood, message=answer.message,
        interpretation=Interpretation(
            matches=matches, ignored=answer.ignored, unknown=answer.unknown,
            corrections=[CorrectionInfo(word=c.word, corrected=c.corrected) for c in answer.corrections],
            filters=answer.selection.as_params(), summary=describe(answer),
        ),
        sparql=answer.sparql, values_sparql=answer.values_sparql, total=answer.total, values=values,
        values_facet=answer.values_facet.name if answer.values_facet else None, without_value=answer.without_value,
        studies=[study_model(s, answer.selection) for s in summaries], limit=size, offset=offset,
        suggestions=[ConceptRef(iri=s.concept.iri, slug=s.concept.slug, label=s.concept.pref_label,
                                facet=s.facet.name, scheme=scheme_slug(s.concept.scheme)) for s in answer.suggestions],
        studies_url=url("/api/studies", canonical_params(answer.selection)) if answer.understood else None,
    )


@router.get("/ask", response_model=AskAnswer, responses={**LD, **ERRORS}, summary="Ask a question in plain English")
def get_ask(
    request: Request, ctx: Annotated[AppContext, Depends(get_context)],
    q: Annotated[str, Query(description="The question, e.g. 'which online studies reported burnout'.",
                            examples=["which online studies reported burnout"])] = "",
    limit: Limit = None, offset: Offset = 0, format: Format = None,
) -> Response:
    """A plain-English question, read through the vocabulary's labels and synonyms into facets, then answered by
    the same query as /api/studies: the studies, a count ("how many ..."), or the values of a facet ("what
    challenges did online studies report?"). The answer shows which words matched which concepts and which were
    ignored. A question in which nothing is recognised says so and suggests concepts."""
    return respond(request, build_answer(ctx, q, limit, offset), ctx.vocabulary, format)
