"""Strengths of attribution: how strongly a finding rests on the review, and the strictest level a reader accepts.

The ontology defines the support kinds, strongest first, as the ``owl:oneOf`` list of ``evm:SupportKind``: cited
(the review names the study for the fact), derived (its text forces the fact), inferred (its text and reference list
make the fact plausible). A *level* names the weakest kind a reader accepts: "cited" keeps cited facts only,
"derived" cited and derived ones, "inferred" (the weakest kind, the default) every fact. The names, their order and
their definitions are read from the ontology, so another kind needs no change here. A level is named by its kind's
local name in lower case (``evm:Cited`` -> "cited"); a finding's support is reported by the kind's label.

Only facts stated by findings have a support kind: the values of concept facets. A literal facet (the publication
year, from the reference list) is a record of the report, not a finding, and is kept at every level.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pyoxigraph as ox

from evidencemap import namespaces as ns
from evidencemap.errors import InvalidParameter
from evidencemap.graph.store import EvidenceMap

_KEY = "support-levels"
OWL = "http://www.w3.org/2002/07/owl#"

# Each kind with its position in the ontology's list: the number of list nodes from the head to its own node.
KINDS_QUERY = ns.sparql_prefixes(("evm", "rdf", "rdfs", "skos")) + f"PREFIX owl: <{OWL}>\n" + """
SELECT ?kind ?label ?definition (COUNT(?middle) AS ?position) WHERE {
  evm:SupportKind owl:oneOf ?list .
  ?list rdf:rest* ?middle . ?middle rdf:rest* ?node . ?node rdf:first ?kind .
  ?kind rdfs:label ?label .
  OPTIONAL { ?kind skos:definition ?definition }
}
GROUP BY ?kind ?label ?definition
ORDER BY ?position
"""


@dataclass(frozen=True)
class SupportKind:
    """One strength of attribution: its IRI, its name as a level (the IRI's local name in lower case, e.g. "cited"),
    its label (as a finding's support is reported), its definition and its rank (0 for the strongest)."""

    iri: str
    name: str
    label: str
    definition: str
    rank: int


@dataclass(frozen=True)
class SupportLevels:
    """The support kinds of a map, strongest first."""

    kinds: tuple[SupportKind, ...]

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(k.name for k in self.kinds)

    @property
    def weakest(self) -> str:
        """The default level: every fact, whatever its support."""
        return self.kinds[-1].name

    def rank(self, name: str) -> int:
        """0 for the strongest kind, by its name or its label; an unknown one ranks after every kind."""
        for kind in self.kinds:
            if name in (kind.name, kind.label):
                return kind.rank
        return len(self.kinds)

    def parse(self, value: str | None) -> str:
        """A level as a reader names it (None or "" for the default), checked against the ontology's kinds.

        :raises InvalidParameter: for an unknown level, listing the valid ones.
        """
        if value is None or not value.strip():
            return self.weakest
        name = value.strip().lower()
        if name not in self.names:
            raise InvalidParameter(
                f"Unknown support level {value!r}.",
                hint=f"Use one of: {', '.join(self.names)} (the weakest support you accept; {self.weakest} keeps all).",
                allowed=self.names,
            )
        return name

    def is_strict(self, level: str | None) -> bool:
        """Whether ``level`` leaves out some facts (None means every fact)."""
        return level is not None and self.rank(level) < len(self.kinds) - 1

    def accepted(self, level: str | None) -> tuple[SupportKind, ...]:
        """The kinds at least as strong as ``level`` (every kind for None)."""
        if level is None:
            return self.kinds
        limit = self.rank(level)
        return tuple(k for k in self.kinds if k.rank <= limit)

    def accepted_terms(self, level: str | None) -> tuple[ox.NamedNode, ...]:
        """The accepted kinds as store terms, for a VALUES block; empty when ``level`` keeps every fact (so that a
        query adds no finding pattern at all)."""
        if not self.is_strict(level):
            return ()
        return tuple(ox.NamedNode(k.iri) for k in self.accepted(level))


def local_name(iri: str) -> str:
    """What follows an IRI's last '#' or '/' (``evm:Cited`` -> ``Cited``)."""
    return re.split(r"[#/]", iri.rstrip("/#"))[-1]


def support_name(kind: str) -> str:
    """The name a support kind goes by in the API, the pages and ``support=`` (its IRI's local name, lower case).

    >>> support_name("https://w3id.org/evidencemap/ontology#Extracted")
    'extracted'
    """
    return local_name(kind).lower()


def read_levels(evidence_map: EvidenceMap) -> SupportLevels:
    rows = evidence_map.select(KINDS_QUERY)
    return SupportLevels(
        tuple(
            SupportKind(
                str(r["kind"]), support_name(str(r["kind"])), str(r["label"]), str(r.get("definition", "")),
                rank,
            )
            for rank, r in enumerate(rows)
        )
    )


def support_levels(evidence_map: EvidenceMap) -> SupportLevels:
    """The map's support kinds, strongest first (read from the ontology once per version of the map)."""
    return evidence_map.derive(_KEY, lambda: read_levels(evidence_map))


__all__ = ["SupportKind", "SupportLevels", "support_levels"]
