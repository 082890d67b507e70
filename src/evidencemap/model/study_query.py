"""The one builder of "the included studies matching a filter" SPARQL: the study list, facet counts, the gap map's
study details, the network's bipartite graph, the questions' counts and the facet index all start from it, so the same
filter means the same graph pattern everywhere.

A filter is a sequence of (facet, terms): a study matches when, for every facet, it has one of the terms (values of
one facet OR-ed, facets AND-ed). The terms are the vocabulary's own, written into VALUES blocks by pyoxigraph, never
user text. A concept facet's value also matches studies having a narrower concept, through ``skos:broader*``.

>>> from evidencemap.model.vocabulary import Facet
>>> import pyoxigraph as ox
>>> delivery = Facet("http://example.org/facet-delivery", "delivery", "delivery", (), "",
...     ("http://example.org/evaluates", "http://example.org/delivery"), 5, scheme="http://example.org/delivery")
>>> online = ox.NamedNode("http://example.org/delivery/online")
>>> query = StudyQuery("DISTINCT ?study ?ref", [(delivery, (online,))], numbered=True, modifiers="ORDER BY ?ref")
>>> print(query.text().split("\\n", 2)[2])
SELECT DISTINCT ?study ?ref WHERE {
  ?study a evm:IncludedStudy ; evm:referenceNumber ?ref .
  VALUES ?f0 { <http://example.org/delivery/online> }
  ?study <http://example.org/evaluates>/<http://example.org/delivery>/skos:broader* ?f0 .
}
ORDER BY ?ref
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from evidencemap import namespaces as ns
from evidencemap.graph.terms import Binding
from evidencemap.graph.values import values_block
from evidencemap.model.vocabulary import Facet

PREFIXES = ns.sparql_prefixes(("evm", "skos"))

Filter = Sequence[tuple[Facet, Sequence[Binding]]]

# What the study lists, the gap map and the networks show of a study besides its reference number.
CITATION_AND_SLUG = ("OPTIONAL { ?study evm:shortCitation ?citation }", "OPTIONAL { ?study evm:slug ?slug }")


def value_path(facet: Facet, *, hierarchy: bool = True) -> str:
    """The property path from a study to ``facet``'s values; with ``hierarchy``, a concept facet's path goes on to
    every broader concept, so that a concept covers its narrower ones."""
    return facet.sparql_path() + ("/skos:broader*" if hierarchy and facet.is_concept_facet else "")


def filter_patterns(filters: Filter, study: str = "?study") -> list[str]:
    """The graph patterns of a filter, the chosen terms bound in one VALUES block per facet."""
    return [
        f"{values_block(f'f{i}', terms)}\n  {study} {value_path(facet)} ?f{i} ."
        for i, (facet, terms) in enumerate(filters)
    ]


def any_direct_value(facets: Sequence[Facet], variable: str) -> str:
    """An OPTIONAL pattern binding ``variable`` to each value the study has directly on one of ``facets`` ("" for
    none)."""
    branches = " UNION ".join(f"{{ ?study {f.sparql_path()} {variable} }}" for f in facets)
    return f"OPTIONAL {{ {branches} }}" if branches else ""


@dataclass(frozen=True)
class StudyQuery:
    """``SELECT projection`` over the included studies (``?study``) matching ``filters``.

    ``numbered`` keeps only the studies with a reference number (bound to ``?ref``, the studies a list shows);
    ``patterns`` add what to read about each study; ``modifiers`` (GROUP BY, ORDER BY) close the query.
    """

    projection: str
    filters: Filter = ()
    numbered: bool = False
    patterns: Sequence[str] = field(default=())
    modifiers: str = ""

    def text(self) -> str:
        reference = " ; evm:referenceNumber ?ref" if self.numbered else ""
        lines = [
            f"SELECT {self.projection} WHERE {{",
            f"  ?study a evm:IncludedStudy{reference} .",
            *(f"  {p}" for p in filter_patterns(self.filters)),
            *(f"  {p}" for p in self.patterns if p),
            "}",
        ]
        return PREFIXES + "\n".join(lines) + (f"\n{self.modifiers}" if self.modifiers else "")
