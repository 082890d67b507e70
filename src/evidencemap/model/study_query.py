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
RDF_SUBJECT, RDF_PREDICATE, RDF_OBJECT = (ns.RDF + name for name in ("subject", "predicate", "object"))

Filter = Sequence[tuple[Facet, Sequence[Binding]]]

# What the study lists, the gap map and the networks show of a study besides its reference number.
CITATION_AND_SLUG = ("OPTIONAL { ?study evm:shortCitation ?citation }", "OPTIONAL { ?study evm:slug ?slug }")


def value_path(facet: Facet, *, hierarchy: bool = True) -> str:
    """The property path from a study to ``facet``'s values; with ``hierarchy``, a concept facet's path goes on to
    every broader concept, so that a concept covers its narrower ones."""
    return facet.sparql_path() + ("/skos:broader*" if hierarchy and facet.is_concept_facet else "")


def finding_pattern(facet: Facet, study: str, value: str, kind: str, tag: str = "") -> str:
    """The pattern binding ``value`` to each value of concept ``facet`` that a finding states for ``study`` (or for
    the intervention it evaluates: every step of the facet's path but the last leads to the finding's subject), and
    ``kind`` to that finding's support kind. A finding reifies its statement (rdf:subject, rdf:predicate, rdf:object);
    the statement itself, in graph/inferred, carries no support. ``tag`` keeps the helper variables of several
    patterns of one query apart."""
    *steps, last = facet.path
    subject = study
    lead = ""
    if steps:
        subject = f"?_subject{tag}"
        lead = f"{study} {'/'.join(f'<{p}>' for p in steps)} {subject} . "
    return (
        f"{lead}?_finding{tag} <{RDF_SUBJECT}> {subject} ; <{RDF_PREDICATE}> <{last}> ; <{RDF_OBJECT}> {value} ; "
        f"evm:support {kind} ."
    )


def filter_patterns(filters: Filter, study: str = "?study", support: Sequence[Binding] = ()) -> list[str]:
    """The graph patterns of a filter, the chosen terms bound in one VALUES block per facet.

    With ``support`` (the accepted support kinds, see :mod:`evidencemap.model.support`), a concept facet's value must
    be stated by a finding of one of those kinds (an empty ``support`` accepts every fact, with no finding pattern).
    """
    patterns = []
    for i, (facet, terms) in enumerate(filters):
        if support and facet.is_concept_facet:
            patterns.append(
                f"{values_block(f'f{i}', terms)}\n  {values_block(f'k{i}', support)}\n"
                f"  {finding_pattern(facet, study, f'?d{i}', f'?k{i}', str(i))}\n  ?d{i} skos:broader* ?f{i} ."
            )
        else:
            patterns.append(f"{values_block(f'f{i}', terms)}\n  {study} {value_path(facet)} ?f{i} .")
    return patterns


def any_direct_value(facets: Sequence[Facet], variable: str) -> str:
    """An OPTIONAL pattern binding ``variable`` to each value the study has directly on one of ``facets`` ("" for
    none)."""
    branches = " UNION ".join(f"{{ ?study {f.sparql_path()} {variable} }}" for f in facets)
    return f"OPTIONAL {{ {branches} }}" if branches else ""


@dataclass(frozen=True)
class StudyQuery:
    """``SELECT projection`` over the included studies (``?study``) matching ``filters``.

    ``numbered`` keeps only the studies with a reference number (bound to ``?ref``, the studies a list shows);
    ``patterns`` add what to read about each study; ``modifiers`` (GROUP BY, ORDER BY) close the query; ``support``
    (accepted support kinds, empty for every fact) holds the filters to facts that strong (see
    :func:`filter_patterns`).
    """

    projection: str
    filters: Filter = ()
    numbered: bool = False
    patterns: Sequence[str] = field(default=())
    modifiers: str = ""
    support: Sequence[Binding] = ()

    def text(self) -> str:
        reference = " ; evm:referenceNumber ?ref" if self.numbered else ""
        lines = [
            f"SELECT {self.projection} WHERE {{",
            f"  ?study a evm:IncludedStudy{reference} .",
            *(f"  {p}" for p in filter_patterns(self.filters, support=self.support)),
            *(f"  {p}" for p in self.patterns if p),
            "}",
        ]
        return PREFIXES + "\n".join(lines) + (f"\n{self.modifiers}" if self.modifiers else "")
