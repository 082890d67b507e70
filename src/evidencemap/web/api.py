"""The clinicians' REST API under /api: facets, studies (filtered, paged, counted, as JSON, JSON-LD or CSV), one
study and one concept. The review (web/api_review.py) and the questions (web/api_ask.py) have routers of their own;
web/app.py registers all three.

Each route reads its input through web/inputs.py, asks a view (views/listing.py for the study list) and builds one
page model (web/models.py); pages.py renders the same models as HTML. What the endpoints share (links, the study
model, the JSON / JSON-LD response) is in web/api_common.py.
"""

from __future__ import annotations

import csv
import dataclasses
import io
from collections.abc import Sequence
from functools import lru_cache
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from pydantic import TypeAdapter

from evidencemap.errors import NotFound
from evidencemap.graph.store import EvidenceMap
from evidencemap.model.facets import (
    Choice,
    Selection,
    facet_counts,
    page_of_studies,
    studies_query,
    support_terms,
)
from evidencemap.model.recorded import is_recorded, not_recorded_sentence
from evidencemap.model.review_counts import review_counts, unattributed_by_value
from evidencemap.model.search import search_index_of
from evidencemap.model.studies import StudySummary, find_study, study_detail
from evidencemap.model.support import support_levels
from evidencemap.model.vocabulary import Concept, Facet, Vocabulary, scheme_slug
from evidencemap.views.listing import StudyListing, hierarchy, study_listing
from evidencemap.web import inputs
from evidencemap.web.api_common import (
    ERRORS,
    JSON,
    LD,
    Format,
    Limit,
    Offset,
    Search,
    SupportLevel,
    canonical_params,
    json_with,
    respond,
    study_models,
    study_record,
    url,
)
from evidencemap.web.context import AppContext, get_context, rooted
from evidencemap.web.inputs import API_FORMATS, CSV, JSONLD, STUDIES_FORMATS, Page
from evidencemap.web.models import (
    ConceptDetail,
    ConceptInfo,
    ConceptPage,
    ConceptRef,
    FacetCounts,
    FacetInfo,
    FacetsPage,
    ListLinks,
    Mapping,
    ReviewCountInfo,
    StudyDetail,
    StudyList,
)

router = APIRouter(prefix="/api", tags=["clinicians"])

RESERVED = ("limit", "offset", "format", "support", "q")
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


# -- filters -------------------------------------------------------------------------------------------------------


def parse_selection(
    vocabulary: Vocabulary, items: Sequence[tuple[str, str]], evidence_map: EvidenceMap | None = None
) -> Selection:
    """The facet parameters of a study-list request (web/inputs.py: 400 for an unknown facet or value, or a facet
    ``evidence_map`` does not record)."""
    return inputs.selection(vocabulary, items, RESERVED, evidence_map)


def toggled(
    selection: Selection, facet: Facet, value: str, extra: Sequence[tuple[str, str]] = ()
) -> list[tuple[str, str]]:
    """The selection's parameters with ``value`` of ``facet`` added or removed, then ``extra`` (the support level)."""
    params = canonical_params(selection)
    pair = (facet.name, value)
    return [*([p for p in params if p != pair] if pair in params else [*params, pair]), *extra]


@lru_cache(maxsize=16_384)
def _pair(name: str, value: str) -> str:
    """One facet parameter, URL-encoded (the same few hundred values on every list: encoded once)."""
    return urlencode([(name, value)])


def facet_count_models(listing: StudyListing, extra: Sequence[tuple[str, str]] = ()) -> list[FacetCounts]:
    """Every facet with the counts of its values among the listed studies, each value with its toggle link (keeping
    ``extra``, the support level). The selection's parameters are encoded once, and each value's parameter once
    per process (:func:`_pair`): a list has some 330 values, validated as plain dicts in one call a facet (a model
    made for each value costs three times as much)."""
    selection = listing.selection
    params = canonical_params(selection)
    chosen, head, tail = set(params), urlencode(params), urlencode(list(extra))
    start = rooted("/api/studies?")

    def toggle_url(facet: Facet, value: str) -> str:
        if (facet.name, value) in chosen:  # a chosen value: the link removes it
            return url("/api/studies", toggled(selection, facet, value, extra))
        return start + "&".join(p for p in (head, _pair(facet.name, value), tail) if p)

    return [
        FacetCounts.model_validate({
            "iri": tally.facet.iri, "name": tally.facet.name, "label": tally.facet.label, "recorded": tally.recorded,
            "note": None if tally.recorded else not_recorded_sentence(tally.facet),
            "values": [{**vars(v), "toggle_url": toggle_url(tally.facet, v.value)} for v in tally.values],
        })
        for tally in listing.facets
    ]


FACET_LIST = TypeAdapter(list[FacetCounts])


def list_facet_models(
    ctx: AppContext, listing: StudyListing, extra: Sequence[tuple[str, str]] = ()
) -> list[FacetCounts]:
    """:func:`facet_count_models`; those of a list that filters nothing depend on the version of the map, the site
    and ``extra`` only: made once per version (and vocabulary object: the value keeps it, so that its id is not
    another's while kept), and written as JSON once (:func:`rendered_fields`). The models are shared: nothing
    changes them once made."""
    if not listing.selection.is_everything:
        return facet_count_models(listing, extra)

    def build() -> tuple[Vocabulary, list[FacetCounts]]:
        models = facet_count_models(listing, extra)
        if models:
            _written(ctx)[id(models[0])] = (models, FACET_LIST.dump_json(models, by_alias=True))
        return ctx.vocabulary, models

    key = f"web.api.list_facets {rooted('/')} {urlencode(list(extra))} {listing.max_support} {id(ctx.vocabulary)}"
    return ctx.evidence_map.derive(key, build)[1]


def _written(ctx: AppContext) -> dict[int, tuple[list[FacetCounts], bytes]]:
    """The shared facet lists of this version of the map written as JSON, by the id of their first model."""
    return ctx.evidence_map.derive("web.api.written_facets", dict)


def rendered_fields(ctx: AppContext, model: StudyList) -> dict[str, bytes]:
    """The fields of ``model`` already written as JSON (web/api_common.json_with): its facet counts when they are
    the shared ones of :func:`list_facet_models` (the very same models: pydantic keeps model instances)."""
    found = _written(ctx).get(id(model.facets[0])) if model.facets else None
    if found is None or len(found[0]) != len(model.facets) or any(
            a is not b for a, b in zip(found[0], model.facets, strict=True)):
        return {}
    return {"facets": found[1]}


# -- studies -------------------------------------------------------------------------------------------------------


def searched(ctx: AppContext, selection: Selection, q: str | None) -> tuple[Selection, tuple[str, ...]]:
    """``selection`` narrowed to the studies a free-text search ``q`` finds (model/search.py), and the words of
    ``q`` that no study has (then nothing matches: every word must)."""
    if not q or not q.strip():
        return selection, ()
    result = search_index_of(ctx.evidence_map).search(q)
    return dataclasses.replace(selection, among=tuple(result.study_iris)), result.unmatched


def build_study_list(
    ctx: AppContext, selection: Selection, page: Page, support: str | None = None, q: str | None = None
) -> StudyList:
    """One page of the studies matching ``selection`` and the free-text search ``q`` at the support level
    ``support`` (None: every fact)."""
    level = support or support_levels(ctx.evidence_map).weakest
    narrowed, unmatched = searched(ctx, selection, q)
    listing = study_listing(ctx.evidence_map, ctx.vocabulary, narrowed, page.size, page.offset, max_support=level)
    size, offset, total = page.size, page.offset, listing.total
    kept = [*inputs.support_params(ctx.evidence_map, level), *([("q", q.strip())] if q and q.strip() else [])]
    params = [*canonical_params(selection), *kept]
    paged = [*params, *([("limit", str(size))] if page.asked else [])]
    return StudyList(
        total=total, limit=size, offset=offset, filters=selection.as_params(), support=level,
        search=q.strip() if q and q.strip() else None, search_unmatched=list(unmatched),
        support_levels=list(support_levels(ctx.evidence_map).names),
        sparql=studies_query(narrowed, support_terms(ctx.evidence_map, level)),
        studies=study_models(listing.studies, selection, ctx.evidence_map),
        facets=list_facet_models(ctx, listing, kept),
        links=ListLinks(
            self_=url("/api/studies", [*paged, *([("offset", str(offset))] if offset else [])]),
            html=url("/studies", params), csv=url("/api/studies", [*params, ("format", "csv")]),
            next=url("/api/studies", [*paged, ("offset", str(offset + size))]) if offset + size < total else None,
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
def get_facets(
    request: Request, ctx: Annotated[AppContext, Depends(get_context)], format: Format = None,
    support: SupportLevel = None,
) -> Response:
    """Every facet (design, delivery, outcome, challenge, ...) with its values, their synonyms and definitions,
    how many included studies have each (by facts at least as strong as `support`: cited, derived or inferred, the
    default), and, where the review counts studies with a value without naming them, that count
    (`review_count`, `review_note`); all read from the ontology's concept schemes and the review's claims."""
    level = inputs.support_level(ctx.evidence_map, support)
    page, rendered = facets_page(ctx, level)
    if inputs.media_type(request, API_FORMATS, format) == JSONLD:
        return respond(request, page, ctx.vocabulary, format)
    return Response(rendered, media_type=JSON)


def hierarchies(ctx: AppContext) -> dict[str, list[tuple[Concept, int]]]:
    """Every concept facet's concepts in tree order with their depth (views/listing.hierarchy), computed once per
    version of the map: it depends on the vocabulary only, and takes milliseconds a facet."""
    return ctx.evidence_map.derive("web.api.hierarchies", lambda: {
        f.name: hierarchy(f) for f in ctx.vocabulary.facets if f.is_concept_facet})


def build_facets_page(ctx: AppContext, support: str | None = None) -> FacetsPage:
    """Every facet with its values and their counts among every study, at the support level ``support``: it
    depends on the version of the map and the site only, so it is made once per version (and vocabulary object,
    kept by the value so that its id is not another's). The page is shared: nothing changes it once made."""
    return facets_page(ctx, support or support_levels(ctx.evidence_map).weakest)[0]


def facets_page(ctx: AppContext, level: str) -> tuple[FacetsPage, bytes]:
    """:func:`build_facets_page` at ``level``, and the same written as JSON, made once per version of the map."""

    def build() -> tuple[Vocabulary, FacetsPage, bytes]:
        page = _facets_page(ctx, level)
        return ctx.vocabulary, page, json_with(page, {})

    _, page, rendered = ctx.evidence_map.derive(f"web.api.facets_page {rooted('/')} {level} {id(ctx.vocabulary)}",
                                                build)
    return page, rendered


def _facets_page(ctx: AppContext, level: str) -> FacetsPage:
    total = page_of_studies(ctx.evidence_map, Selection(), 0, 0)[0]
    facets = []
    for facet in ctx.vocabulary.facets:
        # A facet the map does not record has no values counted: "not recorded" is not "0 studies".
        recorded = is_recorded(ctx.evidence_map, facet)
        counts = facet_counts(ctx.evidence_map, facet, Selection(), level) if recorded else {}
        values: list[ConceptInfo] = []
        if recorded and facet.is_concept_facet:
            reviews = unattributed_by_value(ctx.evidence_map, ctx.vocabulary, facet, level)
            for c, depth in hierarchies(ctx)[facet.name]:
                info = concept_info(facet, c, counts.get(c.iri, 0), depth)
                if c.iri in reviews:
                    info.review_count, info.review_note = reviews[c.iri].unattributed, reviews[c.iri].sentence
                values.append(info)
        elif recorded:
            values = [ConceptInfo(slug=v, label=v, count=n) for v, n in sorted(counts.items())]
        facets.append(FacetInfo(
            iri=facet.iri, name=facet.name, label=facet.label, alt_labels=list(facet.alt_labels),
            definition=facet.definition or None, scheme=scheme_slug(facet.scheme) if facet.scheme else None,
            recorded=recorded, note=None if recorded else not_recorded_sentence(facet), values=values,
        ))
    return FacetsPage(total=total, facets=facets, support=level)


def concept_info(facet: Facet, concept: Concept, count: int, depth: int = 0) -> ConceptInfo:
    by_iri = {c.iri: c for c in facet.concepts}
    return ConceptInfo(
        iri=concept.iri, slug=concept.slug, label=concept.pref_label, alt_labels=list(concept.alt_labels),
        hidden_labels=list(concept.hidden_labels), definition=concept.definition or None, notation=concept.notation,
        broader=[by_iri[b].slug for b in concept.broader if b in by_iri], depth=depth, count=count,
        url=rooted(f"/concepts/{scheme_slug(concept.scheme)}/{concept.slug}"),
    )


@router.get("/studies", response_model=StudyList, openapi_extra=FacetFilters, summary="Studies, filtered by facets",
            responses={200: {"content": {JSONLD: {}, CSV: {}}, "description": "JSON, JSON-LD or CSV."}, **ERRORS})
def get_studies(
    request: Request, ctx: Annotated[AppContext, Depends(get_context)], limit: Limit = None, offset: Offset = 0,
    format: Format = None, support: SupportLevel = None, q: Search = None,
) -> Response:
    """The included studies matching the facet parameters (and the free-text search `q`: authors, title words,
    journal, year or programme name, every word must match), with the total, paging and the counts of every facet's
    values among them, by facts at least as strong as `support` (cited, derived or inferred, the default: every
    fact). A value the review counts studies for without naming them carries `review_count` and `review_note`.
    `Accept: text/csv` or `format=csv` gives one row per study with its facets joined."""
    selection = parse_selection(ctx.vocabulary, request.query_params.multi_items(), ctx.evidence_map)
    level = inputs.support_level(ctx.evidence_map, support)
    page = inputs.page(ctx.settings, limit, offset)
    media = inputs.media_type(request, STUDIES_FORMATS, format)
    if media == CSV:
        # Without a limit the CSV holds every matching study (a spreadsheet export, not a page).
        listing = study_listing(ctx.evidence_map, ctx.vocabulary, searched(ctx, selection, q)[0],
                                page.size if limit else None,
                                page.offset if limit else 0, with_facets=False, provenance=False, max_support=level)
        # A byte-order mark first, so that Excel reads the file as UTF-8 (accents intact, L'Encéphale).
        return Response("\ufeff" + studies_csv(ctx, listing.studies), media_type="text/csv; charset=utf-8",
                        headers={"Content-Disposition": 'inline; filename="studies.csv"'})
    model = build_study_list(ctx, selection, page, level, q)
    return respond(request, model, ctx.vocabulary, "jsonld" if media == JSONLD else "json",
                   rendered=rendered_fields(ctx, model))


def build_study_detail(ctx: AppContext, identifier: str, support: str | None = None) -> StudyDetail:
    """The study with every fact; a fact weaker than the support level ``support`` is kept, marked ``excluded``
    (a reader sees what the level leaves out rather than a study that seems to lack it)."""
    levels = support_levels(ctx.evidence_map)
    level = support or levels.weakest
    accepted = {k.name for k in levels.accepted(level)}
    detail = study_detail(ctx.evidence_map, ctx.vocabulary, find_study(ctx.evidence_map, identifier))
    data = study_record(detail.summary)
    data.update(
        bibliographic_citation=detail.bibliographic_citation, url=detail.url, notes=detail.notes, support=level,
        facts=[{**dataclasses.asdict(f), "excluded": f.support not in accepted} for f in detail.facts],
    )
    return StudyDetail.model_validate(data)


@router.get("/studies/{study_id}", response_model=StudyDetail, responses={**LD, **ERRORS}, summary="One study")
def get_study(
    request: Request, study_id: str, ctx: Annotated[AppContext, Depends(get_context)], format: Format = None,
    support: SupportLevel = None,
) -> Response:
    """One study in full, by slug (`jewell-2022`) or reference number (`44`): every fact with its provenance
    (review section, the review's words, its support: cited, derived or inferred, and the rationale of derived and
    inferred facts). With `support=cited` or `derived`, the weaker facts are still listed, marked `excluded`."""
    level = inputs.support_level(ctx.evidence_map, support)
    return respond(request, build_study_detail(ctx, study_id, level), ctx.vocabulary, format)


# -- concepts ------------------------------------------------------------------------------------------------------


def build_concept_page(
    ctx: AppContext, scheme: str, slug: str, page: Page, support: str | None = None
) -> ConceptPage:
    """The concept, its studies at the support level ``support``, and the review's counts of studies with it that
    the map does not name ("The review counts 2 studies from United Kingdom (3.2) without naming them")."""
    level = support or support_levels(ctx.evidence_map).weakest
    facet = ctx.vocabulary.facet_for_scheme(scheme)
    slugs = [c.slug for c in facet.concepts]
    if slug not in slugs:
        raise NotFound(f"No concept {slug!r} in scheme {scheme!r}.", hint=f"Use one of: {', '.join(slugs)}.",
                       allowed=slugs)
    concept = facet.concept(slug)
    selection = Selection((Choice(facet, concepts=(concept,)),))
    listing = study_listing(ctx.evidence_map, ctx.vocabulary, selection, page.size, page.offset, with_facets=False,
                            max_support=level)
    by_iri = {c.iri: c for c in facet.concepts}

    def ref(c: Concept) -> ConceptRef:
        return ConceptRef(iri=c.iri, slug=c.slug, label=c.pref_label, facet=facet.name, scheme=scheme)

    info = concept_info(facet, concept, listing.total)
    counts = [c for c in review_counts(ctx.evidence_map, ctx.vocabulary, facet, concept.iri, level) if c.not_named]
    if counts:
        widest = max(counts, key=lambda c: (c.unattributed, c.stated))
        info.review_count, info.review_note = widest.unattributed, widest.sentence
    detail = ConceptDetail(
        **info.model_dump(exclude={"broader"}), broader=info.broader, facet=facet.name, facet_label=facet.label,
        scheme=scheme, broader_concepts=[ref(by_iri[b]) for b in concept.broader if b in by_iri],
        narrower_concepts=[ref(c) for c in facet.children(concept)],
        mappings=[Mapping(relation=r, target=t) for r, t in concept.mappings],
    )
    studies = study_models(listing.studies, selection, ctx.evidence_map)
    return ConceptPage(
        concept=detail, total=listing.total, studies=studies, support=level,
        studies_url=url("/api/studies",
                        [*canonical_params(selection), *inputs.support_params(ctx.evidence_map, level)]),
        review_counts=[
            ReviewCountInfo(claim=c.claim, label=c.label, stated=c.stated, section=c.section, quote=c.quote,
                            attribution=c.attribution, attributed=c.attributed, unattributed=c.unattributed,
                            sentence=c.sentence)
            for c in counts
        ],
    )


@router.get("/concepts/{scheme}/{slug}", response_model=ConceptPage, responses={**LD, **ERRORS},
            summary="One concept and its studies")
def get_concept(
    request: Request, scheme: str, slug: str, ctx: Annotated[AppContext, Depends(get_context)],
    limit: Limit = None, offset: Offset = 0, format: Format = None, support: SupportLevel = None,
) -> Response:
    """A concept (e.g. `/api/concepts/challenge/emotional-vulnerability-burnout`) with its definition, synonyms,
    broader and narrower concepts, mappings to other vocabularies, the studies that have it (by facts at least as
    strong as `support`), and the review's counts of studies with it that the map does not name (`review_counts`:
    "the review does not say which" is not "none")."""
    level = inputs.support_level(ctx.evidence_map, support)
    page = inputs.page(ctx.settings, limit, offset)
    return respond(request, build_concept_page(ctx, scheme, slug, page, level), ctx.vocabulary, format)
