"""Human-readable documentation of the ontology, generated from the vocabulary graph itself.

Every class, property and individual of the ontology namespace gets an entry whose HTML anchor is its IRI's
fragment (``ontology#Finding`` -> ``/ontology.html#Finding``); every concept scheme and concept gets an entry with an
anchor and a link to its own dereferenceable IRI. An entry lists the term's label, definition and every other
statement the vocabulary makes about it (super classes, domain, range, mappings to MeSH, schema.org, PROV ...), so
nothing is written twice: changing the ontology changes the page.

pyLODE was tried first (see docs/linked-data.md): its anchors are made from labels, not from the IRI fragment, and it
leaves out the SKOS concepts and the properties typed with a subclass of owl:ObjectProperty.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import pyoxigraph as ox

from evidencemap import namespaces as ns
from evidencemap.graph.store import EvidenceMap
from evidencemap.graph.terms import term_text
from evidencemap.publish.linkeddata import Value, compact, labels_of, path_for_iri, vocabulary_triples

OWL = "http://www.w3.org/2002/07/owl#"
FOAF = "http://xmlns.com/foaf/0.1/"
VANN = "http://purl.org/vocab/vann/"
RDF_TYPE = ns.RDF + "type"
Term = ox.NamedNode | ox.BlankNode | ox.Literal

# Shown in the entry's heading or prose, not again in its table of statements.
SHOWN_APART = {
    ns.RDFS + "label", ns.SKOS + "prefLabel", ns.SKOS + "definition", ns.SKOS + "altLabel", ns.SKOS + "hiddenLabel",
    ns.RDFS + "isDefinedBy", ns.SKOS + "inScheme", ns.SKOS + "topConceptOf", RDF_TYPE,
}
# How the page names standard predicates (terms of the ontology are named by their own labels).
PREDICATE_NAMES = {
    ns.RDFS + "subClassOf": "subclass of", ns.RDFS + "subPropertyOf": "subproperty of", ns.RDFS + "domain": "domain",
    ns.RDFS + "range": "range", ns.RDFS + "seeAlso": "see also", ns.RDFS + "comment": "comment",
    OWL + "inverseOf": "inverse of", OWL + "oneOf": "one of", OWL + "equivalentClass": "equivalent class",
    OWL + "disjointWith": "disjoint with", ns.SKOS + "broader": "broader", ns.SKOS + "narrower": "narrower",
    ns.SKOS + "exactMatch": "exact match", ns.SKOS + "closeMatch": "close match",
    ns.SKOS + "broadMatch": "broad match", ns.SKOS + "narrowMatch": "narrow match",
    ns.SKOS + "relatedMatch": "related match", ns.SKOS + "notation": "notation",
    ns.SKOS + "hasTopConcept": "top concepts", ns.SKOS + "scopeNote": "scope note", ns.SKOS + "example": "example",
    ns.DCTERMS + "source": "source", ns.DCTERMS + "title": "title", ns.DCTERMS + "description": "description",
    ns.DCTERMS + "created": "created", ns.DCTERMS + "modified": "modified", ns.DCTERMS + "license": "licence",
    ns.DCTERMS + "creator": "creators", OWL + "versionIRI": "version IRI", OWL + "versionInfo": "version",
    OWL + "priorVersion": "prior version", OWL + "imports": "imports", VANN + "preferredNamespacePrefix": "prefix",
    VANN + "preferredNamespaceUri": "namespace",
}
TYPE_NAMES = {
    OWL + "Class": "class", ns.RDFS + "Class": "class", OWL + "ObjectProperty": "object property",
    OWL + "DatatypeProperty": "datatype property", OWL + "AnnotationProperty": "annotation property",
}
FACT_ORDER = tuple(PREDICATE_NAMES.values())
SECTIONS = (
    ("classes", "Classes", (OWL + "Class", ns.RDFS + "Class")),
    ("object-properties", "Object properties", (OWL + "ObjectProperty",)),
    ("datatype-properties", "Datatype properties", (OWL + "DatatypeProperty",)),
    ("annotation-properties", "Annotation properties", (OWL + "AnnotationProperty",)),
)


@dataclass(frozen=True)
class Fact:
    label: str
    refs: tuple[Value, ...]


@dataclass(frozen=True)
class TermDoc:
    iri: str
    anchor: str
    curie: str
    label: str
    definition: str
    kind: str
    href: str
    alt_labels: tuple[str, ...] = ()
    facts: tuple[Fact, ...] = ()
    depth: int = 0


@dataclass(frozen=True)
class Section:
    anchor: str
    title: str
    terms: tuple[TermDoc, ...]


@dataclass(frozen=True)
class SchemeDoc:
    scheme: TermDoc
    concepts: tuple[TermDoc, ...]


@dataclass(frozen=True)
class OntologyDoc:
    iri: str
    title: str
    description: str
    version_iri: str
    version_info: str
    metadata: tuple[Fact, ...]
    sections: tuple[Section, ...]
    schemes: tuple[SchemeDoc, ...]

    def terms(self) -> Iterable[TermDoc]:
        for section in self.sections:
            yield from section.terms
        for scheme in self.schemes:
            yield scheme.scheme
            yield from scheme.concepts


class _Graph:
    """The vocabulary triples indexed by subject and by object."""

    def __init__(self, triples: list[ox.Triple]) -> None:
        self.out: dict[object, list[ox.Triple]] = {}
        self.into: dict[object, list[ox.Triple]] = {}
        for t in triples:
            self.out.setdefault(t.subject, []).append(t)
            self.into.setdefault(t.object, []).append(t)

    def objects(self, s: ox.NamedNode | ox.BlankNode, p: str) -> list[Term]:
        return [t.object for t in self.out.get(s, []) if t.predicate.value == p and not isinstance(t.object, ox.Triple)]

    def value(self, s: ox.NamedNode | ox.BlankNode, p: str) -> str:
        values = self.objects(s, p)
        english = [v for v in values if isinstance(v, ox.Literal) and v.language in (None, "en")]
        chosen = english or values
        return chosen[0].value if chosen else ""

    def subjects(self, p: str, o: str) -> list[ox.NamedNode]:
        node = ox.NamedNode(o)
        return [t.subject for t in self.into.get(node, []) if t.predicate.value == p
                and isinstance(t.subject, ox.NamedNode)]

    def rdf_list(self, head: Term) -> list[Term]:
        items: list[Term] = []
        seen: set[ox.BlankNode] = set()
        while isinstance(head, ox.BlankNode) and head not in seen:
            seen.add(head)
            first = self.objects(head, ns.RDF + "first")
            rest = self.objects(head, ns.RDF + "rest")
            if not first or not rest:
                break
            items.append(first[0])
            head = rest[0]
        return items


class _Builder:
    def __init__(self, evidence_map: EvidenceMap) -> None:
        self.map = evidence_map
        self.g = _Graph(vocabulary_triples(evidence_map))
        self.evm = evidence_map.iri(ns.EVM)
        self.concept_ns = evidence_map.iri(ns.CONCEPT)
        # Labels of the map's own resources the vocabulary points to (the review sections its concepts cite).
        base = evidence_map.settings.base_iri
        pointed = {o.value for o in self.g.into if isinstance(o, ox.NamedNode) and o.value.startswith(base)}
        self.outside = {term_text(t.subject): term_text(t.object) for t in labels_of(evidence_map, pointed)}

    def label(self, iri: str) -> str:
        node = ox.NamedNode(iri)
        own = self.g.value(node, ns.RDFS + "label") or self.g.value(node, ns.SKOS + "prefLabel")
        return own or self.outside.get(iri, "")

    def anchor(self, iri: str) -> str | None:
        if iri.startswith(self.evm):
            return iri[len(self.evm):]
        if iri.startswith(self.concept_ns):
            local = iri[len(self.concept_ns):]
            return ("concept-" if "/" in local else "scheme-") + local.replace("/", "-")
        return None

    def ref(self, term: ox.NamedNode | ox.BlankNode | ox.Literal) -> list[Value]:
        if isinstance(term, ox.Literal):
            return [Value(term.value)]
        if isinstance(term, ox.BlankNode):
            members = self.g.rdf_list(term)
            if members:
                return [r for m in members for r in self.ref(m)]
            name = self.g.value(term, FOAF + "name") or self.g.value(term, ns.RDFS + "label")
            return [Value(name)] if name else []
        iri = term.value
        anchor = self.anchor(iri)
        in_page = anchor is not None and (ox.NamedNode(iri) in self.g.out)
        href = f"#{anchor}" if in_page else (path_for_iri(self.map, iri) or iri)
        return [Value(self.label(iri) or compact(self.map, iri), href, iri)]

    def predicate_name(self, iri: str) -> str:
        return PREDICATE_NAMES.get(iri) or self.label(iri) or compact(self.map, iri)

    def facts(self, node: ox.NamedNode, inverse: Iterable[tuple[str, str]] = ()) -> tuple[Fact, ...]:
        grouped: dict[str, list[Value]] = {}
        for t in self.g.out.get(node, []):
            if t.predicate.value not in SHOWN_APART and not isinstance(t.object, ox.Triple):
                grouped.setdefault(self.predicate_name(t.predicate.value), []).extend(self.ref(t.object))
        for predicate, name in inverse:
            for subject in self.g.subjects(predicate, node.value):
                grouped.setdefault(name, []).extend(self.ref(subject))
        facts = [Fact(name, tuple(sorted(refs, key=lambda r: r.text.lower()))) for name, refs in grouped.items()]

        def key(fact: Fact) -> tuple[int, str]:
            return (FACT_ORDER.index(fact.label) if fact.label in FACT_ORDER else len(FACT_ORDER), fact.label)

        return tuple(sorted(facts, key=key))

    def term(self, node: ox.NamedNode, kind: str, inverse: Iterable[tuple[str, str]] = (), depth: int = 0) -> TermDoc:
        iri = node.value
        return TermDoc(
            iri=iri,
            anchor=self.anchor(iri) or iri,
            curie=compact(self.map, iri),
            label=self.label(iri) or compact(self.map, iri),
            definition=self.g.value(node, ns.SKOS + "definition") or self.g.value(node, ns.RDFS + "comment"),
            kind=kind,
            href=path_for_iri(self.map, iri) or iri,
            alt_labels=tuple(sorted(o.value for o in self.g.objects(node, ns.SKOS + "altLabel"))),
            facts=self.facts(node, inverse),
            depth=depth,
        )

    def types(self, node: ox.NamedNode) -> set[str]:
        return {o.value for o in self.g.objects(node, RDF_TYPE) if isinstance(o, ox.NamedNode)}

    def property_types(self) -> set[str]:
        """owl:ObjectProperty and the classes declared as its subclasses (such as evm:FactProperty)."""
        subclasses = self.g.subjects(ns.RDFS + "subClassOf", OWL + "ObjectProperty")
        return {OWL + "ObjectProperty"} | {s.value for s in subclasses}

    def sections(self) -> tuple[Section, ...]:
        own = sorted(
            (s for s in self.g.out if isinstance(s, ox.NamedNode) and s.value.startswith(self.evm)),
            key=lambda n: self.label(n.value).lower() or n.value,
        )
        placed: set[str] = set()
        sections = []
        object_types = self.property_types()
        inverse_class = ((ns.RDFS + "subClassOf", "superclass of"), (ns.RDFS + "domain", "domain of"),
                         (ns.RDFS + "range", "range of"), (RDF_TYPE, "instances"))
        inverse_property = ((ns.RDFS + "subPropertyOf", "superproperty of"),)
        for anchor, title, kinds in SECTIONS:
            wanted = set(kinds) | (object_types if anchor == "object-properties" else set())
            terms = []
            for node in own:
                matched = self.types(node) & wanted
                if matched and node.value not in placed:
                    placed.add(node.value)
                    kind = TYPE_NAMES.get(min(matched)) or self.label(min(matched)) or compact(self.map, min(matched))
                    inverse = inverse_class if anchor == "classes" else inverse_property
                    terms.append(self.term(node, kind, inverse))
            sections.append(Section(anchor, title, tuple(terms)))
        individuals = []
        for node in own:
            if node.value not in placed and self.types(node):
                kind = ", ".join(sorted(self.label(t) or compact(self.map, t) for t in self.types(node)))
                individuals.append(self.term(node, kind))
        individuals.sort(key=lambda t: (t.kind, t.label.lower()))
        sections.append(Section("individuals", "Individuals (facets and enumerated values)", tuple(individuals)))
        return tuple(sections)

    def schemes(self) -> tuple[SchemeDoc, ...]:
        docs = []
        for scheme in sorted(self.g.subjects(RDF_TYPE, ns.SKOS + "ConceptScheme"), key=lambda n: n.value):
            members = self.g.subjects(ns.SKOS + "inScheme", scheme.value)
            docs.append(SchemeDoc(self.term(scheme, "concept scheme"), tuple(self.tree(members))))
        return tuple(docs)

    def tree(self, members: list[ox.NamedNode]) -> list[TermDoc]:
        """Concepts depth-first from the top concepts, siblings by evm:valueOrder then label."""
        inside = {m.value for m in members}
        children: dict[str | None, list[ox.NamedNode]] = {}
        for m in members:
            broader = [b.value for b in self.g.objects(m, ns.SKOS + "broader") if b.value in inside]
            parents: list[str | None] = [*broader] or [None]
            for parent in parents:
                children.setdefault(parent, []).append(m)
        order = self.map.iri(ns.EVM + "valueOrder")

        def key(n: ox.NamedNode) -> tuple[int, str]:
            value = self.g.value(n, order)
            return (int(value) if value.isdigit() else 1_000_000, self.label(n.value).lower())

        out: list[TermDoc] = []
        seen: set[str] = set()

        def walk(parent: str | None, depth: int) -> None:
            for child in sorted(children.get(parent, []), key=key):
                if child.value not in seen:
                    seen.add(child.value)
                    out.append(self.term(child, "concept", depth=depth))
                    walk(child.value, depth + 1)

        walk(None, 0)
        return out

    def document(self) -> OntologyDoc:
        ontologies = self.g.subjects(RDF_TYPE, OWL + "Ontology")
        node = ontologies[0] if ontologies else ox.NamedNode(self.map.iri(ns.ONTOLOGY))
        metadata = [
            Fact("IRI", (Value(node.value, path_for_iri(self.map, node.value), node.value),)),
            *self.facts(node),
        ]
        return OntologyDoc(
            iri=node.value,
            title=self.g.value(node, ns.DCTERMS + "title") or compact(self.map, node.value),
            description=self.g.value(node, ns.DCTERMS + "description"),
            version_iri=self.g.value(node, OWL + "versionIRI"),
            version_info=self.g.value(node, OWL + "versionInfo"),
            metadata=tuple(f for f in metadata if f.label not in ("title", "description")),
            sections=self.sections(),
            schemes=self.schemes(),
        )


def ontology_doc(evidence_map: EvidenceMap) -> OntologyDoc:
    """The documentation model of the map's vocabulary graph."""
    return _Builder(evidence_map).document()
