"""SHACL validation of a map with the project's shapes (pySHACL), and its report.

The data graph is the union of every named graph of the store (vocabulary, data, claims, inferred), so shapes
can check the data against the vocabulary it uses.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

import pyoxigraph as ox
from pyshacl import validate
from rdflib import Graph, Namespace, URIRef
from rdflib.namespace import OWL, RDF

from evidencemap.graph.store import EvidenceMap
from evidencemap.resources import shapes_files

SH = Namespace("http://www.w3.org/ns/shacl#")
SHAPES_IRI = URIRef("https://w3id.org/evidencemap/shapes")


@dataclass(frozen=True)
class Violation:
    """One result of the report, as a person reads it."""

    severity: str
    focus: str
    path: str | None
    message: str
    shape: str | None


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


def validation_report(evidence_map: EvidenceMap) -> ValidationResult:
    """The map's validation, run once per version of the map."""
    return evidence_map.derive("validation", lambda: validate_map(evidence_map))


def validate_map(evidence_map: EvidenceMap) -> ValidationResult:
    """Validate the whole map; conforms is False only when a result has severity Violation."""
    data = map_as_graph(evidence_map)
    _, report_graph, report_text = validate(
        data,
        shacl_graph=shapes_graph(),
        inference="none",
        allow_warnings=True,
        allow_infos=True,
        advanced=True,
    )
    violations = []
    for result in report_graph.subjects(RDF.type, SH.ValidationResult):
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
    violations.sort(key=lambda v: (v.severity != "Violation", v.focus, v.message))
    conforms = not any(v.severity == "Violation" for v in violations)
    return ValidationResult(conforms, report_graph, str(report_text), shapes_version(), tuple(violations))
