"""The PRISMA-ScR selection flow of each review: its stages, their counts and how they link, read once per version
of the map and shared by the review's record (``/api/review``), the flow diagram and the claims check.

Each ``evm:FlowStage`` carries its label, phase, order and number of records, and says whether that number is printed
in the review or derived from the printed ones (``evm:countDerived``). Stages are linked by ``evm:previousStage``
(the main column), ``evm:removedStage`` (records excluded on the way), ``evm:addedStage`` (records added) and
``evm:sumOf`` (the reasons an exclusion is broken into).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from evidencemap import namespaces as ns
from evidencemap.errors import NotFound
from evidencemap.graph.store import EvidenceMap

PREFIXES = ns.sparql_prefixes(("evm", "rdfs", "dcterms", "prov", "oa"))

STAGES_QUERY = PREFIXES + """
SELECT ?review ?title ?citation ?stage ?label ?phase ?order ?count ?derived ?rationale WHERE {
  ?review a evm:ScopingReview ; evm:flowStage ?stage .
  OPTIONAL { ?review dcterms:title ?title }
  OPTIONAL { ?review evm:shortCitation ?citation }
  ?stage evm:flowOrder ?order ; evm:recordCount ?count .
  OPTIONAL { ?stage rdfs:label ?label }
  OPTIONAL { ?stage evm:flowPhase ?phase }
  OPTIONAL { ?stage evm:countDerived ?derived }
  OPTIONAL { ?stage evm:rationale ?rationale }
} ORDER BY ?review ?order"""

LINKS_QUERY = PREFIXES + """SELECT ?stage ?relation ?target WHERE {
  ?review a evm:ScopingReview ; evm:flowStage ?stage .
  VALUES ?relation { evm:previousStage evm:removedStage evm:addedStage evm:sumOf }
  ?stage ?relation ?target .
}"""

# Where the review says so: the section of a stage, and the words it quotes.
SOURCES_QUERY = PREFIXES + """SELECT ?stage ?kind ?value WHERE {
  ?review a evm:ScopingReview ; evm:flowStage ?stage .
  { ?stage evm:section ?s . ?s evm:sectionNumber ?value . BIND("section" AS ?kind) }
  UNION { ?stage prov:wasDerivedFrom ?s . ?s evm:sectionNumber ?value . BIND("section" AS ?kind) }
  UNION { ?stage prov:wasDerivedFrom ?s . ?s oa:hasSelector/oa:exact ?value . BIND("quote" AS ?kind) }
}"""

RELATIONS = {"previousStage": "previous", "removedStage": "removed", "addedStage": "added", "sumOf": "parts"}


@dataclass
class FlowStage:
    """One box of the flow: a number of records at a stage of the selection."""

    iri: str
    order: int
    label: str
    records: int
    derived: bool
    phase: str | None = None
    rationale: str | None = None
    section: str | None = None
    quote: str | None = None
    previous: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    added: list[str] = field(default_factory=list)
    parts: list[str] = field(default_factory=list)

    @property
    def key(self) -> str:
        return ns.last_segment(self.iri)


@dataclass
class Flow:
    """The flow of one review: its stages by IRI."""

    review: str
    title: str
    citation: str
    stages: dict[str, FlowStage]

    def ordered(self, iris: Iterable[str] | None = None) -> list[FlowStage]:
        """The stages ``iris`` (every stage when None) that the flow holds, top to bottom."""
        chosen = self.stages if iris is None else (i for i in iris if i in self.stages)
        return sorted((self.stages[i] for i in chosen), key=lambda s: s.order)

    def main(self) -> list[FlowStage]:
        """The main column: every stage that is not an exclusion, an addition or a reason of another."""
        side = {i for s in self.stages.values() for i in (*s.removed, *s.added, *s.parts)}
        return self.ordered([i for i in self.stages if i not in side])

    def following(self, stage: FlowStage, value: Callable[[FlowStage], int]) -> int:
        """What the stages ``stage`` follows give: previous − removed + added, each counted by ``value``."""
        total = sum(value(s) for s in self.ordered(stage.previous))
        total -= sum(value(s) for s in self.ordered(stage.removed))
        return total + sum(value(s) for s in self.ordered(stage.added))

    def reasons(self, stage: FlowStage, value: Callable[[FlowStage], int]) -> int:
        """The sum of ``stage``'s reasons (``evm:sumOf``), each counted by ``value``."""
        return sum(value(s) for s in self.ordered(stage.parts))

    def problems(self) -> list[str]:
        """Counts that do not add up with the printed counts of their neighbours."""
        out = []
        for stage in self.ordered():
            if stage.previous:
                expected = self.following(stage, lambda s: s.records)
                if expected != stage.records:
                    out.append(f"{stage.label}: n = {stage.records:,}, but the stages it follows give {expected:,}.")
            if stage.parts:
                total = self.reasons(stage, lambda s: s.records)
                if total != stage.records:
                    out.append(f"{stage.label}: n = {stage.records:,}, but its reasons add up to {total:,}.")
        return out

    def recomputed(self, iri: str, seen: frozenset[str] = frozenset()) -> int | None:
        """A stage's count as the flow gives it, each stage it rests on recomputed in turn (None for a stage linked
        to no other): the sum of its reasons, else previous − removed + added."""
        stage = self.stages.get(iri)
        if stage is None or iri in seen or not (stage.previous or stage.removed or stage.added or stage.parts):
            return None
        seen = seen | {iri}

        def value(other: FlowStage) -> int:
            found = self.recomputed(other.iri, seen)
            return found if found is not None else other.records

        return self.reasons(stage, value) if stage.parts else self.following(stage, value)


def read_flows(evidence_map: EvidenceMap) -> dict[str, Flow]:
    """Every review's flow, by review IRI (reviews with a flow only), read from the map."""
    flows: dict[str, Flow] = {}
    for row in evidence_map.select(STAGES_QUERY):
        review = str(row["review"])
        flow = flows.setdefault(review, Flow(review, str(row.get("title", "")), str(row.get("citation", "")), {}))
        stage = str(row["stage"])
        if stage not in flow.stages:
            flow.stages[stage] = FlowStage(
                iri=stage, order=int(row["order"]), label=str(row.get("label", stage)), records=int(row["count"]),
                derived=row.get("derived") is True, phase=_text(row.get("phase")),
                rationale=_text(row.get("rationale")),
            )
    every = {iri: stage for flow in flows.values() for iri, stage in flow.stages.items()}
    for row in evidence_map.select(LINKS_QUERY):
        linked = every.get(str(row["stage"]))
        if linked is not None:
            getattr(linked, RELATIONS[str(row["relation"]).rsplit("#", 1)[-1]]).append(str(row["target"]))
    sources: dict[str, dict[str, str]] = defaultdict(dict)
    for row in evidence_map.select(SOURCES_QUERY):
        sources[str(row["stage"])].setdefault(str(row["kind"]), str(row["value"]))
    for iri, cited in every.items():
        cited.section, cited.quote = sources[iri].get("section"), sources[iri].get("quote")
    return flows


def _text(value: object) -> str | None:
    return None if value is None or value == "" else str(value)


def flows_of(evidence_map: EvidenceMap) -> dict[str, Flow]:
    """The map's flows, read once per version of the map."""
    return evidence_map.derive("flows", lambda: read_flows(evidence_map))


def flow_of(evidence_map: EvidenceMap, review: str | None = None) -> Flow:
    """The flow of ``review`` (IRI or slug; the first review with a flow when None).

    :raises NotFound: when the map holds no flow stages (for that review).
    """
    flows = flows_of(evidence_map)
    chosen = [f for iri, f in flows.items() if review is None or iri == review or ns.last_segment(iri) == review]
    if not chosen:
        hint = f"Reviews with a flow: {', '.join(flows)}." if flows else "This map has no evm:FlowStage."
        raise NotFound(f"No PRISMA flow for review {review!r}." if review else "No PRISMA flow in this map.", hint=hint)
    return chosen[0]
