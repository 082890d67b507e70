"""SHACL validation of a map with the project's shapes, and its report.

The shapes are compiled to SPARQL and run on the map's store through its query gate (:mod:`.shacl_sparql`; pySHACL
only when the shapes use something the compiler does not translate). The data graph is the union of every named
graph of the map (vocabulary, data, claims, inferred), so shapes can check the data against the vocabulary it
uses. Two checks run beside SHACL and report in the same result (and the same report graph, as
``sh:ValidationResult`` nodes):

- **quotes**: every passage's ``oa:exact`` must occur in the map's own text, ``review.txt`` beside its files
  (whitespace normalised). The text is a file, not data of the graph, so it is read here rather than loaded as a
  literal for a SHACL-SPARQL ``CONTAINS``: it would otherwise be republished in the dumps and the SPARQL endpoint.
- **suggestions**: a finding or condition whose value is not a concept of its scheme gets the nearest concepts of
  that scheme as a suggestion (never applied).

Each result whose focus node is an IRI also says where it is written (``file:line`` of the Turtle lines that
start a description of it), so a person can go and fix it.
"""

from __future__ import annotations

import difflib
import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path

import pyoxigraph as ox
from rdflib import BNode, Graph, Literal, Namespace, URIRef
from rdflib.namespace import OWL, RDF

from evidencemap import namespaces as ns
from evidencemap.graph import shacl_sparql
from evidencemap.graph.shacl_sparql import OxTerm
from evidencemap.graph.store import EvidenceMap
from evidencemap.resources import shapes_files

SH = Namespace("http://www.w3.org/ns/shacl#")
SHAPES_IRI = URIRef("https://w3id.org/evidencemap/shapes")
REVIEW_TEXT = "review.txt"  # the review's text, beside a map's files: what every quote must be found in
QUOTE_SHAPE = URIRef(ns.SHAPES + "QuotesInReviewText")
VALUE_SHAPES = {ns.SHAPES + "FindingValueInScheme", ns.SHAPES + "ConditionValueInScheme"}


@dataclass(frozen=True)
class Violation:
    """One result of the report, as a person reads it."""

    severity: str
    focus: str
    path: str | None
    message: str
    shape: str | None
    where: tuple[str, ...] = ()  # "file:line" of the Turtle lines that describe the focus node, where known

    @property
    def names_a_duplicate(self) -> bool:
        return "used twice" in self.message


@dataclass(frozen=True)
class ValidationResult:
    conforms: bool
    report_graph: Graph
    report_text: str
    shapes_version: str
    violations: tuple[Violation, ...] = field(default=())

    @property
    def errors(self) -> tuple[Violation, ...]:
        return tuple(v for v in self.violations if v.severity == "Violation")

    @property
    def warnings(self) -> tuple[Violation, ...]:
        return tuple(v for v in self.violations if v.severity == "Warning")


# Cached on nothing: the shapes are files of the installed package, read once per process; they do not change with
# a map (the map's derived state, such as its validation report, is cached by EvidenceMap.derive instead).
@lru_cache(maxsize=1)
def shapes_graph() -> Graph:
    graph = Graph()
    for path in shapes_files():
        graph.parse(path, format="turtle")
    return graph


def shapes_version() -> str:
    version = shapes_graph().value(SHAPES_IRI, OWL.versionInfo)
    return str(version) if version is not None else "unversioned"


ALL_TRIPLES = "CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o }"


def map_as_graph(evidence_map: EvidenceMap) -> Graph:
    """The union of all graphs of the map, as an rdflib graph (read through the map's query gate)."""
    triples = evidence_map.construct(ALL_TRIPLES)
    union = Graph()
    union.parse(data=ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES), format="nt")
    return union


@dataclass(frozen=True)
class MapSource:
    """A map as the compiled validator's data: its queries through the map's gate (a scoped map: its own graphs)."""

    evidence_map: EvidenceMap

    def select(self, sparql: str) -> list[dict[str, OxTerm]]:
        solutions = self.evidence_map.solutions(sparql)
        names = [v.value for v in solutions.variables]
        return [{name: term for name, term in zip(names, solution, strict=True)
                 if isinstance(term, ox.NamedNode | ox.BlankNode | ox.Literal)} for solution in solutions]

    def triples(self) -> list[ox.Triple]:
        return self.evidence_map.construct(ALL_TRIPLES)


def validation_report(evidence_map: EvidenceMap) -> ValidationResult:
    """The map's validation, run once per version of the map (and kept in the store cache with an on-disk store:
    a second start does not validate the same files again)."""
    return evidence_map.derive_saved("validation", lambda: validate_map(evidence_map))


def validate_map(evidence_map: EvidenceMap) -> ValidationResult:
    """Validate the whole map (SHACL, then the quotes against the review's text); conforms is False only when a
    result has severity Violation. Duplicates ("used twice") come first among the violations: they explain the
    cascade of other results a copied block causes."""
    shacl = shacl_sparql.validate(MapSource(evidence_map), shapes_graph(),
                                  to_graph=lambda: map_as_graph(evidence_map))
    report_graph = shacl.graph()
    add_quote_results(report_graph, evidence_map)
    violations = []
    for result in report_graph.objects(None, SH.result):  # the report's results (not pySHACL's sh:detail ones)
        severity = report_graph.value(result, SH.resultSeverity)
        path = report_graph.value(result, SH.resultPath)
        shape = report_graph.value(result, SH.sourceShape)
        violations.append(
            Violation(
                severity=str(severity).rsplit("#", 1)[-1] if severity else "Violation",
                focus=str(report_graph.value(result, SH.focusNode)),
                path=str(path) if isinstance(path, URIRef) else None,
                message=str(report_graph.value(result, SH.resultMessage) or ""),
                shape=str(shape) if isinstance(shape, URIRef) else None,
            )
        )
    located = with_locations(with_suggestions(violations, evidence_map), evidence_map)
    located.sort(key=lambda v: (v.severity != "Violation", not v.names_a_duplicate, v.focus, v.message))
    conforms = not any(v.severity == "Violation" for v in located)
    for report in report_graph.subjects(RDF.type, SH.ValidationReport):
        report_graph.set((report, SH.conforms, Literal(conforms)))
    return ValidationResult(conforms, report_graph, report_as_text(located), shapes_version(), tuple(located))


def report_as_text(violations: Sequence[Violation]) -> str:
    """The results as plain text, each message whole, with where to fix it."""
    lines = [f"Conforms: {not any(v.severity == 'Violation' for v in violations)}",
             f"Results ({len(violations)}):"]
    for v in violations:
        lines.append(f"{v.severity}: {v.message}")
        lines.append(f"  focus: {v.focus}" + (f" ({', '.join(v.where)})" if v.where else ""))
    return "\n".join(lines)


# -- quotes against the review's text --------------------------------------------------------------------------

PASSAGES = ns.sparql_prefixes(("evm", "oa")) + "SELECT ?passage ?quote WHERE { ?passage a evm:Passage ; " \
    "oa:hasSelector/oa:exact ?quote }"


def normalised(text: str) -> str:
    """Whitespace collapsed to single spaces (as tests/test_map_fidelity.py compares quotes)."""
    return " ".join(text.split())


def review_texts(sources: Iterable[Path]) -> list[Path]:
    """The ``review.txt`` files beside the map's files (one per folder that has one)."""
    folders = sorted({path.parent for path in sources})
    return [folder / REVIEW_TEXT for folder in folders if (folder / REVIEW_TEXT).is_file()]


def quote_problems(evidence_map: EvidenceMap) -> list[tuple[str, str, str]]:
    """(passage IRI, quote, message) for each passage whose words are not in the map's text, or for every passage
    when the map has no text to check them against."""
    slugs = evidence_map.map_slugs()
    if evidence_map.slug is None and len(slugs) > 1:  # several maps: each map's quotes against its own text
        return [problem for slug in slugs for problem in quote_problems(evidence_map.scoped(slug))]
    rows = evidence_map.select(PASSAGES)
    if not rows:
        return []
    texts = review_texts(evidence_map.sources)
    if not texts:
        folders = ", ".join(sorted({str(p.parent) for p in evidence_map.sources}))
        return [(str(rows[0]["passage"]), "", f"The map has {len(rows)} passage(s) but no {REVIEW_TEXT} beside its "
                 f"files ({folders}): put the review's text there, so that every quote can be checked against it.")]
    text = " ".join(normalised(path.read_text(encoding="utf-8")) for path in texts)
    names = " or ".join(str(path) for path in texts)
    return [
        (str(row["passage"]), str(row["quote"]),
         f"Passage {row['passage']} quotes \"{row['quote']}\", which is not in the review's text ({names}): copy "
         "the review's words verbatim (only spacing and line breaks may differ).")
        for row in sorted(rows, key=lambda r: str(r["passage"]))
        if normalised(str(row["quote"])) not in text
    ]


def add_quote_results(report_graph: Graph, evidence_map: EvidenceMap) -> int:
    """Each quote problem as a Violation of the report graph, beside the SHACL results; how many there are."""
    reports = list(report_graph.subjects(RDF.type, SH.ValidationReport))
    problems = quote_problems(evidence_map)
    for passage, quote, message in problems:
        node = BNode()
        report_graph.add((node, RDF.type, SH.ValidationResult))
        report_graph.add((node, SH.focusNode, URIRef(passage)))
        report_graph.add((node, SH.resultSeverity, SH.Violation))
        report_graph.add((node, SH.resultMessage, Literal(message)))
        report_graph.add((node, SH.sourceShape, QUOTE_SHAPE))
        if quote:
            report_graph.add((node, SH.value, Literal(quote)))
        for report in reports:
            report_graph.add((report, SH.result, node))
    return len(problems)


# -- suggestions for values outside their scheme ---------------------------------------------------------------

VALUE_AND_SCHEME = ns.sparql_prefixes(("evm", "rdf", "skos")) + """
SELECT ?value ?scheme WHERE {
  { ?focus rdf:predicate ?p ; rdf:object ?value . ?p evm:valueScheme ?scheme }
  UNION { ?focus evm:onFacet ?facet ; evm:hasValue ?value . ?facet evm:facetScheme ?scheme }
}"""
SCHEME_CONCEPTS = ns.sparql_prefixes(("skos",)) + "SELECT ?concept ?label WHERE { ?concept skos:inScheme ?scheme ; " \
    "skos:prefLabel ?label }"


def suggestion(evidence_map: EvidenceMap, focus: str) -> str:
    """' Did you mean <iri> ("label")?' for the concepts of the scheme nearest to the focus node's value, or ""."""
    if not focus.startswith(("http://", "https://")):
        return ""
    rows = evidence_map.select(VALUE_AND_SCHEME, {"focus": ox.NamedNode(focus)})
    for row in rows:
        concepts = evidence_map.select(SCHEME_CONCEPTS, {"scheme": ox.NamedNode(str(row["scheme"]))})
        by_slug = {ns.last_segment(str(c["concept"])): c for c in concepts}
        near = difflib.get_close_matches(ns.last_segment(str(row["value"])), list(by_slug), n=2, cutoff=0.6)
        if near:
            return " Did you mean " + " or ".join(
                f"{by_slug[s]['concept']} (\"{by_slug[s]['label']}\")" for s in near) + "?"
    return ""


def with_suggestions(violations: list[Violation], evidence_map: EvidenceMap) -> list[Violation]:
    return [replace(v, message=v.message + suggestion(evidence_map, v.focus)) if v.shape in VALUE_SHAPES else v
            for v in violations]


# -- where a focus node is written --------------------------------------------------------------------------------

PREFIX_LINE = re.compile(r"^\s*@?prefix\s+([\w.-]*):\s*<([^>]*)>", re.IGNORECASE)
SUBJECT_LINE = re.compile(r"^(<[^>\s]*>|[\w.-]*:[^\s;,]*)")


def subject_lines(path: Path) -> dict[str, list[int]]:
    """IRI -> the lines of a Turtle file that start a description of it (a subject at the start of a line)."""
    prefixes: dict[str, str] = {}
    found: dict[str, list[int]] = defaultdict(list)
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        return {}
    for number, line in enumerate(lines, start=1):
        declared = PREFIX_LINE.match(line)
        if declared:
            prefixes[declared.group(1)] = declared.group(2)
            continue
        subject = SUBJECT_LINE.match(line)
        if not subject:
            continue
        token = subject.group(1)
        if token.startswith("<"):
            found[token[1:-1]].append(number)
        else:
            prefix, _, local = token.partition(":")
            if prefix in prefixes:
                found[prefixes[prefix] + local.replace("\\", "")].append(number)
    return found


def with_locations(violations: list[Violation], evidence_map: EvidenceMap) -> list[Violation]:
    """Each result with the ``file:line`` places its focus node is described at, in the map's Turtle files."""
    places: dict[str, list[str]] = defaultdict(list)
    for path in evidence_map.sources:
        if path.suffix.lower() in {".ttl", ".trig"}:
            for iri, numbers in subject_lines(path).items():
                places[iri].extend(f"{path}:{n}" for n in numbers)
    return [replace(v, where=tuple(places.get(evidence_map.canonical(v.focus), ()))) for v in violations]
