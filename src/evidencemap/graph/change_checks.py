"""The check of one change to a living map, on the subgraph it touches (incremental, not the whole map).

:func:`check_subgraph` is what :mod:`evidencemap.model.changes` runs before a change is journalled: SHACL with the
map's shapes (compiled to SPARQL, :mod:`.shacl_sparql`, on a small in-memory store of the subgraph) on the changed
resources, their vocabulary and the types of what they point to; the quotes of new
passages against the review's text; slugs and reference numbers unique in the whole map (index lookups).
"""

from __future__ import annotations

from collections.abc import Sequence, Set
from itertools import islice

import pyoxigraph as ox
from rdflib import URIRef

from evidencemap import namespaces as ns
from evidencemap.graph import shacl_sparql
from evidencemap.graph.journal import rebased
from evidencemap.graph.shacl_sparql import SH, StoreSource
from evidencemap.graph.store import EvidenceMap
from evidencemap.graph.validation import normalised, review_texts, shapes_graph
from evidencemap.graph.writes import LivingMap, Problem, canonical_quads

SMALL_DESCRIPTION = 50
# From what the change points to, what their own descriptions point to through these (the class hierarchy, a
# concept's scheme and broader concepts), so that sh:class and the value-in-scheme checks see what they read.
SECOND_HOP = {ns.RDF + "type", ns.RDFS + "subClassOf", ns.SKOS + "inScheme", ns.SKOS + "broader"}


def _context(evidence_map: EvidenceMap, triples: Sequence[ox.Triple]) -> list[ox.Triple]:
    """The descriptions of what the changed resources point to (objects and predicates: passages, concepts, fact
    properties, classes) and, one step further, of their classes, schemes and broader concepts: only what the
    shapes read about them, never the whole vocabulary (whose own nodes the shapes would otherwise check again at
    every change). A description of more than SMALL_DESCRIPTION triples (a review's links to its thousands of
    studies) is reduced to its types."""
    seen = {t.subject.value for t in triples if isinstance(t.subject, ox.NamedNode)}
    frontier = {t.object.value for t in triples if isinstance(t.object, ox.NamedNode)}
    frontier |= {t.predicate.value for t in triples}
    context: list[ox.Triple] = []
    for hop in range(2):
        frontier -= seen
        seen |= frontier
        found: set[str] = set()
        for iri in sorted(frontier):
            node = ox.NamedNode(evidence_map.iri(iri))
            # Read lazily from the store (the graph layer's own write path), so that a node with thousands of
            # triples is not read whole to learn that it has many.
            own = list(islice(evidence_map.store.quads_for_pattern(node, None, None, None), SMALL_DESCRIPTION + 1))
            if len(own) > SMALL_DESCRIPTION:
                own = evidence_map.quads(node, ox.NamedNode(evidence_map.iri(ns.RDF + "type")))
            for quad in canonical_quads(evidence_map, own):
                context.append(ox.Triple(quad.subject, quad.predicate, quad.object))
                if hop == 0 and quad.predicate.value in SECOND_HOP and isinstance(quad.object, ox.NamedNode):
                    found.add(quad.object.value)
        frontier = found
    return context


def check_subgraph(
    living: LivingMap, focus: Sequence[str], added: Sequence[ox.Quad], removed: Sequence[ox.Quad]
) -> list[Problem]:
    """What is wrong with the resources ``focus`` (canonical IRIs) as the change leaves them: SHACL with the map's
    shapes on their triples, the vocabulary and the types of what they point to; the quotes of new passages
    against the review's text; a slug or reference number another study of the map already has. Incremental: the
    cost grows with the change, not with the map (the uniqueness checks are index lookups)."""
    evidence_map = living.map
    focus_set = set(focus)
    gone = {(q.subject, q.predicate, q.object) for q in removed}
    triples = [ox.Triple(q.subject, q.predicate, q.object) for q in added]
    # The focus nodes' triples that the change keeps (an update may change only some of them).
    for iri in focus_set:
        for quad in evidence_map.quads(subject=ox.NamedNode(evidence_map.iri(iri))):
            triple = (quad.subject, quad.predicate, quad.object)
            canonical = rebased(quad, evidence_map.canonical)
            if triple not in gone and (canonical.subject, canonical.predicate, canonical.object) not in gone:
                triples.append(ox.Triple(canonical.subject, canonical.predicate, canonical.object))
    changed = {t.subject.value for t in triples if isinstance(t.subject, ox.NamedNode)}
    findings = _findings_about(evidence_map, focus_set, gone, changed)
    data = ox.Store()
    data.extend(ox.Quad(t.subject, t.predicate, t.object)
                for t in (*triples, *findings, *_context(evidence_map, triples)))
    # Only the changed resources are focus nodes: the shapes' targets (SPARQL ones included) select among them.
    report = shacl_sparql.validate(StoreSource(data), shapes_graph(),
                                   focus=[ox.NamedNode(c) for c in sorted(changed)])
    problems = []
    for result in report.results:
        if result.severity != SH.Violation:
            continue
        node = str(result.focus)
        if node not in changed:
            continue  # a result about the vocabulary or a node the change points to is not the change's
        path = result.path if isinstance(result.path, URIRef) else None
        problems.append(Problem(node, result.messages[0] if result.messages else "",
                                str(path) if path is not None else None))
    problems.extend(_quote_problems(living, triples))
    problems.extend(_uniqueness_problems(living, triples))
    return sorted(set(problems), key=lambda p: (p.focus, p.message))


def _findings_about(evidence_map: EvidenceMap, focus: set[str], gone: Set[tuple[object, object, object]],
                    changed: set[str]) -> list[ox.Triple]:
    """The findings the change leaves untouched that are about a focus node (``rdf:subject`` it), with their own
    triples: the shapes that read a study's facts from its findings (every fact backed by one) must see them, or
    adding one fact to a study would find all its other facts unbacked. They are context, not focus nodes."""
    subject = ox.NamedNode(evidence_map.iri(ns.RDF + "subject"))
    found: list[ox.Triple] = []
    for iri in sorted(focus):
        for link in evidence_map.quads(None, subject, ox.NamedNode(evidence_map.iri(iri))):
            finding = link.subject
            if not isinstance(finding, ox.NamedNode) or evidence_map.canonical(finding.value) in changed:
                continue
            for quad in canonical_quads(evidence_map, evidence_map.quads(subject=finding)):
                if (quad.subject, quad.predicate, quad.object) not in gone:
                    found.append(ox.Triple(quad.subject, quad.predicate, quad.object))
    return found


OA_EXACT = ns.OA + "exact"


def _quote_problems(living: LivingMap, triples: Sequence[ox.Triple]) -> list[Problem]:
    quotes = [(t.subject.value if isinstance(t.subject, ox.NamedNode) else str(t.subject), t.object.value)
              for t in triples if t.predicate.value == OA_EXACT and isinstance(t.object, ox.Literal)]
    if not quotes:
        return []
    texts = review_texts(living.map.sources)
    text = " ".join(normalised(p.read_text(encoding="utf-8")) for p in texts)
    return [Problem(node, f"The quote \"{quote}\" is not in the review's text: copy the review's words verbatim "
                          "(only spacing and line breaks may differ).")
            for node, quote in quotes if normalised(quote) not in text]


def _uniqueness_problems(living: LivingMap, triples: Sequence[ox.Triple]) -> list[Problem]:
    evidence_map = living.map
    studies = {t.subject for t in triples if t.predicate.value == ns.RDF + "type"
               and isinstance(t.object, ox.NamedNode) and t.object.value == ns.EVM + "IncludedStudy"}
    problems = []
    for t in triples:
        subject, value = t.subject, t.object
        if not isinstance(subject, ox.NamedNode) or not isinstance(value, ox.Literal) or subject not in studies:
            continue
        if t.predicate.value in (ns.EVM + "slug", ns.EVM + "referenceNumber"):
            this = ox.NamedNode(evidence_map.iri(subject.value))
            study_type = ox.NamedNode(evidence_map.iri(ns.EVM + "IncludedStudy"))
            rdf_type = ox.NamedNode(evidence_map.iri(ns.RDF + "type"))
            key = ox.NamedNode(evidence_map.iri(t.predicate.value))
            # An index lookup of the value, then the type of each holder (never a scan of the studies).
            others = sorted({q.subject.value for q in evidence_map.quads(None, key, value)
                             if q.subject != this and isinstance(q.subject, ox.NamedNode)
                             and evidence_map.quads(q.subject, rdf_type, study_type)})
            for other in others:
                what = "Slug" if t.predicate.value.endswith("slug") else "Reference number"
                problems.append(Problem(subject.value, f"{what} {value.value} is used twice: by {subject.value} "
                                        f"and by {evidence_map.canonical(other)}. Give each study its own."))
    return problems
