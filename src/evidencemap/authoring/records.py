"""The RDF a team's own data becomes: the review's record and the map's edition, studies with their reports and
interventions, findings extracted by the review team, passages and new concepts. Built as rdflib graphs and
written by rdflib's Turtle serialiser: no text of a sheet or an option is ever pasted into Turtle.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from rdflib import BNode, Graph, Literal, URIRef
from rdflib.namespace import RDF, RDFS, SKOS, XSD, Namespace

from evidencemap import namespaces as ns
from evidencemap.errors import InvalidParameter

EVM = Namespace(ns.EVM)
DCTERMS = Namespace(ns.DCTERMS)
PROV = Namespace(ns.PROV)
OA = Namespace(ns.OA)
FABIO = Namespace(ns.FABIO)
PRISM = Namespace(ns.PRISM)
DCAT = Namespace("http://www.w3.org/ns/dcat#")

SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
DOI = re.compile(r"^10\.[0-9]{4,9}/\S+$")


def checked_slug(value: str, what: str) -> str:
    """``value`` when it is a slug (lower case letters, digits, single hyphens).

    :raises InvalidParameter: naming ``what`` and the value.
    """
    if not SLUG.match(value):
        raise InvalidParameter(f"{what} {value!r} is not a slug.",
                               hint="Use lower-case letters, digits and single hyphens, e.g. smith-2024.")
    return value


def slugify(text: str) -> str:
    """``"In person, clinic"`` -> ``"in-person-clinic"`` (for IRIs of new concepts and sections)."""
    from evidencemap.authoring.matching import label_key

    return "-".join(re.sub(r"[^a-z0-9 ]+", " ", label_key(text)).split()) or "value"


def section_slug(number: str) -> str:
    """The last segment of a section's IRI, as `evidencemap new`'s templates and the bundled map write it, so that an
    imported quote's section is the section a team writes by hand: ``"3.2"`` -> ``"3.2"``, ``"Abstract"`` ->
    ``"abstract"``.

    >>> section_slug("3.3.1"), section_slug("Table 2")
    ('3.3.1', 'table-2')
    """
    return "-".join(re.sub(r"[^a-z0-9.]+", " ", number.strip().lower()).split()).strip(".") or "section"


def bare_doi(value: str) -> str:
    """A DOI without its resolver prefix (``https://doi.org/10.1/x`` -> ``10.1/x``)."""
    return re.sub(r"^(https?://(dx\.)?doi\.org/|doi:\s*)", "", value.strip(), flags=re.IGNORECASE)


def new_graph() -> Graph:
    graph = Graph()
    for prefix, iri in ns.PREFIXES.items():
        graph.bind(prefix, iri)
    graph.bind("dcat", str(DCAT))
    for name in ("review", "study", "report", "intervention"):
        graph.bind(name, ns.DATA + name + "/")
    return graph


def write_turtle(graph: Graph, path: Path, header: str) -> None:
    """``graph`` as Turtle at ``path``, after ``header`` (fixed comment lines of this package, never user text)."""
    body = graph.serialize(format="turtle")
    path.write_text(header.rstrip("\n") + "\n" + body, encoding="utf-8")


@dataclass(frozen=True)
class ReviewRecord:
    slug: str
    title: str
    licence: str
    doi: str | None = None
    version: str = "0.1.0"

    @property
    def iri(self) -> URIRef:
        return URIRef(ns.DATA + "review/" + self.slug)

    @property
    def edition(self) -> URIRef:
        return URIRef(ns.DATA + "map/" + self.slug)

    def node(self, kind: str, slug: str) -> URIRef:
        """An IRI under the review: its passages, sections, findings (``kind`` "passage", ...)."""
        return URIRef(f"{ns.DATA}review/{self.slug}/{kind}/{slug}")


def check_review(record: ReviewRecord) -> ReviewRecord:
    """:raises InvalidParameter: for a bad slug, an empty title, a licence that is no IRI or a bad DOI."""
    checked_slug(record.slug, "The map's slug")
    if not record.title.strip():
        raise InvalidParameter("The review's title is empty.", hint="Give --title as the article prints it.")
    if not re.match(r"^https?://\S+$", record.licence):
        raise InvalidParameter(f"Licence {record.licence!r} is not an IRI.",
                               hint="Give the licence's IRI, e.g. https://creativecommons.org/licenses/by/4.0/.")
    if record.doi is not None and not DOI.match(bare_doi(record.doi)):
        raise InvalidParameter(f"DOI {record.doi!r} is not a DOI.", hint="Give it as 10.1234/abcd.")
    return record


def review_graph(record: ReviewRecord) -> Graph:
    """The review's record and the map's edition record, from the team's own options."""
    graph = new_graph()
    review, edition = record.iri, record.edition
    graph.add((review, RDF.type, EVM.ScopingReview))
    graph.add((review, EVM.slug, Literal(record.slug)))
    graph.add((review, DCTERMS.title, Literal(record.title.strip())))
    graph.add((review, DCTERMS.license, URIRef(record.licence)))
    if record.doi:
        graph.add((review, PRISM.doi, Literal(bare_doi(record.doi))))
    graph.add((edition, RDF.type, DCAT.Dataset))
    graph.add((edition, RDFS.label, Literal(f"evidence map of {record.title.strip()}", lang="en")))
    graph.add((edition, DCAT.version, Literal(record.version)))
    graph.add((edition, PROV.wasDerivedFrom, review))
    return graph


@dataclass(frozen=True)
class StudyRecord:
    slug: str
    reference_number: int
    short_citation: str
    title: str
    authors: str
    year: str
    journal: str = ""
    doi: str = ""
    objective: str = ""
    intervention: str = ""
    map_slug: str = ""  # the map's IRI space: data/{map_slug}/study/{slug} (shapes: evmsh:StudyInItsMapSpace)

    def resource(self, kind: str) -> URIRef:
        """The IRI of the study's ``kind`` (study, report, intervention) in its map's IRI space."""
        space = f"{self.map_slug}/" if self.map_slug else ""
        return URIRef(f"{ns.DATA}{space}{kind}/{self.slug}")

    @property
    def iri(self) -> URIRef:
        return self.resource("study")

    @property
    def intervention_iri(self) -> URIRef:
        return self.resource("intervention")


def add_study(graph: Graph, review: ReviewRecord, study: StudyRecord, with_intervention: bool) -> None:
    report = study.resource("report")
    graph.add((review.iri, EVM.includesStudy, study.iri))
    graph.add((study.iri, RDF.type, EVM.IncludedStudy))
    graph.add((study.iri, EVM.slug, Literal(study.slug)))
    graph.add((study.iri, EVM.referenceNumber, Literal(study.reference_number)))
    graph.add((study.iri, EVM.shortCitation, Literal(study.short_citation)))
    graph.add((study.iri, RDFS.label, Literal(study.short_citation, lang="en")))
    graph.add((study.iri, EVM.includedIn, review.iri))
    graph.add((study.iri, EVM.reportedIn, report))
    if study.objective:
        graph.add((study.iri, DCTERMS.description, Literal(study.objective)))
    graph.add((report, RDF.type, EVM.StudyReport))
    graph.add((report, DCTERMS.title, Literal(study.title)))
    graph.add((report, EVM.authors, Literal(study.authors)))
    graph.add((report, FABIO.hasPublicationYear, Literal(study.year, datatype=XSD.gYear)))
    if study.journal:
        graph.add((report, PRISM.publicationName, Literal(study.journal)))
    if study.doi:
        graph.add((report, PRISM.doi, Literal(study.doi)))
    if with_intervention:
        graph.add((study.iri, EVM.evaluates, study.intervention_iri))
        graph.add((study.intervention_iri, RDF.type, EVM.Intervention))
        label = study.intervention or f"intervention of {study.short_citation}"
        graph.add((study.intervention_iri, RDFS.label, Literal(label, lang="en")))


@dataclass(frozen=True)
class Extraction:
    """One fact of one cell: the finding's statement and the cell it was extracted from."""

    subject: URIRef
    property: str
    concept: str
    sheet: str
    row: int
    column: str
    passage: URIRef | None = None


def add_finding(graph: Graph, review: ReviewRecord, study: StudyRecord, fact: Extraction) -> None:
    local = fact.property.rsplit("#", 1)[-1]
    finding = review.node("finding", f"{study.slug}--{local}--{ns.last_segment(fact.concept)}")
    graph.add((finding, RDF.type, EVM.Finding))
    graph.add((finding, RDF.subject, fact.subject))
    graph.add((finding, RDF.predicate, URIRef(fact.property)))
    graph.add((finding, RDF.object, URIRef(fact.concept)))
    graph.add((finding, EVM.support, EVM.Extracted))
    cell = BNode()
    graph.add((finding, EVM.extractedFrom, cell))
    graph.add((cell, RDF.type, EVM.SheetCell))
    graph.add((cell, DCTERMS.source, Literal(fact.sheet)))
    graph.add((cell, EVM.sourceRow, Literal(fact.row)))
    graph.add((cell, EVM.sourceColumn, Literal(fact.column)))
    if fact.passage is not None:
        graph.add((finding, PROV.wasDerivedFrom, fact.passage))


def add_passage(graph: Graph, review: ReviewRecord, slug: str, quote: str, section: str) -> URIRef:
    """A passage of the review (its words verbatim, checked against review.txt on validation) in its section."""
    section_node = review.node("section", section_slug(section))
    graph.add((section_node, RDF.type, EVM.ReviewSection))
    graph.add((section_node, EVM.sectionNumber, Literal(section)))
    graph.add((section_node, DCTERMS.isPartOf, review.iri))
    passage = review.node("passage", slug)
    selector = BNode()
    graph.add((passage, RDF.type, EVM.Passage))
    graph.add((passage, OA.hasSource, review.iri))
    graph.add((passage, EVM.section, section_node))
    graph.add((passage, OA.hasSelector, selector))
    graph.add((selector, RDF.type, OA.TextQuoteSelector))
    graph.add((selector, OA.exact, Literal(quote)))
    return passage


def add_concept(graph: Graph, scheme: str, slug: str, label: str, provenance: str) -> URIRef:
    """A new top concept of an existing scheme, defined by where the team recorded it."""
    concept = URIRef(scheme.rstrip("/") + "/" + slug)
    graph.add((concept, RDF.type, SKOS.Concept))
    graph.add((concept, SKOS.prefLabel, Literal(label, lang="en")))
    graph.add((concept, SKOS.definition, Literal(provenance, lang="en")))
    graph.add((concept, SKOS.inScheme, URIRef(scheme)))
    graph.add((concept, SKOS.topConceptOf, URIRef(scheme)))
    return concept
