"""The claims check: every count the review states, recomputed from the per-study facts or from the other counts
of its selection flow, with a verdict.

Verdicts: ``agrees``; ``disagrees`` (a data error to fix, or an inconsistency of the source that the graph explains in
a source note); ``not attributable to studies`` (the review gives the number without naming studies and its text does
not force which ones they are, or the number counts records that are not studies of the map).
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field

from evidencemap import namespaces as ns
from evidencemap.graph.store import EvidenceMap
from evidencemap.model.facets import Choice, Selection, select_studies
from evidencemap.model.vocabulary import Vocabulary

AGREES = "agrees"
DISAGREES = "disagrees"
NOT_ATTRIBUTABLE = "not attributable to studies"

PREFIXES = ns.sparql_prefixes(("evm", "rdfs", "prov", "oa"))

CLAIMS_QUERY = PREFIXES + """
SELECT ?claim ?kind ?label ?stated ?section ?attribution ?quote ?stage ?includedCount
WHERE {
  VALUES ?kind { evm:StudyCountClaim evm:FlowCountClaim }
  ?claim a ?kind ; rdfs:label ?label ; evm:statedCount ?stated ; evm:section/evm:sectionNumber ?section .
  OPTIONAL { ?claim evm:attribution ?attribution }
  OPTIONAL { ?claim prov:wasDerivedFrom/oa:hasSelector/oa:exact ?quote }
  OPTIONAL { ?claim evm:aboutStage ?stage }
  OPTIONAL { ?claim evm:countsIncludedStudies ?includedCount }
}
"""

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

STAGES_QUERY = PREFIXES + """
SELECT ?stage ?label ?count ?derived ?relation ?other WHERE {
  ?stage a evm:FlowStage ; rdfs:label ?label ; evm:recordCount ?count .
  OPTIONAL { ?stage evm:countDerived ?derived }
  OPTIONAL {
    ?stage ?relation ?other .
    VALUES ?relation { evm:sumOf evm:previousStage evm:removedStage evm:addedStage }
  }
}
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


@dataclass
class _Stage:
    label: str
    count: int
    derived: bool
    relations: dict[str, list[str]]


def section_key(section: str) -> tuple[int, tuple[int, ...], str]:
    """Order sections as the review does: Abstract, numbered sections, then unnumbered ones."""
    if section == "Abstract":
        return (0, (), section)
    if re.fullmatch(r"\d+(\.\d+)*", section):
        return (1, tuple(int(p) for p in section.split(".")), section)
    return (2, (), section)


def _stage_value(stages: dict[str, _Stage], iri: str, seen: frozenset[str] = frozenset()) -> int | None:
    """A stage's count as its relations to other stages give it (None for a stage with no relation)."""
    stage = stages.get(iri)
    if stage is None or iri in seen or not stage.relations:
        return None
    seen = seen | {iri}

    def value(other: str) -> int:
        recomputed = _stage_value(stages, other, seen)
        return recomputed if recomputed is not None else stages[other].count

    rel = stage.relations
    if "sumOf" in rel:
        return sum(value(o) for o in rel["sumOf"])
    total = sum(value(o) for o in rel.get("previousStage", []))
    total -= sum(value(o) for o in rel.get("removedStage", []))
    total += sum(value(o) for o in rel.get("addedStage", []))
    return total


def _load_stages(evidence_map: EvidenceMap) -> dict[str, _Stage]:
    stages: dict[str, _Stage] = {}
    for row in evidence_map.select(STAGES_QUERY):
        stage = stages.setdefault(
            row["stage"], _Stage(row["label"], int(row["count"]), bool(row.get("derived", False)), defaultdict(list))
        )
        if "relation" in row:
            stage.relations[row["relation"].rsplit("#", 1)[-1]].append(row["other"])
    return stages


def _selection(vocabulary: Vocabulary, conditions: list[dict[str, object]]) -> Selection | None:
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


def check_claims(evidence_map: EvidenceMap, vocabulary: Vocabulary) -> list[ClaimResult]:
    """Recompute every claim of the map; rows sorted by section, then label."""
    conditions: dict[str, list[dict[str, object]]] = defaultdict(list)
    for row in evidence_map.select(CONDITIONS_QUERY):
        conditions[row["claim"]].append(row)
    stated_studies: dict[str, list[int]] = defaultdict(list)
    for row in evidence_map.select(STATED_STUDIES_QUERY):
        stated_studies[row["claim"]].append(int(row.get("ref", -1)))
    notes: dict[str, list[str]] = defaultdict(list)
    for row in evidence_map.select(NOTES_QUERY):
        notes[row["subject"]].append(row["comment"])
    stages = _load_stages(evidence_map)
    included = int(evidence_map.select(INCLUDED_QUERY)[0]["n"])
    refs_by_study = {
        row["s"]: int(row["ref"])
        for row in evidence_map.select(
            PREFIXES + "SELECT ?s ?ref WHERE { ?s a evm:IncludedStudy ; evm:referenceNumber ?ref }"
        )
    }

    results = []
    for row in evidence_map.select(CLAIMS_QUERY):
        iri, kind = row["claim"], row["kind"].rsplit("#", 1)[-1]
        stated = int(row["stated"])
        attribution = row.get("attribution", "").rsplit("#", 1)[-1] or None
        named = tuple(sorted(stated_studies.get(iri, [])))
        studies: tuple[int, ...] = ()
        explanation = list(notes.get(iri, []))
        if kind == "StudyCountClaim":
            selection = _selection(vocabulary, conditions.get(iri, []))
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
        else:
            recomputed = _stage_value(stages, row.get("stage", ""))
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
            recomputed = _stage_value(stages, iri)
            results.append(
                ClaimResult(
                    iri=iri, label=f"{stage.label} (not printed; follows from the flow)", section="3.1",
                    kind="FlowStage", stated=stage.count, recomputed=recomputed,
                    verdict=AGREES if recomputed == stage.count else DISAGREES,
                )
            )
    return sorted(results, key=lambda r: (section_key(r.section), r.kind != "FlowCountClaim", r.label))


def summary(results: list[ClaimResult]) -> dict[str, int]:
    """How many claims got each verdict."""
    counts: dict[str, int] = {AGREES: 0, DISAGREES: 0, NOT_ATTRIBUTABLE: 0}
    for r in results:
        counts[r.verdict] += 1
    return counts
