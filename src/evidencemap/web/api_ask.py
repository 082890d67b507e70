"""/api/ask: a plain-English question read into facets and answered by the same query as /api/studies, with
the interpretation (which words matched which concepts) shown."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from evidencemap.model.facets import Selection
from evidencemap.model.studies import study_summaries
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
    study_model,
    url,
)
from evidencemap.web.context import AppContext, get_context
from evidencemap.web.inputs import Page, page
from evidencemap.web.models import AnswerValue, AskAnswer, ConceptRef, CorrectionInfo, Interpretation, MatchInfo

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


def build_answer(ctx: AppContext, question: str, paged: Page) -> AskAnswer:
    answer = asking.ask(question, ctx.evidence_map, ctx.vocabulary)
    size, offset = paged.size, paged.offset
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
    return respond(request, build_answer(ctx, q, page(ctx.settings, limit, offset)), ctx.vocabulary, format)
