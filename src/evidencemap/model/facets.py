"""Facet filters -> one parameterised SPARQL query, and facet counts over the filtered studies.

Values a user names are first resolved against the vocabulary (unknown ones are refused with the valid list); the
query then binds the vocabulary's own terms in a VALUES block, serialised by pyoxigraph: no user text is ever pasted
into SPARQL. (VALUES rather than engine-specific substitutions keeps the query portable to a remote SPARQL 1.1
engine, and pyoxigraph only substitutes projected variables.) Repeated values of one facet are OR,
different facets are AND, and a concept also matches studies that have a narrower concept ("in person" covers both
in-person settings), through a ``skos:broader*`` property path rather than materialised inference.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import overload

import numpy as np
import numpy.typing as npt
import pyoxigraph as ox

from evidencemap import namespaces as ns
from evidencemap.errors import InvalidParameter
from evidencemap.graph.store import Binding, EvidenceMap
from evidencemap.graph.values import values_block
from evidencemap.model.facet_counts import bits_of, facet_bits
from evidencemap.model.facet_index import FacetIndex, Mask, index_of
from evidencemap.model.study_query import PREFIXES, StudyQuery, filter_patterns, finding_pattern, value_path
from evidencemap.model.support import support_levels
from evidencemap.model.vocabulary import Concept, Facet, Vocabulary

__all__ = ["PREFIXES", "Choice", "Listed", "Selection", "counts_query", "facet_counts", "matching_studies",
           "page_of_studies", "select_studies", "studies_query", "value_counts"]


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
    """A validated filter: the studies that match every choice (values of one choice OR-ed), less those matching
    any exclusion, and (when ``among`` is set) only those of ``among``.

    The study list builds one choice per facet; a question may build two choices of one facet ("hope and
    empowerment": both), exclusions ("without burnout") and a set of studies found by a free-text search ("by
    Grenyer"), which a study-list URL cannot state (:attr:`as_url`).
    """

    choices: tuple[Choice, ...] = ()
    exclusions: tuple[Choice, ...] = ()
    among: tuple[str, ...] | None = None  # study IRIs (of the map, not user text)

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
        """The chosen values as query parameters (a stable, shareable URL when :attr:`as_url`)."""
        params: dict[str, list[str]] = {}
        for c in self.choices:
            values = params.setdefault(c.facet.name, [])
            values.extend(v for v in [x.slug for x in c.concepts] or list(c.literals) if v not in values)
        return params

    @property
    def is_everything(self) -> bool:
        """Whether the selection filters nothing (every included study matches it)."""
        return not self.choices and not self.exclusions and self.among is None

    @property
    def as_url(self) -> bool:
        """Whether the study list's parameters state this selection: no exclusion and one choice per facet."""
        names = [c.facet.name for c in self.choices]
        return not self.exclusions and self.among is None and len(names) == len(set(names))

    def terms(self) -> list[tuple[Facet, tuple[Binding, ...]]]:
        """Each choice as (facet, chosen terms): the selection as the facet index reads it."""
        return [(c.facet, c.terms()) for c in self.choices]

    def exclusion_terms(self) -> list[tuple[Facet, tuple[Binding, ...]]]:
        """Each exclusion as (facet, excluded terms): a study having one of them is left out."""
        return [(c.facet, c.terms()) for c in self.exclusions]

    def without(self, facet_name: str) -> Selection:
        return replace(self, choices=tuple(c for c in self.choices if c.facet.name != facet_name))

    def patterns(self, study: str = "?study") -> str:
        """The graph patterns of this selection, with the chosen terms bound in VALUES blocks."""
        lines = [*filter_patterns(self.terms(), study), *self.narrowing_patterns(study)]
        return "\n".join(f"  {p}" for p in lines)

    def narrowing_patterns(self, study: str = "?study") -> list[str]:
        """The patterns beyond the facet filters: the studies of ``among`` in a VALUES block, and one
        ``FILTER NOT EXISTS`` per exclusion with its terms in a VALUES block (none for a study-list selection)."""
        among = [] if self.among is None else [values_block(study.lstrip("?"), [ox.NamedNode(s) for s in self.among])]
        return among + [
            f"FILTER NOT EXISTS {{ {values_block(f'x{i}', terms)} {study} {value_path(facet)} ?x{i} . }}"
            for i, (facet, terms) in enumerate(self.exclusion_terms())
        ]

    def mask(self, index: FacetIndex, max_support: str | None = None) -> Mask:
        """The studies of ``index`` matching this selection (by facts at least as strong as ``max_support``): what
        the SPARQL of :func:`studies_query` selects. A study is excluded by a fact of any strength."""
        found = index.matching(self.terms(), max_support)
        for excluded in self.exclusion_terms():
            found &= ~index.matching([excluded])
        if self.among is not None:
            wanted = np.zeros(index.size, dtype=bool)
            wanted[[p for p in map(index.position, self.among) if p is not None]] = True
            found &= wanted
        return found


def support_terms(evidence_map: EvidenceMap, max_support: str | None) -> tuple[ox.NamedNode, ...]:
    """The support kinds a query accepts at ``max_support`` (none, so no finding pattern, when it keeps every fact)."""
    return support_levels(evidence_map).accepted_terms(max_support)


def studies_query(selection: Selection, support: tuple[ox.NamedNode, ...] = ()) -> str:
    """The SPARQL that lists the matching studies by reference number (by facts of the ``support`` kinds, when
    given: see :func:`support_terms`)."""
    return StudyQuery("DISTINCT ?study ?ref", selection.terms(), numbered=True, patterns=selection.narrowing_patterns(),
                      modifiers="ORDER BY ?ref ?study", support=support).text()


def select_studies(evidence_map: EvidenceMap, selection: Selection, max_support: str | None = None) -> list[str]:
    """IRIs of the studies matching ``selection`` by facts at least as strong as ``max_support`` (every fact by
    default), ordered by their reference number in the review.

    Answered by the map's facet index, which gives what :func:`studies_query` gives (:func:`sparql_select_studies`).
    """
    index = index_of(evidence_map)
    return index.listing(selection.mask(index, max_support))


class Listed(Sequence[str]):
    """The IRIs of the studies at ``positions`` of a facet index, in listing order, each looked up when read: an
    answer of 5,000 studies shows 50 of them, and its total is a length. Equal to any sequence of the same IRIs."""

    def __init__(self, studies: Sequence[str], positions: npt.NDArray[np.intp]) -> None:
        self._studies = studies
        self._positions = positions

    def __len__(self) -> int:
        return len(self._positions)

    @overload
    def __getitem__(self, item: int) -> str: ...

    @overload
    def __getitem__(self, item: slice) -> list[str]: ...

    def __getitem__(self, item: int | slice) -> str | list[str]:
        if isinstance(item, slice):
            return [self._studies[i] for i in self._positions[item]]
        return self._studies[int(self._positions[item])]

    def __iter__(self) -> Iterator[str]:
        return (self._studies[i] for i in self._positions)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Sequence) and not isinstance(other, str):
            return list(self) == list(other)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]  # equal to lists, which are not hashable

    def __repr__(self) -> str:
        return f"Listed({list(self)!r})"


def matching_studies(evidence_map: EvidenceMap, selection: Selection, max_support: str | None = None) -> Listed:
    """:func:`select_studies`, each IRI looked up when read (:class:`Listed`)."""
    index = index_of(evidence_map)
    return Listed(index.studies, np.flatnonzero(selection.mask(index, max_support) & index.listed))


def page_of_studies(
    evidence_map: EvidenceMap, selection: Selection, offset: int, size: int | None, max_support: str | None = None
) -> tuple[int, list[str]]:
    """How many studies :func:`select_studies` gives, and ``size`` of them (every one when None) from ``offset``:
    only the page's IRIs are looked up (a list of every match costs a pass in Python over them)."""
    found = matching_studies(evidence_map, selection, max_support)
    return len(found), found[offset:] if size is None else found[offset:offset + size]


def sparql_select_studies(evidence_map: EvidenceMap, selection: Selection, max_support: str | None = None) -> list[str]:
    """:func:`select_studies` by running :func:`studies_query` (for a store the index does not cover, and tests)."""
    query = studies_query(selection, support_terms(evidence_map, max_support))
    return [row["study"] for row in evidence_map.select(query)]


def counts_query(facet: Facet, selection: Selection, support: tuple[ox.NamedNode, ...] = ()) -> str:
    """Studies per value of ``facet`` among those matching ``selection`` (a study counts under every broader
    concept of its values too), by facts of the ``support`` kinds when given."""
    if facet.is_concept_facet and support:
        kinds = " ".join(str(term) for term in support)
        value = (f"VALUES ?kind {{ {kinds} }} {finding_pattern(facet, '?study', '?direct', '?kind', 'c')} "
                 "?direct skos:broader* ?value .")
    elif facet.is_concept_facet:
        value = f"?study {value_path(facet, hierarchy=False)} ?direct . ?direct skos:broader* ?value ."
    else:
        value = f"?study {value_path(facet)} ?value ."
    return StudyQuery(
        "?value (COUNT(DISTINCT ?study) AS ?n)", selection.terms(), patterns=[*selection.narrowing_patterns(), value],
        modifiers="GROUP BY ?value", support=support,
    ).text()


def facet_counts(
    evidence_map: EvidenceMap, facet: Facet, selection: Selection, max_support: str | None = None
) -> dict[str, int]:
    """``{value key: number of studies}``: concept IRIs for concept facets, literal values otherwise, among the
    studies matching ``selection``, both by facts at least as strong as ``max_support``.

    Answered by the map's facet index (as bitsets: model/facet_counts.py), which gives what :func:`counts_query`
    gives (:func:`sparql_facet_counts`).
    """
    return value_counts(evidence_map, (facet,), selection, max_support)[facet.name]


def value_counts(
    evidence_map: EvidenceMap, facets: Sequence[Facet], selection: Selection, max_support: str | None = None
) -> dict[str, dict[str, int]]:
    """:func:`facet_counts` of each of ``facets``, by facet name, with the selection's studies found once. The counts
    among every study (a selection that filters nothing) are read, not counted (model/facet_counts.py)."""
    bits = facet_bits(evidence_map, max_support)
    among = None if selection.is_everything else bits_of(selection.mask(bits.index, max_support))
    return {facet.name: bits.facet(facet).counts(among) for facet in facets}


def sparql_facet_counts(
    evidence_map: EvidenceMap, facet: Facet, selection: Selection, max_support: str | None = None
) -> dict[str, int]:
    """:func:`facet_counts` by running :func:`counts_query` (for a store the index does not cover, and tests)."""
    query = counts_query(facet, selection, support_terms(evidence_map, max_support))
    return {str(row["value"]): int(row["n"]) for row in evidence_map.select(query)}
