"""Citation export under /api/cite: the map itself, one study, or the studies matching the same facet filters, search
and support level as /api/studies, as RIS, BibTeX or CSL-JSON (publish/citations.py writes them)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from evidencemap.errors import NotFound
from evidencemap.graph.store import EvidenceMap
from evidencemap.model.studies import find_study, study_summaries
from evidencemap.publish.citations import CITATION_FORMATS, Citation, map_citations, map_edition, study_citations, write
from evidencemap.views.listing import study_listing
from evidencemap.web import inputs
from evidencemap.web.api import FacetFilters, searched
from evidencemap.web.api_common import ERRORS, Search, SupportLevel
from evidencemap.web.context import AppContext, get_context

router = APIRouter(prefix="/api/cite", tags=["clinicians"])

# format name -> media type, RIS first (the default when Accept states no preference).
CITE_FORMATS: inputs.Formats = {f.name: f.media_type for f in CITATION_FORMATS.values()}
RESERVED = ("format", "support", "q")
CiteFormat = Annotated[str | None, Query(
    description="ris, bibtex or csl-json: overrides Accept (application/x-research-info-systems, "
    "application/x-bibtex, application/vnd.citationstyles.csl+json).",
)]
CITED = {
    200: {
        "content": {f.media_type: {} for f in CITATION_FORMATS.values()},
        "description": "RIS by default; BibTeX or CSL-JSON by `format` or Accept.",
    },
    **ERRORS,
}


def cited(request: Request, citations: Sequence[Citation], fmt: str | None, filename: str) -> Response:
    """``citations`` in the format the request asks for (400 for an unknown one, 406 for an Accept that rules out
    every format), as a download named ``filename`` with the format's extension."""
    media = inputs.media_type(request, CITE_FORMATS, fmt)
    chosen = next(f for f in CITATION_FORMATS.values() if f.media_type == media)
    charset = "" if chosen.media_type.endswith("json") else "; charset=utf-8"
    return Response(
        write(citations, chosen.name), media_type=chosen.media_type + charset,
        headers={"Content-Disposition": f'attachment; filename="{filename}.{chosen.extension}"'},
    )


def edition_or_404(evidence_map: EvidenceMap) -> tuple[str, list[Citation]]:
    edition = map_edition(evidence_map)
    if edition is None:
        raise NotFound("This map states no edition (a dcat:Dataset with a dcat:version) to cite.",
                       hint="Cite the review on /review, or a study on /api/cite/studies/{id}.")
    return f"evidencemap-{edition.iri.rstrip('/').rsplit('/', 1)[-1]}-{edition.version}", map_citations(edition)


@router.get("/map", responses=CITED, summary="How to cite this map, as a citation file")
def cite_map(request: Request, ctx: Annotated[AppContext, Depends(get_context)], format: CiteFormat = None) -> Response:
    """The map itself (its title, version, date and IRI, the review it maps with its DOI and licence in a note) and
    the review it is built from, as RIS, BibTeX or CSL-JSON."""
    name, citations = edition_or_404(ctx.evidence_map)
    return cited(request, citations, format, name)


@router.get("/studies", responses=CITED, openapi_extra=FacetFilters, summary="Citations of the filtered studies")
def cite_studies(
    request: Request, ctx: Annotated[AppContext, Depends(get_context)], format: CiteFormat = None,
    support: SupportLevel = None, q: Search = None,
) -> Response:
    """Every study matching the facet parameters, the free-text search `q` and the support level, as on
    /api/studies (all of them, not one page), as RIS, BibTeX or CSL-JSON: one record per study's report."""
    selection = inputs.selection(ctx.vocabulary, request.query_params.multi_items(), RESERVED, ctx.evidence_map)
    level = inputs.support_level(ctx.evidence_map, support)
    inputs.media_type(request, CITE_FORMATS, format)  # an unknown format is refused before the studies are read
    narrowed = searched(ctx, selection, q)[0]
    listing = study_listing(ctx.evidence_map, ctx.vocabulary, narrowed, None, with_facets=False, provenance=False,
                            max_support=level)
    return cited(request, study_citations(ctx.evidence_map, listing.studies), format, "evidencemap-studies")


@router.get("/studies/{study_id}", responses=CITED, summary="The citation of one study")
def cite_study(
    request: Request, study_id: str, ctx: Annotated[AppContext, Depends(get_context)], format: CiteFormat = None,
) -> Response:
    """One study's report, by slug (`jewell-2022`) or reference number (`44`), as RIS, BibTeX or CSL-JSON."""
    inputs.media_type(request, CITE_FORMATS, format)
    iri = find_study(ctx.evidence_map, study_id)
    summaries = study_summaries(ctx.evidence_map, ctx.vocabulary, [iri], provenance=False)
    return cited(request, study_citations(ctx.evidence_map, summaries), format, summaries[0].id)
