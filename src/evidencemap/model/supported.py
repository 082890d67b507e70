"""The facet questions of :mod:`evidencemap.model.facets` (the studies matching a selection; a facet's counts among
them) held to a strength of attribution: ``max_support`` names the weakest support kind a reader accepts ("cited",
"derived", or the weakest, "inferred", which is the same as no level; see :mod:`evidencemap.model.support`).

Answered by the facet index; the SPARQL twins (``*_query``) add the finding pattern of
:func:`evidencemap.model.study_query.finding_pattern` only when the level is stricter than the weakest, and tests hold
the index to them at every level.
"""

from __future__ import annotations

from evidencemap.graph.store import EvidenceMap
from evidencemap.model.facet_index import index_of
from evidencemap.model.facets import Selection
from evidencemap.model.study_query import StudyQuery, finding_pattern, value_path
from evidencemap.model.support import support_levels
from evidencemap.model.vocabulary import Facet


def select_studies(evidence_map: EvidenceMap, selection: Selection, max_support: str | None = None) -> list[str]:
    """IRIs of the listed studies matching ``selection`` by facts at least as strong as ``max_support``, ordered by
    reference number."""
    index = index_of(evidence_map)
    return index.listing(index.matching(selection.terms(), max_support))


def facet_counts(
    evidence_map: EvidenceMap, facet: Facet, selection: Selection, max_support: str | None = None
) -> dict[str, int]:
    """``{value key: number of studies}`` among the studies matching ``selection``, both by facts at least as strong
    as ``max_support``."""
    index = index_of(evidence_map)
    return index.counts(facet, index.matching(selection.terms(), max_support), max_support)


def studies_query(evidence_map: EvidenceMap, selection: Selection, max_support: str | None = None) -> str:
    """The SPARQL that lists what :func:`select_studies` lists."""
    support = support_levels(evidence_map).accepted_terms(max_support)
    return StudyQuery(
        "DISTINCT ?study ?ref", selection.terms(), numbered=True, modifiers="ORDER BY ?ref ?study", support=support
    ).text()


def counts_query(evidence_map: EvidenceMap, facet: Facet, selection: Selection, max_support: str | None = None) -> str:
    """The SPARQL that counts what :func:`facet_counts` counts."""
    support = support_levels(evidence_map).accepted_terms(max_support)
    if facet.is_concept_facet and support:
        kinds = " ".join(str(term) for term in support)
        value = f"VALUES ?kind {{ {kinds} }} {finding_pattern(facet, '?study', '?direct', '?kind', 'c')} " \
                "?direct skos:broader* ?value ."
    elif facet.is_concept_facet:
        value = f"?study {value_path(facet, hierarchy=False)} ?direct . ?direct skos:broader* ?value ."
    else:
        value = f"?study {value_path(facet)} ?value ."
    return StudyQuery(
        "?value (COUNT(DISTINCT ?study) AS ?n)", selection.terms(), patterns=[value], modifiers="GROUP BY ?value",
        support=support,
    ).text()


def sparql_select_studies(evidence_map: EvidenceMap, selection: Selection, max_support: str | None = None) -> list[str]:
    """:func:`select_studies` by running :func:`studies_query`."""
    return [row["study"] for row in evidence_map.select(studies_query(evidence_map, selection, max_support))]


def sparql_facet_counts(
    evidence_map: EvidenceMap, facet: Facet, selection: Selection, max_support: str | None = None
) -> dict[str, int]:
    """:func:`facet_counts` by running :func:`counts_query`."""
    query = counts_query(evidence_map, facet, selection, max_support)
    return {str(row["value"]): int(row["n"]) for row in evidence_map.select(query)}


__all__ = [
    "counts_query", "facet_counts", "select_studies", "sparql_facet_counts", "sparql_select_studies", "studies_query",
]
