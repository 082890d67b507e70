"""/api/ask: a plain-English question read into facets and answered by the same query as /api/studies, with
the interpretation (which words matched which concepts) shown."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from evidencemap.model.facets import Selection
from evidencemap.model.studies import reference_numbers
from evidencemap.model.study_cards import card_summaries
from evidencemap.model.vocabulary import Facet, scheme_slug
from evidencemap.views import questions as asking
from evidencemap.web.api_common import (
    ERRORS,
    LD,
    Format,
    Limit,
    Offset,
    canonical_params,
    respond,
    study_models,
    url,
)
from evidencemap.web.context import AppContext, get_context, rooted
from evidencemap.web.inputs import Page, page
from evidencemap.web.models import (
    AnswerGroup,
    AnswerValue,
    AskAnswer,
    ConceptRef,
    CorrectionInfo,
    Interpretation,
    MatchInfo,
    PageLinks,
    ReviewCountInfo,
    ReviewValue,
    YearInfo,
)

router = APIRouter(prefix="/api", tags=["clinicians"])


def _with(selection: Selection, facet: Facet, value: str) -> list[tuple[str, str]]:
    params = canonical_params(selection)
    return params if (facet.name, value) in params else [*params, (facet.name, value)]


def _concept_ref(target: asking.Target) -> ConceptRef | None:
    c = target.concept
    if c is None:
        return None
    return ConceptRef(iri=c.iri, slug=c.slug, label=c.pref_label, facet=target.facet.name,
                      scheme=scheme_slug(c.scheme))


def _excluded(selection: Selection) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for choice in selection.exclusions:
        out.setdefault(choice.facet.name, []).extend([c.slug for c in choice.concepts] or list(choice.literals))
    return out


def _page_links(question: str, paged: Page, total: int) -> PageLinks:
    """This page of an answer's studies and its neighbours (``limit`` kept when it was asked for)."""
    size, offset = paged.size, paged.offset
    params = [("q", question), *([("limit", str(size))] if paged.asked else [])]

    def at(start: int) -> str:
        return url("/api/ask", [*params, *([("offset", str(start))] if start else [])])

    return PageLinks(self_=at(offset), next=at(offset + size) if offset + size < total else None,
                     prev=at(max(0, offset - size)) if offset else None)


def build_answer(ctx: AppContext, question: str, paged: Page) -> AskAnswer:
    answer = asking.ask(question, ctx.evidence_map, ctx.vocabulary)
    size, offset = paged.size, paged.offset
    summaries = card_summaries(ctx.evidence_map, ctx.vocabulary, answer.study_iris[offset:offset + size])
    # No list of "none", and no link naming a concept the facet does not list (its slug is not a value there).
    linkable = answer.selection.as_url and answer.understanding != asking.NOT_RECORDED and not answer.unused
    values, groups, review_values = [], [], []
    if answer.values_facet is not None:
        facet = answer.values_facet
        by_iri = {c.iri: c for c in facet.concepts}
        for key, count in answer.values:
            c = by_iri.get(key)
            value = c.slug if c else key
            values.append(AnswerValue(
                value=value, label=c.pref_label if c else key, iri=c.iri if c else None, count=count,
                url=rooted(f"/concepts/{scheme_slug(c.scheme)}/{c.slug}") if c else None,
                studies_url=url("/api/studies", _with(answer.selection, facet, value)) if linkable else None,
            ))
        grouped = {iri for _, iris in answer.groups for iri in iris}
        refs = reference_numbers(ctx.evidence_map, sorted(grouped))
        for key, iris in answer.groups:
            c = by_iri.get(key)
            groups.append(AnswerGroup(value=c.slug if c else key, label=c.pref_label if c else key,
                                      iri=c.iri if c else None, studies=[refs[i] for i in iris if i in refs]))
        review_values = [ReviewValue(value=by_iri[key].slug, label=by_iri[key].pref_label, iri=key, count=n)
                         for key, n in answer.review_values if key in by_iri]
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
            filters=answer.selection.as_params(), summary=answer.reading,
            years=[YearInfo(text=y.text, low=y.low, high=y.high, years=list(y.years), excluded=y.excluded)
                   for y in answer.years],
            search=answer.search_words, topic=answer.topic, excluded=_excluded(answer.selection),
        ),
        sparql=answer.sparql, values_sparql=answer.values_sparql, total=answer.total, values=values,
        values_facet=answer.values_facet.name if answer.values_facet else None, without_value=answer.without_value,
        studies=study_models(summaries, answer.selection, ctx.evidence_map), limit=size, offset=offset,
        links=_page_links(question, paged, answer.total),
        suggestions=[ConceptRef(iri=s.concept.iri, slug=s.concept.slug, label=s.concept.pref_label,
                                facet=s.facet.name, scheme=scheme_slug(s.concept.scheme)) for s in answer.suggestions],
        studies_url=url("/api/studies", canonical_params(answer.selection)) if answer.understood and linkable else None,
        understanding=answer.understanding, not_recorded=[f.name for f in answer.not_recorded],
        headline=answer.headline_count, can_answer=answer.can_answer,
        breakdown=answer.breakdown, groups=groups, groups_sparql=answer.groups_sparql,
        review_count=answer.review_count, review_values=review_values,
        review_counts=[ReviewCountInfo(claim=c.claim, label=c.label, stated=c.stated, section=c.section, quote=c.quote,
                                       attribution=c.attribution, attributed=c.attributed,
                                       unattributed=c.unattributed, sentence=c.sentence)
                       for c in answer.review_counts],
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
    return respond(request, build_answer(ctx, q, page(ctx.settings, limit, offset)), ctx.vocabulary, format)
