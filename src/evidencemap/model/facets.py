"""Facet filters -> one parameterised SPARQL query, and facet counts over the filtered studies.

Values a user names are first resolved against the vocabulary (unknown ones are refused with the valid list); the
query then binds the vocabulary's own terms in a VALUES block, serialised by pyoxigraph: no user text is ever pasted
into SPARQL. (VALUES rather than engine-specific substitutions keeps the query portable to a remote SPARQL 1.1
engine, and pyoxigraph only substitutes projected variables.) Repeated values of one facet are OR,
different facets are AND, and a concept also matches studies that have a narrower concept ("in person" covers both
in-person settings), through a ``skos:broader*`` property path rather than materialised inference.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import pyoxigraph as ox

from evidencemap import namespaces as ns
from evidencemap.errors import InvalidParameter
from evidencemap.graph.store import Binding, EvidenceMap
from evidencemap.model.facet_index import index_of
from evidencemap.model.study_query import PREFIXES, StudyQuery, filter_patterns, value_path
from evidencemap.model.vocabulary import Concept, Facet, Vocabulary

__all__ = ["PREFIXES", "Choice", "Selection", "counts_query", "facet_counts", "select_studies", "studies_query"]


@dataclass(frozen=True)
class LiteralKind:
    """What a filter on a literal facet accepts, by the facet's datatype (XSD, not the review's vocabulary)."""

    example: str
    accepts: Callable[[str], bool]


# A literal facet without a known datatype takes any text, as a plain literal.
LITERAL_KINDS = {
    ns.XSD + "gYear": LiteralKind("years such as 2022", str.isdigit),
    ns.XSD + "integer": LiteralKind("whole numbers such as 3", lambda v: v.lstrip("-").isdigit()),
}


def literal_term(facet: Facet, value: str) -> ox.Literal:
    """A value of a literal facet as the map writes it: typed with the facet's datatype (``evm:facetDatatype``)."""
    if facet.datatype is None:
        return ox.Literal(value)
    return ox.Literal(value, datatype=ox.NamedNode(facet.datatype))


@dataclass(frozen=True)
class Choice:
    """The values chosen for one facet: concepts for a concept facet, years (or other literals) otherwise."""

    facet: Facet
    concepts: tuple[Concept, ...] = ()
    literals: tuple[str, ...] = ()

    def terms(self) -> tuple[Binding, ...]:
        """The chosen values as store terms: the concepts' IRIs, or literals of the facet's datatype."""
        if self.facet.is_concept_facet:
            return tuple(ox.NamedNode(c.iri) for c in self.concepts)
        return tuple(literal_term(self.facet, v) for v in self.literals)


@dataclass(frozen=True)
class Selection:
    """A validated filter: the studies that match every choice (values of one choice OR-ed)."""

    choices: tuple[Choice, ...] = ()

    @classmethod
    def parse(cls, vocabulary: Vocabulary, params: Mapping[str, Sequence[str]]) -> Selection:
        """Resolve ``{facet name: [value slug, ...]}`` against the vocabulary.

        :raises InvalidParameter: for an unknown facet or value, listing the valid ones.
        """
        choices = []
        for name, raw_values in params.items():
            values = [v.strip() for raw in raw_values for v in raw.split(",") if v.strip()]
            if not values:
                continue
            facet = vocabulary.facet(name)
            if facet.is_concept_facet:
                concepts = tuple(dict.fromkeys(facet.concept(v) for v in values))
                choices.append(Choice(facet, concepts=concepts))
            else:
                kind = LITERAL_KINDS.get(facet.datatype or "")
                for v in values:
                    if kind is not None and not kind.accepts(v):
                        raise InvalidParameter(f"Facet {name!r} takes {kind.example}, not {v!r}.")
                choices.append(Choice(facet, literals=tuple(dict.fromkeys(values))))
        return cls(tuple(sorted(choices, key=lambda c: c.facet.order)))

    def as_params(self) -> dict[str, list[str]]:
        """The selection as query parameters (a stable, shareable URL)."""
        return {c.facet.name: [x.slug for x in c.concepts] or list(c.literals) for c in self.choices}

    def terms(self) -> list[tuple[Facet, tuple[Binding, ...]]]:
        """Each choice as (facet, chosen terms): the selection as the facet index reads it."""
        return [(c.facet, c.terms()) for c in self.choices]

    def without(self, facet_name: str) -> Selection:
        return Selection(tuple(c for c in self.choices if c.facet.name != facet_name))

    def patterns(self, study: str = "?study") -> str:
        """The graph patterns of this selection, with the chosen terms bound in VALUES blocks."""
        return "\n".join(f"  {p}" for p in filter_patterns(self.terms(), study))


def studies_query(selection: Selection) -> str:
    """The SPARQL that lists the matching studies by reference number."""
    return StudyQuery("DISTINCT ?study ?ref", selection.terms(), numbered=True, modifiers="ORDER BY ?ref ?study").text()


def select_studies(evidence_map: EvidenceMap, selection: Selection) -> list[str]:
    """IRIs of the studies matching ``selection``, ordered by their reference number in the review.

    Answered by the map's facet index, which gives what :func:`studies_query` gives (:func:`sparql_select_studies`).
    """
    index = index_of(evidence_map)
    return index.listing(index.matching(selection.terms()))


def sparql_select_studies(evidence_map: EvidenceMap, selection: Selection) -> list[str]:
    """:func:`select_studies` by running :func:`studies_query` (for a store the index does not cover, and tests)."""
    return [row["study"] for row in evidence_map.select(studies_query(selection))]


def counts_query(facet: Facet, selection: Selection) -> str:
    """Studies per value of ``facet`` among those matching ``selection`` (a study counts under every broader
    concept of its values too)."""
    if facet.is_concept_facet:
        value = f"?study {value_path(facet, hierarchy=False)} ?direct . ?direct skos:broader* ?value ."
    else:
        value = f"?study {value_path(facet)} ?value ."
    return StudyQuery(
        "?value (COUNT(DISTINCT ?study) AS ?n)", selection.terms(), patterns=[value], modifiers="GROUP BY ?value"
    ).text()


def facet_counts(evidence_map: EvidenceMap, facet: Facet, selection: Selection) -> dict[str, int]:
    """``{value key: number of studies}``: concept IRIs for concept facets, literal values otherwise.

    Answered by the map's facet index, which gives what :func:`counts_query` gives (:func:`sparql_facet_counts`).
    """
    index = index_of(evidence_map)
    return index.counts(facet, index.matching(selection.terms()))


def sparql_facet_counts(evidence_map: EvidenceMap, facet: Facet, selection: Selection) -> dict[str, int]:
    """:func:`facet_counts` by running :func:`counts_query` (for a store the index does not cover, and tests)."""
    return {str(row["value"]): int(row["n"]) for row in evidence_map.select(counts_query(facet, selection))}
