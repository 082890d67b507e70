"""Review-level counts of a facet value: what the review counts without saying which studies.

"The review does not say which" is not "none". The review gives some counts without naming studies ("two from the
United Kingdom", 3.2): the map records them as claims (``evm:StudyCountClaim``, claims.ttl) whose scope is a set of
conditions on facets, and attributes no study to them (or fewer than the review counts, or none at a strict support
level). A value with such a count is not a gap: the review says studies have it, only not which.

:func:`review_counts` gives, for a facet (optionally one of its values), each claim that counts studies with a value
of it: the stated number, the section, the review's words, and how many studies the map attributes to the claim's
whole scope at the chosen support level. A claim on a narrower concept also counts under its broader concepts, as a
study does. Web-free, so that pages, the API and the question view share it.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import TypeVar

import pyoxigraph as ox

from evidencemap import namespaces as ns
from evidencemap.graph.store import Delta, EvidenceMap, Row
from evidencemap.model.claims import claim_selection, conditions_of, with_quotes
from evidencemap.model.facets import select_studies
from evidencemap.model.vocabulary import Facet, Vocabulary

PREFIXES = ns.sparql_prefixes(("evm", "rdfs", "prov", "oa"))
Built = TypeVar("Built")

# The study-count claims with a condition on a facet, each with the facet and the value of that condition.
FACET_CLAIMS_QUERY = PREFIXES + """
SELECT ?facet ?claim ?value ?label ?stated ?section ?attribution ?quote WHERE {
  ?claim a evm:StudyCountClaim ; evm:condition ?condition ; rdfs:label ?label ; evm:statedCount ?stated ;
         evm:section/evm:sectionNumber ?section .
  ?condition evm:onFacet ?facet ; evm:hasValue ?value .
  OPTIONAL { ?claim evm:attribution ?attribution }
  OPTIONAL { ?claim prov:wasDerivedFrom/oa:hasSelector/oa:exact ?quote }
}
"""


@dataclass(frozen=True)
class ReviewCount:
    """One count of the review touching a facet value, and how much of it the map attributes to studies."""

    claim: str  # the claim's IRI
    facet: str  # the facet's name
    value: str  # the concept IRI the claim's condition names (this value or a narrower one)
    label: str  # the claim's label, e.g. "Studies from United Kingdom"
    stated: int  # the number the review gives
    section: str  # the review's section, e.g. "3.2"
    quote: str | None  # the review's words (the passage the claim is derived from)
    attribution: str | None  # evm:attribution's local name: NotAttributable, AttributedByCitation, ...
    attributed: int  # the studies of the map matching the claim's whole scope at the support level

    @property
    def unattributed(self) -> int:
        """How many of the studies the review counts the map does not name (at the support level)."""
        return max(self.stated - self.attributed, 0)

    @property
    def not_named(self) -> bool:
        """Whether the review counts studies here that the map does not name."""
        return self.unattributed > 0

    @property
    def sentence(self) -> str:
        """The count in words: "The review counts 2 studies from United Kingdom (3.2) without naming them"."""
        what = counted(self.label, self.stated)
        if self.attributed == 0:
            them = "it" if self.stated == 1 else "them"
            return f"The review counts {self.stated} {what} ({self.section}) without naming {them}"
        return (
            f"The review counts {self.stated} {what} ({self.section}); the map names {self.attributed} of them, "
            f"not the other {self.unattributed}"
        )


def counted(label: str, n: int) -> str:
    """A claim's label as the thing counted: lower-case first word (unless an acronym), and for one, the first plural
    noun made singular ("Studies from Mexico" -> "study from Mexico", "6-week programmes ..." -> "6-week programme
    ...")."""
    words = label.split(" ")
    if words and words[0][1:2].islower():
        words[0] = words[0][:1].lower() + words[0][1:]
    if n == 1:
        for i, word in enumerate(words):
            if word.endswith("ies"):
                words[i] = word[:-3] + "y"
                break
            if word.endswith("s") and not word.endswith("ss"):
                words[i] = word[:-1]
                break
    return " ".join(words)


# What the claims' rows (FACET_CLAIMS_QUERY, the claims' conditions) read besides the claims graphs: sections, passages'
# quotes, conditions. A change stating none of these and nothing in a claims graph (a study added, updated or
# retracted) leaves the rows as they were.
CLAIM_PARTS = frozenset({
    ns.EVM + "condition", ns.EVM + "statedCount", ns.EVM + "section", ns.EVM + "sectionNumber", ns.EVM + "onFacet",
    ns.EVM + "hasValue", ns.EVM + "minValue", ns.EVM + "maxValue", ns.EVM + "attribution", ns.OA + "hasSelector",
    ns.OA + "exact",
})


def unless_claims_change(value: Built, delta: Delta) -> Built | None:
    """``value`` again for the map after ``delta`` when the change leaves the claims' rows alone; None (read them
    again) when it states something in a claims graph or about a claim's parts."""
    for quad in delta.quads:
        graph = quad.graph_name
        if isinstance(graph, ox.NamedNode) and graph.value.endswith("/claims"):
            return None
        if quad.predicate.value in CLAIM_PARTS:
            return None
    return value


def facet_claims(evidence_map: EvidenceMap) -> dict[str, list[Row]]:
    """``{facet IRI: rows of FACET_CLAIMS_QUERY}``, read once per version of the map and kept in the store cache: the
    claims do not depend on the request, and reading them takes time proportional to the store (0.3 s a facet at
    10,000 studies; 2.5 s at the first study list of a start before it was kept)."""

    def build() -> dict[str, list[Row]]:
        out: dict[str, list[Row]] = defaultdict(list)
        for row in claim_rows(evidence_map):
            out[str(row["facet"])].append(row)
        return dict(out)

    return evidence_map.derive_saved("review_counts.facet_claims", build, unless_claims_change)


def claim_rows(evidence_map: EvidenceMap) -> list[Row]:
    """The rows of FACET_CLAIMS_QUERY, its quotes read apart (:func:`evidencemap.model.claims.with_quotes`)."""
    return with_quotes(evidence_map, FACET_CLAIMS_QUERY)


def review_counts(
    evidence_map: EvidenceMap,
    vocabulary: Vocabulary,
    facet: Facet,
    concept_iri: str | None = None,
    max_support: str | None = None,
) -> list[ReviewCount]:
    """The review's study counts on values of ``facet`` (only those on ``concept_iri`` or a narrower concept, when
    given), each with the studies the map attributes to its scope by facts at least as strong as ``max_support``.
    Ordered by section, then label. Keep those with ``not_named`` to say where "the review does not say which".

    Computed once per version of the map for each facet, value and level (the attributed numbers pass over every
    study of the map: every study list asks for them)."""
    if not facet.is_concept_facet:
        return []
    key = f"review_counts.{facet.iri}.{concept_iri}.{max_support}"
    return list(evidence_map.derive(key, lambda: _review_counts(evidence_map, vocabulary, facet, concept_iri,
                                                                max_support)))


def _review_counts(
    evidence_map: EvidenceMap, vocabulary: Vocabulary, facet: Facet, concept_iri: str | None, max_support: str | None
) -> tuple[ReviewCount, ...]:
    rows = facet_claims(evidence_map).get(facet.iri, [])
    if concept_iri is not None:
        wanted = {c.iri for c in facet.concepts if concept_iri in {a.iri for a in facet.ancestors(c)}}
        rows = [r for r in rows if r["value"] in wanted or r["value"] == concept_iri]
    if not rows:
        return ()
    conditions: dict[str, list[dict[str, object]]] = evidence_map.derive(
        "review_counts.conditions", lambda: conditions_of(evidence_map), unless_claims_change)
    out = []
    for row in rows:
        selection = claim_selection(vocabulary, conditions.get(row["claim"], []))
        attributed = len(select_studies(evidence_map, selection, max_support)) if selection is not None else 0
        out.append(
            ReviewCount(
                claim=str(row["claim"]), facet=facet.name, value=str(row["value"]), label=str(row["label"]),
                stated=int(row["stated"]), section=str(row["section"]), quote=row.get("quote"),
                attribution=str(row.get("attribution", "")).rsplit("#", 1)[-1] or None, attributed=attributed,
            )
        )
    return tuple(sorted(out, key=lambda c: (c.section, c.label, c.value)))


def review_counts_by_value(
    evidence_map: EvidenceMap, vocabulary: Vocabulary, facet: Facet, max_support: str | None = None
) -> dict[str, list[ReviewCount]]:
    """``{concept IRI: its review counts}`` for every value of ``facet`` some count touches, a count on a narrower
    concept listed under each of its broader concepts too (as a study counts under them)."""
    by_iri = {c.iri: c for c in facet.concepts}
    out: dict[str, list[ReviewCount]] = defaultdict(list)
    for count in review_counts(evidence_map, vocabulary, facet, None, max_support):
        concept = by_iri.get(count.value)
        for value in facet.ancestors(concept) if concept is not None else ():
            out[value.iri].append(count)
    return dict(out)


def unattributed_by_value(
    evidence_map: EvidenceMap, vocabulary: Vocabulary, facet: Facet, max_support: str | None = None
) -> dict[str, ReviewCount]:
    """``{concept IRI: its largest count the map does not fully attribute}``: the values where "the review counts
    studies but does not say which" (what facet lists and the gap map mark)."""
    out: dict[str, ReviewCount] = {}
    for value, counts in review_counts_by_value(evidence_map, vocabulary, facet, max_support).items():
        open_counts = [c for c in counts if c.not_named]
        if open_counts:
            out[value] = max(open_counts, key=lambda c: (c.unattributed, c.stated))
    return out


__all__ = ["ReviewCount", "review_counts", "review_counts_by_value", "unattributed_by_value"]
