"""Dereferenceable IRIs: which document formats are offered, which IRIs this server answers for, and what the
description of a resource holds (content negotiation itself is HTTP, in ``web/linked.py``).

The description of a resource (what ``/data/dufour-2025/study/blay-2025.ttl`` returns) is:

- its concise bounded description: its outgoing triples, following blank nodes (a passage's quote selector, a
  claim's conditions) -- SPARQL ``DESCRIBE``;
- the findings about it (``rdf:subject`` is the resource, or the intervention it ``evm:evaluates``), each also
  described, so that a study's facts carry their provenance;
- the passages that the resource and those findings were derived from, so the quote and the review section a fact
  came from are in the same document;
- for a concept scheme, which concepts are in it;
- the labels (``rdfs:label``, ``skos:prefLabel``, ``dcterms:title``) of every IRI the triples point to.

Everything is read with SPARQL (no store internals), so the same code runs on a remote SPARQL 1.1 engine.
Web-free: the HTTP side is in ``web/linked.py``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import cast

import pyoxigraph as ox

from evidencemap import namespaces as ns
from evidencemap.errors import NotFound
from evidencemap.graph.formats import FILE_FORMATS, RDF_FORMATS, Format
from evidencemap.graph.store import EvidenceMap
from evidencemap.graph.terms import term_text
from evidencemap.graph.values import Values

Term = ox.NamedNode | ox.BlankNode | ox.Literal


TURTLE = RDF_FORMATS["ttl"]
HTML = FILE_FORMATS["html"]
JSON_LD = RDF_FORMATS["jsonld"]
N_TRIPLES = RDF_FORMATS["nt"]
RDF_XML = RDF_FORMATS["rdfxml"]

# The representations of a resource, in server preference, used to break ties between equally acceptable formats
# (web/linked.py negotiates): a client that accepts anything (curl's */*, or no Accept header) gets Turtle; browsers
# ask for text/html first and get HTML.
DOCUMENT_FORMATS: tuple[Format, ...] = (TURTLE, HTML, JSON_LD, N_TRIPLES, RDF_XML)

# Generic media types that the registry accepts as aliases of a format (text/plain for N-Triples, XML for RDF/XML)
# but that ask for something else of a resource's IRI: they are not negotiated to a description.
_GENERIC_MEDIA_TYPES = frozenset({"text/plain", "application/xml", "text/xml"})


def negotiated_media_types(fmt: Format) -> tuple[str, ...]:
    """The media types a request may name to get ``fmt`` as a resource's description.

    >>> negotiated_media_types(N_TRIPLES), negotiated_media_types(TURTLE)
    (('application/n-triples',), ('text/turtle', 'application/x-turtle'))
    """
    return tuple(m for m in fmt.media_types if m not in _GENERIC_MEDIA_TYPES)

LABEL_PROPERTIES = (ns.RDFS + "label", ns.SKOS + "prefLabel", ns.DCTERMS + "title")

# Prefixes used when serialising descriptions (canonical IRIs; rebased with the map's base).
SERIALISATION_PREFIXES: dict[str, str] = {
    **ns.PREFIXES,
    "owl": "http://www.w3.org/2002/07/owl#",
    "foaf": "http://xmlns.com/foaf/0.1/",
    "vann": "http://purl.org/vocab/vann/",
    "cito": "http://purl.org/spar/cito/",
    "pico": "http://data.cochrane.org/ontologies/pico/",
    "obo": "http://purl.obolibrary.org/obo/",
    "mesh": "http://id.nlm.nih.gov/mesh/",
    "void": "http://rdfs.org/ns/void#",
    "dcat": "http://www.w3.org/ns/dcat#",
    "spdx": "http://spdx.org/rdf/terms#",
    "cc": "http://creativecommons.org/ns#",
    "sd": "http://www.w3.org/ns/sparql-service-description#",
    "sh": ns.SH,
}


def format_for_extension(extension: str) -> Format | None:
    """The document format of a URL's extension (only the one extension each format's documents are served at)."""
    for fmt in DOCUMENT_FORMATS:
        if fmt.extension == extension:
            return fmt
    return None


def split_extension(path: str) -> tuple[str, Format | None]:
    """``study/blay-2025.ttl`` -> (``study/blay-2025``, Turtle); a path without a known extension is returned whole
    (section numbers such as ``section/3.3.1`` hold dots that are not extensions)."""
    stem, dot, extension = path.rpartition(".")
    fmt = format_for_extension(extension) if dot else None
    return (stem, fmt) if fmt is not None and stem and not stem.endswith("/") else (path, None)


# -- which IRIs this server answers for ----------------------------------------------------------------------------


def served_prefixes(evidence_map: EvidenceMap) -> tuple[str, ...]:
    """IRI prefixes resolved by this server: data, concepts and the ontology (under the map's base)."""
    return tuple(evidence_map.iri(p) for p in (ns.DATA, ns.CONCEPT, ns.ONTOLOGY))


def iri_for_path(evidence_map: EvidenceMap, path: str) -> str:
    """The IRI a request path stands for (:meth:`IriSpace.from_path`)."""
    return evidence_map.iris.from_path(path)


def path_for_iri(evidence_map: EvidenceMap, iri: str) -> str | None:
    """The local path at which this server answers for ``iri`` (:meth:`IriSpace.path`; None outside its base)."""
    return evidence_map.iris.path(iri)


# -- descriptions -------------------------------------------------------------------------------------------------

_PREFIX_LINES = ns.sparql_prefixes(("rdf", "skos", "prov", "evm"))

EXISTS = "ASK WHERE { ?r ?p ?o }"

# Findings about the resource, or about the intervention a study evaluated.
FINDINGS = _PREFIX_LINES + """
DESCRIBE ?f WHERE { { ?f rdf:subject ?r } UNION { ?r evm:evaluates ?i . ?f rdf:subject ?i } ?f a evm:Finding . }
"""

# The passages the resource, or a finding about it, was derived from.
PASSAGES = _PREFIX_LINES + """
DESCRIBE ?passage WHERE {
  { ?r prov:wasDerivedFrom ?passage }
  UNION { ?f rdf:subject ?r ; a evm:Finding ; prov:wasDerivedFrom ?passage }
  UNION { ?r evm:evaluates ?i . ?f rdf:subject ?i ; a evm:Finding ; prov:wasDerivedFrom ?passage }
  ?passage a evm:Passage .
}
"""

SCHEME_MEMBERS = _PREFIX_LINES + "CONSTRUCT { ?c skos:inScheme ?r } WHERE { ?c skos:inScheme ?r }"

LABELS = "CONSTRUCT { ?o ?lp ?label } WHERE { ?o ?lp ?label . }"

# The concise bounded description of ?r: its outgoing triples, following blank nodes.
DESCRIPTION = "DESCRIBE ?r WHERE { }"


def exists(evidence_map: EvidenceMap, iri: str) -> bool:
    """Whether the map holds any triple about ``iri``."""
    return evidence_map.ask(EXISTS, {"r": ox.NamedNode(iri)})


def labels_of(evidence_map: EvidenceMap, iris: Iterable[str]) -> list[ox.Triple]:
    """The label triples (rdfs:label, skos:prefLabel, dcterms:title) of the given IRIs."""
    nodes = sorted({ox.NamedNode(i) for i in iris}, key=lambda n: n.value)
    if not nodes:
        return []
    # (object, label property) pairs bound in a VALUES block: terms of the map, serialised by pyoxigraph.
    pairs = Values(("o", "lp"), tuple((n, ox.NamedNode(p)) for n in nodes for p in LABEL_PROPERTIES))
    return evidence_map.construct(LABELS, pairs)


def describe(evidence_map: EvidenceMap, iri: str) -> list[ox.Triple]:
    """The description of ``iri`` (see the module docstring), grouped by subject, the resource first.

    :raises NotFound: when the map holds nothing about ``iri``.
    """
    if not exists(evidence_map, iri):
        raise NotFound(
            f"No resource <{iri}> in this map.",
            hint="IRIs resolved here start with " + ", ".join(served_prefixes(evidence_map)) + ".",
        )
    resource = {"r": ox.NamedNode(iri)}
    triples: dict[ox.Triple, None] = {}
    for query in (DESCRIPTION, FINDINGS, PASSAGES, SCHEME_MEMBERS):
        for triple in evidence_map.construct(query, resource):
            triples[triple] = None
    return with_labels(evidence_map, list(triples), iri)


def with_labels(evidence_map: EvidenceMap, triples: list[ox.Triple], first: str | None = None) -> list[ox.Triple]:
    """``triples`` plus the labels of the IRIs they point to, grouped by subject (``first`` leading)."""
    pointed = {t.object.value for t in triples if isinstance(t.object, ox.NamedNode)}
    out: dict[ox.Triple, None] = dict.fromkeys(triples)
    for label in labels_of(evidence_map, pointed):
        out[label] = None
    return group_by_subject(list(out), first)


def group_by_subject(triples: list[ox.Triple], first: str | None = None) -> list[ox.Triple]:
    """Triples in stable subject groups: ``first`` leading, blank nodes after the IRIs that point to them."""
    groups: dict[Term | ox.Triple, list[ox.Triple]] = {}
    for t in triples:
        groups.setdefault(t.subject, []).append(t)

    def key(subject: Term | ox.Triple) -> tuple[int, str]:
        if isinstance(subject, ox.NamedNode) and subject.value == first:
            return (0, "")
        return (2, term_text(subject)) if isinstance(subject, ox.BlankNode) else (1, term_text(subject))

    return [t for s in sorted(groups, key=key) for t in groups[s]]


def vocabulary_triples(evidence_map: EvidenceMap) -> list[ox.Triple]:
    """Every triple of the vocabulary graph (ontology, facets and concept schemes): the ontology's document."""
    return evidence_map.construct(f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ GRAPH <{ns.GRAPH_VOCABULARY}> {{ ?s ?p ?o }} }}")


def ontology_versions(evidence_map: EvidenceMap) -> list[str]:
    """The version IRIs of the ontologies in the vocabulary (``owl:versionIRI``)."""
    query = "PREFIX owl: <http://www.w3.org/2002/07/owl#> SELECT ?v WHERE { ?o a owl:Ontology ; owl:versionIRI ?v }"
    return sorted(str(row["v"]) for row in evidence_map.select(query))


def superseded_ontology_versions(evidence_map: EvidenceMap) -> dict[str, str]:
    """Each earlier version the ontologies declare (``owl:priorVersion``) -> the version IRI that replaced it. The
    server holds only the current version's files, so an earlier one can be named but not served."""
    query = """PREFIX owl: <http://www.w3.org/2002/07/owl#>
    SELECT ?prior ?v WHERE { ?o a owl:Ontology ; owl:versionIRI ?v ; owl:priorVersion ?prior }"""
    return {str(row["prior"]): str(row["v"]) for row in evidence_map.select(query)}


def serialisation_prefixes(evidence_map: EvidenceMap) -> dict[str, str]:
    return {name: evidence_map.iri(iri) for name, iri in SERIALISATION_PREFIXES.items()}


def serialise(evidence_map: EvidenceMap, triples: Iterable[ox.Triple], fmt: Format) -> bytes:
    """``triples`` in an RDF format (Turtle and RDF/XML with the usual prefixes)."""
    if fmt.rdf_format is None:
        raise ValueError(f"{fmt.name} is not an RDF format")
    triples = list(triples)
    prefixes = None
    if fmt in (TURTLE, RDF_XML):
        used = {term.value for t in triples for term in (t.predicate, t.object) if isinstance(term, ox.NamedNode)}
        used |= {t.subject.value for t in triples if isinstance(t.subject, ox.NamedNode)}
        prefixes = {
            name: namespace
            for name, namespace in serialisation_prefixes(evidence_map).items()
            if any(iri.startswith(namespace) for iri in used)
        }
    # Without an output file pyoxigraph returns the bytes (its stubs say bytes | None for both cases).
    return cast(bytes, ox.serialize(triples, format=fmt.rdf_format, prefixes=prefixes))


# -- the HTML page model of a description ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Value:
    """One value of a property as a page shows it: a link (IRI), a literal, or a nested blank node."""

    text: str
    href: str | None = None
    title: str = ""
    note: str = ""
    rows: tuple[Row, ...] = ()


@dataclass(frozen=True)
class Row:
    predicate: Value
    values: tuple[Value, ...]


@dataclass(frozen=True)
class Block:
    """The properties of one subject of the description."""

    iri: str
    label: str
    href: str
    types: tuple[Value, ...]
    rows: tuple[Row, ...]


@dataclass(frozen=True)
class ResourcePage:
    iri: str
    label: str
    main: Block
    related: tuple[Block, ...]


def compact(evidence_map: EvidenceMap, iri: str) -> str:
    """``evm:Finding`` for a known namespace, the IRI itself otherwise."""
    for name, namespace in serialisation_prefixes(evidence_map).items():
        if iri.startswith(namespace) and len(iri) > len(namespace):
            return f"{name}:{iri[len(namespace):]}"
    return iri


def _best_labels(triples: Iterable[ox.Triple]) -> dict[str, str]:
    """IRI -> label, preferring rdfs:label over skos:prefLabel over dcterms:title, and English."""
    ranked: dict[str, tuple[int, str]] = {}
    for t in triples:
        if t.predicate.value in LABEL_PROPERTIES and isinstance(t.object, ox.Literal):
            rank = LABEL_PROPERTIES.index(t.predicate.value) * 2 + (t.object.language not in (None, "en"))
            current = ranked.get(term_text(t.subject))
            if current is None or rank < current[0]:
                ranked[term_text(t.subject)] = (rank, t.object.value)
    return {iri: label for iri, (_, label) in ranked.items()}


class _PageBuilder:
    def __init__(self, evidence_map: EvidenceMap, triples: list[ox.Triple]) -> None:
        self.map = evidence_map
        self.by_subject: dict[Term | ox.Triple, list[ox.Triple]] = {}
        for t in triples:
            self.by_subject.setdefault(t.subject, []).append(t)
        predicates = {t.predicate.value for t in triples}
        types = {term_text(t.object) for t in triples if t.predicate.value == ns.RDF + "type"}
        self.labels = _best_labels(triples)
        for iri, label in _best_labels(labels_of(evidence_map, predicates | types)).items():
            self.labels.setdefault(iri, label)

    def name(self, iri: str) -> str:
        """The label of ``iri``; for an unlabelled statement (a finding) its subject, predicate and object; else the
        IRI, compacted or relative to the base."""
        if iri in self.labels:
            return self.labels[iri]
        parts = {t.predicate.value: t.object for t in self.by_subject.get(ox.NamedNode(iri), [])}
        spo = [parts.get(ns.RDF + p) for p in ("subject", "predicate", "object")]
        if all(isinstance(term, ox.NamedNode) for term in spo):
            return " · ".join(self.labels.get(t.value) or compact(self.map, t.value) for t in spo)  # type: ignore[union-attr]
        base = self.map.settings.base_iri
        relative = iri[len(base):] if iri.startswith(base) else ""
        return relative or compact(self.map, iri)

    def link(self, iri: str) -> Value:
        href = path_for_iri(self.map, iri) or iri
        return Value(text=self.name(iri), href=href, title=iri)

    def value(self, term: Term, seen: frozenset[str]) -> Value:
        if isinstance(term, ox.NamedNode):
            return self.link(term.value)
        if isinstance(term, ox.BlankNode):
            rows = () if term.value in seen else self.rows(term, seen | {term.value})
            return Value(text="", rows=rows)
        note = term.language or ""
        if not note and term.datatype.value != ns.XSD + "string":
            note = compact(self.map, term.datatype.value)
        return Value(text=term.value, note=note)

    def rows(self, subject: Term, seen: frozenset[str] = frozenset()) -> tuple[Row, ...]:
        grouped: dict[str, list[Term]] = {}
        for t in self.by_subject.get(subject, []):
            # A named subject's types are shown beside its name; a blank node's stay in its table.
            if isinstance(t.object, ox.Triple):
                continue  # a quoted RDF-star triple: maps hold none, and a page has no way to show one
            if t.predicate.value != ns.RDF + "type" or isinstance(subject, ox.BlankNode):
                grouped.setdefault(t.predicate.value, []).append(t.object)
        rows = [
            Row(self.link(p), tuple(sorted((self.value(o, seen) for o in objs), key=lambda v: (v.text, v.href or ""))))
            for p, objs in grouped.items()
        ]
        return tuple(sorted(rows, key=lambda r: (r.predicate.title not in LABEL_PROPERTIES, r.predicate.text.lower())))

    def block(self, subject: ox.NamedNode) -> Block:
        types = tuple(
            self.link(t.object.value)
            for t in self.by_subject.get(subject, [])
            if t.predicate.value == ns.RDF + "type" and isinstance(t.object, ox.NamedNode)
        )
        return Block(
            iri=subject.value,
            label=self.name(subject.value),
            href=path_for_iri(self.map, subject.value) or subject.value,
            types=tuple(sorted(types, key=lambda v: v.text)),
            rows=self.rows(subject),
        )


def resource_page(evidence_map: EvidenceMap, iri: str, triples: list[ox.Triple]) -> ResourcePage:
    """The page model of a description: the resource's own properties, then every other described IRI (findings,
    passages) -- subjects that only carry a label are shown as link text, not as blocks of their own."""
    builder = _PageBuilder(evidence_map, triples)
    related = [
        builder.block(s)
        for s, ts in builder.by_subject.items()
        if isinstance(s, ox.NamedNode) and s.value != iri and any(t.predicate.value not in LABEL_PROPERTIES for t in ts)
    ]
    main = builder.block(ox.NamedNode(iri))
    return ResourcePage(iri=iri, label=main.label, main=main, related=tuple(related))
