"""The claims check: every count the review states, recomputed from the per-study facts or from the other counts
of its selection flow (or, for a plain ``evm:Claim`` such as "six databases", from the sources it names and the
review's searched sources), with a verdict.

Verdicts: ``agrees``; ``disagrees`` (a data error to fix, or an inconsistency of the source that the graph explains in
a source note); ``not attributable to studies`` (the review gives the number without naming studies and its text does
not force which ones they are, or the number counts records that are not studies of the map).
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field

import pyoxigraph as ox

from evidencemap import namespaces as ns
from evidencemap.graph.store import EvidenceMap, Row, Values
from evidencemap.model.facets import Choice, Selection, select_studies
from evidencemap.model.flow import flows_of
from evidencemap.model.vocabulary import Vocabulary

AGREES = "agrees"
DISAGREES = "disagrees"
NOT_ATTRIBUTABLE = "not attributable to studies"

PREFIXES = ns.sparql_prefixes(("evm", "rdfs", "prov", "oa"))

CLAIMS_QUERY = PREFIXES + """
SELECT ?claim ?kind ?label ?stated ?section ?attribution ?quote ?stage ?includedCount
WHERE {
  VALUES ?kind { evm:StudyCountClaim evm:FlowCountClaim evm:Claim }
  ?claim a ?kind ; rdfs:label ?label ; evm:statedCount ?stated ; evm:section/evm:sectionNumber ?section .
  OPTIONAL { ?claim evm:attribution ?attribution }
  OPTIONAL { ?claim prov:wasDerivedFrom/oa:hasSelector/oa:exact ?quote }
  OPTIONAL { ?claim evm:aboutStage ?stage }
  OPTIONAL { ?claim evm:countsIncludedStudies ?includedCount }
}
"""

# A claim's quote, the review's words: an OPTIONAL of CLAIMS_QUERY and of review_counts.FACET_CLAIMS_QUERY, which
# with_quotes reads in a second step (pyoxigraph evaluates the OPTIONAL's path over every finding of the store before
# joining it: 3.2 s at 10,000 studies for a map without a single claim).
QUOTE_OPTIONAL = "  OPTIONAL { ?claim prov:wasDerivedFrom/oa:hasSelector/oa:exact ?quote }\n"
QUOTES_QUERY = PREFIXES + "SELECT ?claim ?quote WHERE { ?claim prov:wasDerivedFrom/oa:hasSelector/oa:exact ?quote }"

CONDITIONS_QUERY = PREFIXES + """
SELECT ?claim ?condition ?facet ?value ?min ?max WHERE {
  ?claim evm:condition ?condition . ?condition evm:onFacet ?facet .
  OPTIONAL { ?condition evm:hasValue ?value }
  OPTIONAL { ?condition evm:minValue ?min }
  OPTIONAL { ?condition evm:maxValue ?max }
}
"""

STATED_STUDIES_QUERY = PREFIXES + """
SELECT ?claim ?study ?ref WHERE { ?claim evm:statedStudy ?study . OPTIONAL { ?study evm:referenceNumber ?ref } }
"""

NOTES_QUERY = PREFIXES + """
SELECT ?subject ?comment WHERE { ?subject evm:sourceNote/rdfs:comment ?comment }
"""

# The sources a plain claim names (evm:statedSource), each with whether the review searched it (evm:searchedSource).
STATED_SOURCES_QUERY = PREFIXES + """
SELECT ?claim ?source (COUNT(?review) AS ?searched) WHERE {
  ?claim evm:statedSource ?source .
  OPTIONAL { ?review evm:searchedSource ?source }
}
GROUP BY ?claim ?source
"""

INCLUDED_QUERY = PREFIXES + "SELECT (COUNT(DISTINCT ?s) AS ?n) WHERE { ?s a evm:IncludedStudy }"


@dataclass(frozen=True)
class ClaimResult:
    """One row of the claims check."""

    iri: str
    label: str
    section: str
    kind: str
    stated: int
    recomputed: int | None
    verdict: str
    studies: tuple[int, ...] = ()
    stated_studies: tuple[int, ...] = ()
    attribution: str | None = None
    quote: str | None = None
    explanation: tuple[str, ...] = field(default=())

    @property
    def slug(self) -> str:
        return ns.last_segment(self.iri)


def section_key(section: str) -> tuple[int, tuple[int, ...], str]:
    """Order sections as the review does: Abstract, numbered sections, then unnumbered ones."""
    if section == "Abstract":
        return (0, (), section)
    if re.fullmatch(r"\d+(\.\d+)*", section):
        return (1, tuple(int(p) for p in section.split(".")), section)
    return (2, (), section)


def claim_selection(vocabulary: Vocabulary, conditions: list[dict[str, object]]) -> Selection | None:
    """The studies a claim's scope describes; None when a condition names an unknown facet or concept."""
    by_iri = {f.iri: f for f in vocabulary.facets}
    choices = []
    for cond in conditions:
        facet = by_iri.get(str(cond["facet"]))
        if facet is None:
            return None
        if "value" in cond:
            found = vocabulary.concept_by_iri(str(cond["value"]))
            if found is None:
                return None
            choices.append(Choice(facet, concepts=(found[1],)))
        else:
            low, high = int(str(cond.get("min", 0))), int(str(cond.get("max", 9999)))
            choices.append(Choice(facet, literals=tuple(str(y) for y in range(low, high + 1))))
    return Selection(tuple(choices))


def conditions_of(evidence_map: EvidenceMap) -> dict[str, list[dict[str, object]]]:
    """``{claim IRI: its conditions}`` (rows of ``CONDITIONS_QUERY``: facet, and value or min/max), for
    :func:`claim_selection`."""
    conditions: dict[str, list[dict[str, object]]] = defaultdict(list)
    for row in evidence_map.select(CONDITIONS_QUERY):
        conditions[row["claim"]].append(row)
    return conditions


def with_quotes(evidence_map: EvidenceMap, query: str) -> list[Row]:
    """The rows of ``query``, which holds :data:`QUOTE_OPTIONAL`, read in two steps: the query without it, then the
    quotes of the claims it found, bound as a VALUES block. A row for each quote, as the OPTIONAL gives them; a claim
    without a quote keeps its row without one."""
    if QUOTE_OPTIONAL not in query:
        raise ValueError("the query has no OPTIONAL quote to read apart")
    rows = evidence_map.select(query.replace(QUOTE_OPTIONAL, ""))
    claims = sorted({str(row["claim"]) for row in rows})
    quotes: dict[str, list[object]] = defaultdict(list)
    if claims:
        for found in evidence_map.select(QUOTES_QUERY, Values.column("claim", [ox.NamedNode(c) for c in claims])):
            quotes[str(found["claim"])].append(found["quote"])
    out: list[Row] = []
    for row in rows:
        found_quotes = quotes.get(str(row["claim"]), [])
        out += [{**row, "quote": quote} for quote in found_quotes] if found_quotes else [row]
    return out


def check_claims(evidence_map: EvidenceMap, vocabulary: Vocabulary) -> list[ClaimResult]:
    """Recompute every claim of the map; rows sorted by section, then label."""
    conditions = conditions_of(evidence_map)
    stated_studies: dict[str, list[int]] = defaultdict(list)
    for row in evidence_map.select(STATED_STUDIES_QUERY):
        stated_studies[row["claim"]].append(int(row.get("ref", -1)))
    sources: dict[str, dict[str, bool]] = defaultdict(dict)
    for row in evidence_map.select(STATED_SOURCES_QUERY):
        sources[row["claim"]][row["source"]] = int(row["searched"]) > 0
    notes: dict[str, list[str]] = defaultdict(list)
    for row in evidence_map.select(NOTES_QUERY):
        notes[row["subject"]].append(row["comment"])
    stages = {iri: stage for flow in flows_of(evidence_map).values() for iri, stage in flow.stages.items()}
    flow_of_stage = {iri: flow for flow in flows_of(evidence_map).values() for iri in flow.stages}

    def recomputed_stage(iri: str) -> int | None:
        flow = flow_of_stage.get(iri)
        return flow.recomputed(iri) if flow is not None else None
    included = int(evidence_map.select(INCLUDED_QUERY)[0]["n"])
    refs_by_study = {
        row["s"]: int(row["ref"])
        for row in evidence_map.select(
            PREFIXES + "SELECT ?s ?ref WHERE { ?s a evm:IncludedStudy ; evm:referenceNumber ?ref }"
        )
    }

    results = []
    for row in with_quotes(evidence_map, CLAIMS_QUERY):
        iri, kind = row["claim"], row["kind"].rsplit("#", 1)[-1]
        stated = int(row["stated"])
        attribution = row.get("attribution", "").rsplit("#", 1)[-1] or None
        named = tuple(sorted(stated_studies.get(iri, [])))
        studies: tuple[int, ...] = ()
        explanation = list(notes.get(iri, []))
        if kind == "StudyCountClaim":
            selection = claim_selection(vocabulary, conditions.get(iri, []))
            if attribution == "NotAttributable":
                recomputed, verdict = None, NOT_ATTRIBUTABLE
            elif selection is None:
                recomputed, verdict = None, DISAGREES
                explanation.append("The claim's scope names a facet or concept the vocabulary does not define.")
            else:
                studies = tuple(sorted(refs_by_study.get(s, -1) for s in select_studies(evidence_map, selection)))
                recomputed = len(studies)
                agrees = recomputed == stated and (not named or set(named) == set(studies))
                verdict = AGREES if agrees else DISAGREES
        elif kind == "Claim":
            # A count of things other than studies, naming what it counts: recomputed as the named sources the review
            # searched; it agrees when that is the stated number and every named source was searched.
            named_sources = sources.get(iri, {})
            recomputed = sum(1 for searched in named_sources.values() if searched)
            unsearched = sorted(ns.last_segment(s) for s, searched in named_sources.items() if not searched)
            if unsearched:
                explanation.append(f"The review names sources it did not search: {', '.join(unsearched)}.")
            verdict = AGREES if named_sources and recomputed == stated and not unsearched else DISAGREES
        else:
            recomputed = recomputed_stage(row.get("stage", ""))
            consistent = True
            if row.get("includedCount"):
                studies = tuple(sorted(refs_by_study.values()))
                if recomputed is not None and recomputed != included:
                    consistent = False
                    explanation.append(f"The flow gives {recomputed} but the map holds {included} included studies.")
                recomputed = included if recomputed is None else recomputed
            elif recomputed is None and named:
                studies = tuple(r for r in named if r in refs_by_study.values())
                recomputed = len(studies)
            if recomputed is None:
                verdict = NOT_ATTRIBUTABLE
            else:
                verdict = AGREES if consistent and recomputed == stated else DISAGREES
        results.append(
            ClaimResult(
                iri=iri, label=row["label"], section=row["section"], kind=kind, stated=stated,
                recomputed=recomputed, verdict=verdict, studies=studies, stated_studies=named,
                attribution=attribution, quote=row.get("quote"), explanation=tuple(explanation),
            )
        )
    for iri, stage in stages.items():
        if stage.derived:
            recomputed = recomputed_stage(iri)
            results.append(
                ClaimResult(
                    iri=iri, label=f"{stage.label} (not printed; follows from the flow)", section="3.1",
                    kind="FlowStage", stated=stage.records, recomputed=recomputed,
                    verdict=AGREES if recomputed == stage.records else DISAGREES,
                )
            )
    return sorted(results, key=lambda r: (section_key(r.section), r.kind != "FlowCountClaim", r.label))


def summary(results: list[ClaimResult]) -> dict[str, int]:
    """How many claims got each verdict."""
    counts: dict[str, int] = {AGREES: 0, DISAGREES: 0, NOT_ATTRIBUTABLE: 0}
    for r in results:
        counts[r.verdict] += 1
    return counts
