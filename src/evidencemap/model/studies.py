"""Study records read from the store: a summary for lists and a detail with every fact and its provenance.

A list of studies is read with a fixed number of SPARQL queries per batch of 500 studies, never one per study: the
bibliographic records, the facet values, and (unless only the values are wanted) the support kind and the review
section of each value. Each query is restricted to the wanted studies by a VALUES block of IRIs taken from the
store, never from user input. A study's detail adds its findings and the source notes on them.

Which properties are read as facet values, and under which names, comes from the vocabulary: a facet whose path is
one property describes the study itself, a facet whose path goes through ``evm:evaluates`` describes the
intervention the study evaluated. The record of the review that includes them is read by reviews.py.
"""

from __future__ import annotations

import difflib
import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import pyoxigraph as ox

from evidencemap import namespaces as ns
from evidencemap.errors import NotFound
from evidencemap.graph.store import EvidenceMap
from evidencemap.graph.values import Values
from evidencemap.model.support import support_levels, support_name
from evidencemap.model.vocabulary import Facet, Vocabulary, scheme_slug

EVALUATES = ns.EVM + "evaluates"
BATCH = 500  # studies per VALUES block

PREFIXES = ns.sparql_prefixes(("evm", "rdf", "rdfs", "dcterms", "prov", "oa", "fabio", "prism", "schema"))


@dataclass(frozen=True)
class ValueRef:
    """A concept as the value of one of a study's facts."""

    iri: str
    slug: str
    label: str
    facet: str
    scheme: str
    support: str | None = None
    section: str | None = None


@dataclass(frozen=True)
class InterventionSummary:
    iri: str
    label: str | None
    description: str | None
    facets: dict[str, list[ValueRef]]


@dataclass(frozen=True)
class StudySummary:
    iri: str
    id: str
    ref: int
    citation: str | None
    title: str | None
    year: int | None
    doi: str | None
    authors: str | None
    journal: str | None
    report: str | None
    facets: dict[str, list[ValueRef]]
    intervention: InterventionSummary | None

    @property
    def doi_url(self) -> str | None:
        return f"https://doi.org/{self.doi}" if self.doi else None

    def values(self, facet: str) -> list[ValueRef]:
        """The study's values of ``facet``, whether the facet describes the study or its intervention."""
        if facet in self.facets:
            return self.facets[facet]
        return self.intervention.facets.get(facet, []) if self.intervention else []


@dataclass(frozen=True)
class Fact:
    """One finding about a study or its intervention, with where the review says so."""

    finding: str
    subject: str
    subject_kind: str
    facet: str | None
    property: str
    property_label: str
    value: ValueRef
    support: str | None
    rationale: str | None
    detail: str | None
    evidence_type: ValueRef | None
    passage: str | None
    section: str | None
    section_title: str | None
    quote: str | None
    notes: list[str] = field(default_factory=list)
    extracted_from: SheetCell | None = None  # the extraction-sheet cell of a fact extracted by the review team


@dataclass(frozen=True)
class SheetCell:
    """Where the review team extracted a fact: the sheet's file name, its row (as a spreadsheet numbers it, the
    header being row 1) and the column's heading."""

    sheet: str
    row: int
    column: str


@dataclass(frozen=True)
class StudyDetail:
    summary: StudySummary
    bibliographic_citation: str | None
    url: str | None
    facts: list[Fact]
    notes: list[str]


def studies_bound(iris: Iterable[str] | None) -> Values | None:
    """The studies a query is bound to (a VALUES column of their IRIs), or None for every included study."""
    return None if iris is None else Values.column("study", [ox.NamedNode(i) for i in iris])


def facet_placement(facet: Facet) -> str:
    """``study`` when the facet's path is one property of the study, ``intervention`` when it is one property of
    the evaluated intervention, ``other`` for any longer path (read, but listed with the study's own facets)."""
    if len(facet.path) == 1:
        return "study"
    if len(facet.path) == 2 and facet.path[0] == EVALUATES:
        return "intervention"
    return "other"


RECORDS_QUERY = PREFIXES + """
SELECT ?study ?slug ?ref ?citation ?report ?title ?year ?doi ?authors ?journal ?url ?bibliographic
       ?intervention ?ilabel ?idescription
WHERE {
  ?study a evm:IncludedStudy ; evm:referenceNumber ?ref .
  OPTIONAL { ?study evm:slug ?slug }
  OPTIONAL { ?study evm:shortCitation ?citation }
  OPTIONAL {
    ?study evm:reportedIn ?report .
    OPTIONAL { ?report dcterms:title ?title }
    OPTIONAL { ?report fabio:hasPublicationYear ?year }
    OPTIONAL { ?report prism:doi ?doi }
    OPTIONAL { ?report evm:authors ?authors }
    OPTIONAL { ?report prism:publicationName ?journal }
    OPTIONAL { ?report schema:url ?url }
    OPTIONAL { ?report dcterms:bibliographicCitation ?bibliographic }
  }
  OPTIONAL {
    ?study evm:evaluates ?intervention .
    OPTIONAL { ?intervention rdfs:label ?ilabel }
    OPTIONAL { ?intervention dcterms:description ?idescription }
  }
}
ORDER BY ?ref ?study
"""


def _facet_branch(facet: Facet) -> str:
    """One UNION branch: the facet's values, the node they are stated on (?subject) and the last property."""
    nodes = ["?study", *[f"?_n{i}" for i in range(1, len(facet.path))], "?value"]
    steps = " ".join(f"{nodes[i]} <{p}> {nodes[i + 1]} ." for i, p in enumerate(facet.path))
    return f"{{ {steps} BIND({nodes[-2]} AS ?subject) BIND(<{facet.path[-1]}> AS ?p) BIND(<{facet.iri}> AS ?facet) }}"


def facet_values_query(vocabulary: Vocabulary) -> str:
    """Every concept-facet value of the included studies, with the node it is stated on and the property that
    states it."""
    branches = "\n  UNION ".join(_facet_branch(f) for f in vocabulary.concept_facets)
    head = "SELECT ?study ?facet ?value ?subject ?p WHERE {\n  ?study a evm:IncludedStudy .\n  "
    return PREFIXES + head + branches + "\n}"


# How each statement about a study or its intervention rests on the review. Required joins only: an OPTIONAL on the
# findings makes pyoxigraph scan every finding of the map (seconds at 10,000 studies); a finding that lacks a support
# kind or a passage (which the shapes forbid) still has its value listed, just without provenance.
_FINDINGS_OF = """
  {{ ?finding rdf:subject ?study ; rdf:predicate ?p ; rdf:object ?value ; {tail} . BIND(?study AS ?subject) }}
  UNION {{ ?study evm:evaluates ?subject . ?finding rdf:subject ?subject ; rdf:predicate ?p ; rdf:object ?value ;
           {tail} . }}"""
_STUDIES = "\n  ?study a evm:IncludedStudy ."
SUPPORT_QUERY = PREFIXES + "SELECT ?subject ?p ?value ?kind WHERE {" + _STUDIES + _FINDINGS_OF.format(
    tail="evm:support ?kind"
) + "\n}"
SECTION_QUERY = PREFIXES + "SELECT ?subject ?p ?value ?section WHERE {" + _STUDIES + _FINDINGS_OF.format(
    tail="prov:wasDerivedFrom ?passage"
) + "\n  ?passage evm:section/evm:sectionNumber ?section .\n}"


FACTS_QUERY = PREFIXES + """
SELECT ?study ?finding ?subject ?p ?plabel ?value ?kind ?rationale ?detail ?etype ?passage ?section ?stitle ?quote
       ?sheet ?row ?column
WHERE {
  ?study a evm:IncludedStudy .
  { ?finding rdf:subject ?study . BIND(?study AS ?subject) }
  UNION { ?study evm:evaluates ?subject . ?finding rdf:subject ?subject }
  ?finding a evm:Finding ; rdf:predicate ?p ; rdf:object ?value .
  OPTIONAL { ?p rdfs:label ?plabel }
  OPTIONAL { ?finding evm:support ?kind }
  OPTIONAL {
    ?finding evm:extractedFrom ?cell . ?cell dcterms:source ?sheet ; evm:sourceRow ?row ; evm:sourceColumn ?column
  }
  OPTIONAL { ?finding evm:rationale ?rationale }
  OPTIONAL { ?finding evm:detail ?detail }
  OPTIONAL { ?finding evm:findingEvidenceType ?etype }
  OPTIONAL {
    ?finding prov:wasDerivedFrom ?passage .
    OPTIONAL { ?passage evm:section ?sec . ?sec evm:sectionNumber ?section . OPTIONAL { ?sec dcterms:title ?stitle } }
    OPTIONAL { ?passage oa:hasSelector/oa:exact ?quote }
  }
}
"""

NOTES_QUERY = PREFIXES + """
SELECT ?subject ?comment WHERE { ?subject evm:sourceNote/rdfs:comment ?comment } ORDER BY ?subject ?comment
"""

STUDY_BY_SLUG = PREFIXES + "SELECT ?study WHERE { ?study evm:slug ?slug ; a evm:IncludedStudy }"
STUDY_BY_REF = PREFIXES + "SELECT ?study WHERE { ?study evm:referenceNumber ?ref ; a evm:IncludedStudy }"
IDENTIFIER = re.compile(r"[A-Za-z0-9][A-Za-z0-9._~-]{0,199}")
ALL_SLUGS = PREFIXES + "SELECT ?slug WHERE { ?study a evm:IncludedStudy ; evm:slug ?slug } ORDER BY ?slug"


class _Concepts:
    """Concept lookups by IRI for one vocabulary (Vocabulary.concept_by_iri scans every facet)."""

    def __init__(self, vocabulary: Vocabulary) -> None:
        self.by_iri = {c.iri: (f, c) for f in vocabulary.concept_facets for c in f.concepts}
        self.made: dict[tuple[str, str | None, str | None], ValueRef] = {}

    def ref(self, iri: str, support: str | None = None, section: str | None = None) -> ValueRef:
        """The (immutable, so shared) value for a concept with that support and section."""
        key = (iri, support, section)
        if key not in self.made:
            self.made[key] = self._make(iri, support, section)
        return self.made[key]

    def _make(self, iri: str, support: str | None, section: str | None) -> ValueRef:
        found = self.by_iri.get(iri)
        if found is None:
            slug = ns.last_segment(iri)
            return ValueRef(iri, slug, slug, "", "", support, section)
        facet, concept = found
        return ValueRef(
            iri, concept.slug, concept.pref_label, facet.name, scheme_slug(concept.scheme), support, section
        )


def _facet_values(
    evidence_map: EvidenceMap, vocabulary: Vocabulary, studies: Values | None, provenance: bool = True
) -> dict[str, dict[str, list[ValueRef]]]:
    """``{study IRI: {facet name: [value, ...]}}`` in the vocabulary's order of values, each with its support kind
    and review section when ``provenance`` (the strongest support wins when one statement has several findings:
    cited over derived over inferred, the ontology's order)."""
    facets_by_iri = {f.iri: f for f in vocabulary.concept_facets}
    support: dict[tuple[str, str, str], str] = {}
    section: dict[tuple[str, str, str], str] = {}
    if provenance:
        levels = support_levels(evidence_map)
        for row in evidence_map.select(SUPPORT_QUERY, studies):
            key = (str(row["subject"]), str(row["p"]), str(row["value"]))
            kind = support_name(str(row["kind"]))
            if key not in support or levels.rank(kind) < levels.rank(support[key]):
                support[key] = kind
        for row in evidence_map.select(SECTION_QUERY, studies):
            section.setdefault((str(row["subject"]), str(row["p"]), str(row["value"])), str(row["section"]))
    seen: dict[tuple[str, str, str], ValueRef] = {}
    concepts = _Concepts(vocabulary)
    for row in evidence_map.select(facet_values_query(vocabulary), studies):
        facet = facets_by_iri[row["facet"]]
        statement = (str(row["subject"]), str(row["p"]), str(row["value"]))
        seen.setdefault(
            (row["study"], facet.name, row["value"]),
            concepts.ref(row["value"], support.get(statement), section.get(statement)),
        )
    order = {c.iri: (f.order, c.order, c.pref_label) for f in vocabulary.concept_facets for c in f.concepts}
    out: dict[str, dict[str, list[ValueRef]]] = defaultdict(lambda: defaultdict(list))
    for (study, facet_name, _), ref in sorted(seen.items(), key=lambda kv: order.get(kv[0][2], (99, 0, kv[0][2]))):
        out[study][facet_name].append(ref)
    return out


def _summaries(
    evidence_map: EvidenceMap, vocabulary: Vocabulary, iris: Sequence[str] | None, provenance: bool = True
) -> tuple[list[StudySummary], dict[str, dict[str, object]]]:
    studies = studies_bound(iris)
    records: dict[str, dict[str, object]] = {}
    for row in evidence_map.select(RECORDS_QUERY, studies):
        records.setdefault(row["study"], row)
    values = _facet_values(evidence_map, vocabulary, studies, provenance)
    placement = {f.name: facet_placement(f) for f in vocabulary.concept_facets}
    summaries = []
    for iri, row in records.items():
        by_facet = values.get(iri, {})
        own = {n: list(by_facet.get(n, [])) for n, where in placement.items() if where != "intervention"}
        intervention = None
        if "intervention" in row:
            intervention = InterventionSummary(
                iri=str(row["intervention"]),
                label=optional_text(row.get("ilabel")),
                description=optional_text(row.get("idescription")),
                facets={n: list(by_facet.get(n, [])) for n, where in placement.items() if where == "intervention"},
            )
        summaries.append(
            StudySummary(
                iri=iri,
                id=str(row.get("slug") or ns.last_segment(iri)),
                ref=int(str(row["ref"])),
                citation=optional_text(row.get("citation")),
                title=optional_text(row.get("title")),
                year=int(str(row["year"])) if str(row.get("year", "")).isdigit() else None,
                doi=optional_text(row.get("doi")),
                authors=optional_text(row.get("authors")),
                journal=optional_text(row.get("journal")),
                report=optional_text(row.get("report")),
                facets=own,
                intervention=intervention,
            )
        )
    if iris is not None:
        position = {iri: i for i, iri in enumerate(iris)}
        summaries.sort(key=lambda s: position.get(s.iri, len(position)))
    return summaries, records


def optional_text(value: object) -> str | None:
    """A value read from a query row as text; None when unbound or empty."""
    return None if value is None or value == "" else str(value)


def study_summaries(
    evidence_map: EvidenceMap, vocabulary: Vocabulary, iris: Sequence[str] | None = None, *, provenance: bool = True
) -> list[StudySummary]:
    """Summaries of the studies ``iris`` in that order (every included study, by reference number, when None);
    without ``provenance`` the values carry no support kind or section (two queries fewer, for exports)."""
    if iris is None:
        return _summaries(evidence_map, vocabulary, None, provenance)[0]
    # A VALUES block of thousands of IRIs is slow (superlinear in pyoxigraph), so long lists are read in batches.
    out: list[StudySummary] = []
    for start in range(0, len(iris), BATCH):
        out.extend(_summaries(evidence_map, vocabulary, iris[start:start + BATCH], provenance)[0])
    return out


REFS_QUERY = PREFIXES + "SELECT ?study ?ref WHERE { ?study a evm:IncludedStudy ; evm:referenceNumber ?ref }"


def reference_numbers(evidence_map: EvidenceMap, iris: Sequence[str]) -> dict[str, int]:
    """``{study IRI: its reference number}`` for the studies ``iris`` (one index lookup each, in batches)."""
    out: dict[str, int] = {}
    for start in range(0, len(iris), BATCH):
        for row in evidence_map.select(REFS_QUERY, studies_bound(iris[start:start + BATCH])):
            out.setdefault(str(row["study"]), int(str(row["ref"])))
    return out


def find_study(evidence_map: EvidenceMap, identifier: str) -> str:
    """The IRI of the study with that slug (``blay-2025``) or reference number (``35``).

    :raises NotFound: naming the closest slugs.
    """
    # Only a well-formed identifier reaches the query, as a literal serialised by pyoxigraph (a VALUES block, which
    # the engine uses as an index lookup; a substitution is applied after a scan of every slug).
    if IDENTIFIER.fullmatch(identifier):
        if identifier.isdigit():
            term = ox.Literal(str(int(identifier)), datatype=ox.NamedNode(ns.XSD + "integer"))
            rows = evidence_map.select(STUDY_BY_REF, {"ref": term})
        else:
            rows = evidence_map.select(STUDY_BY_SLUG, {"slug": ox.Literal(identifier)})
        if rows:
            return str(rows[0]["study"])
    slugs = [str(r["slug"]) for r in evidence_map.select(ALL_SLUGS)]
    close = difflib.get_close_matches(identifier, slugs, n=5, cutoff=0.5)
    hint = f"Did you mean: {', '.join(close)}?" if close else "Studies are named by slug (e.g. " + (
        ", ".join(slugs[:3]) + ") or by their reference number in the review."
    )
    raise NotFound(f"No study {identifier!r} in this map.", hint=hint)


def study_detail(evidence_map: EvidenceMap, vocabulary: Vocabulary, iri: str) -> StudyDetail:
    """The study in full: its summary and every fact about it or its intervention, with provenance.

    :raises NotFound: when no included study has that IRI.
    """
    summaries, records = _summaries(evidence_map, vocabulary, [iri])
    if not summaries:
        raise NotFound(f"No included study {iri!r}.")
    summary, record = summaries[0], records[iri]
    facets_by_property = {f.path[-1]: f for f in vocabulary.concept_facets}
    rows = evidence_map.select(FACTS_QUERY, {"study": ox.NamedNode(iri)})
    subjects = {iri, *(r for r in (summary.report, summary.intervention and summary.intervention.iri) if r)}
    subjects.update(str(r["finding"]) for r in rows)
    notes: dict[str, list[str]] = defaultdict(list)
    for row in evidence_map.select(
        NOTES_QUERY, Values.column("subject", [ox.NamedNode(s) for s in sorted(subjects)])
    ):
        notes[str(row["subject"])].append(str(row["comment"]))
    facts: dict[str, Fact] = {}
    concepts = _Concepts(vocabulary)
    for row in rows:
        finding = str(row["finding"])
        if finding in facts:
            continue
        prop = str(row["p"])
        facet = facets_by_property.get(prop)
        facts[finding] = Fact(
            finding=finding,
            subject=str(row["subject"]),
            subject_kind="study" if row["subject"] == iri else "intervention",
            facet=facet.name if facet else None,
            property=prop,
            property_label=str(row.get("plabel") or prop.rsplit("#", 1)[-1]),
            value=concepts.ref(str(row["value"])),
            support=support_name(str(row["kind"])) if "kind" in row else None,
            rationale=optional_text(row.get("rationale")),
            detail=optional_text(row.get("detail")),
            evidence_type=concepts.ref(str(row["etype"])) if "etype" in row else None,
            passage=optional_text(row.get("passage")),
            section=optional_text(row.get("section")),
            section_title=optional_text(row.get("stitle")),
            quote=optional_text(row.get("quote")),
            notes=notes.get(finding, []),
            extracted_from=SheetCell(str(row["sheet"]), int(str(row["row"])), str(row["column"]))
            if "sheet" in row else None,
        )
    facet_order = {f.name: f.order for f in vocabulary.facets}
    value_order = {c.iri: c.order for f in vocabulary.concept_facets for c in f.concepts}
    ordered = sorted(
        facts.values(),
        key=lambda f: (facet_order.get(f.facet or "", 99), value_order.get(f.value.iri, 0), f.finding),
    )
    own_notes = [n for s in (iri, summary.report, summary.intervention and summary.intervention.iri) if s
                 for n in notes.get(s, [])]
    return StudyDetail(
        summary=summary,
        bibliographic_citation=optional_text(record.get("bibliographic")),
        url=optional_text(record.get("url")),
        facts=ordered,
        notes=list(dict.fromkeys(own_notes)),
    )
