"""Which facets a map records: "not recorded in this map" is not "0 studies".

A facet is *recorded* in a map when at least one of its included studies has a value of it (directly, or a broader
concept by ``skos:broader``). A map that records no evidence type says nothing about its studies' types of data, so
its lists, counts, gap map axes and answers must not show every type with "0 studies", which reads as "none" (the
fidelity rule: never show "the review does not say which" as "none"). Every place that offers or counts a facet asks
:func:`is_recorded` and, for a facet the map does not record, says so (:func:`not_recorded_sentence`) instead.

Computed once per version of the map (``EvidenceMap.derive``), from the facet index (which reads the same graph
patterns as the study filters), so it costs nothing after the index has read the facet.
"""

from __future__ import annotations

from collections.abc import Iterable

from evidencemap.graph.store import EvidenceMap
from evidencemap.model.facet_index import index_of
from evidencemap.model.vocabulary import Facet

__all__ = ["is_recorded", "not_recorded_sentence", "recorded_facets", "unrecorded_facets"]


def is_recorded(evidence_map: EvidenceMap, facet: Facet) -> bool:
    """Whether at least one included study of the map has a value of ``facet`` (by facts of any support)."""
    return evidence_map.derive(
        f"model.recorded {facet.name} {facet.sparql_path()}",
        lambda: bool(index_of(evidence_map).facet(facet).masks),
    )


def recorded_facets(evidence_map: EvidenceMap, facets: Iterable[Facet]) -> tuple[Facet, ...]:
    """The facets of ``facets`` the map records, in the order given."""
    return tuple(f for f in facets if is_recorded(evidence_map, f))


def unrecorded_facets(evidence_map: EvidenceMap, facets: Iterable[Facet]) -> tuple[Facet, ...]:
    """The facets of ``facets`` the map does not record, in the order given."""
    return tuple(f for f in facets if not is_recorded(evidence_map, f))


def not_recorded_sentence(facet: Facet) -> str:
    """What is shown instead of counts for a facet the map does not record.

    >>> from evidencemap.model.vocabulary import Facet
    >>> not_recorded_sentence(Facet("x", "evidence-type", "evidence type", (), "", (), 0))
    'This map does not record evidence type.'
    """
    return f"This map does not record {facet.label}."
