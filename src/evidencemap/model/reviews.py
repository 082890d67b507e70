"""The record of the review a map is built from, read from the store: its bibliographic record and licence (which
every page credits), and its search sources, eligibility criteria, PRISMA-ScR flow stages (read by
:mod:`evidencemap.model.flow`) and notes."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

import pyoxigraph as ox

from evidencemap import namespaces as ns
from evidencemap.graph.store import EvidenceMap
from evidencemap.model.flow import FlowStage, flows_of
from evidencemap.model.studies import optional_text

PREFIXES = ns.sparql_prefixes(("evm", "prov", "oa"))

# The record's fields and the properties that hold them. Read as (review, property, value) rows rather than with one
# OPTIONAL per field: pyoxigraph evaluates an OPTIONAL by scanning every triple of its property (every report title
# of a large map) before joining.
REVIEW_FIELDS = {
    "slug": ns.EVM + "slug",
    "title": ns.DCTERMS + "title",
    "authors": ns.EVM + "authors",
    "citation": ns.EVM + "shortCitation",
    "journal": ns.PRISM + "publicationName",
    "volume_pages": ns.EVM + "volumePages",
    "year": ns.FABIO + "hasPublicationYear",
    "doi": ns.PRISM + "doi",
    "url": ns.SCHEMA + "url",
    "issued": ns.DCTERMS + "issued",
    "license": ns.DCTERMS + "license",
    "rights": ns.DCTERMS + "rights",
    "description": ns.DCTERMS + "description",
    "search_date": ns.EVM + "searchDate",
    "search_start": ns.EVM + "searchPeriodStart",
    "search_end": ns.EVM + "searchPeriodEnd",
    "keywords": ns.SCHEMA + "keywords",
    "methodology": ns.EVM + "methodology",
    "languages": ns.DCTERMS + "language",
}
LIST_FIELDS = ("keywords", "methodology", "languages")

REVIEWS_QUERY = PREFIXES + f"""
SELECT ?review ?p ?value WHERE {{
  ?review a evm:ScopingReview ; ?p ?value .
  FILTER(?p IN ({", ".join(f"<{iri}>" for iri in REVIEW_FIELDS.values())}))
}}
"""
REVIEW_STUDY_COUNTS = PREFIXES + """
SELECT ?review (COUNT(DISTINCT ?study) AS ?studies) WHERE { ?review a evm:ScopingReview ; evm:includesStudy ?study }
GROUP BY ?review
"""


# The parts of a review (search sources, eligibility criteria, notes; its flow is read by flow.py) with all their
# properties, and the section and quote of each part. One UNION branch per kind of part, with the review's IRI
# written in: bound this way the engine reads only the review's own triples (a review of 10,000 studies has 10,000
# evm:includesStudy).
REVIEW_PARTS = (ns.EVM + "searchedSource", ns.EVM + "eligibilityCriterion", ns.EVM + "sourceNote")
PART_HOPS = (
    ("section", "?node evm:section ?s . ?s evm:sectionNumber ?value ."),
    ("section", "?node prov:wasDerivedFrom ?s . ?s evm:sectionNumber ?value ."),
    ("quote", "?node prov:wasDerivedFrom ?s . ?s oa:hasSelector ?selector . ?selector oa:exact ?value ."),
)


def review_parts_query(review: ox.NamedNode) -> str:
    branches = " UNION ".join(
        f"{{ {review} <{link}> ?node . ?node ?p ?value . BIND(<{link}> AS ?link) }}" for link in REVIEW_PARTS
    )
    return PREFIXES + f"SELECT ?link ?node ?p ?value WHERE {{ {branches} }}"


def review_hops_query(review: ox.NamedNode) -> str:
    branches = " UNION ".join(
        f'{{ {review} <{link}> ?node . {pattern} BIND("{kind}" AS ?kind) }}'
        for link in REVIEW_PARTS for kind, pattern in PART_HOPS
    )
    return PREFIXES + f"SELECT ?node ?kind ?value WHERE {{ {branches} }}"


@dataclass(frozen=True)
class ReviewRecord:
    """The bibliographic record of a review: what every page credits, with its licence."""

    iri: str
    slug: str
    title: str | None
    authors: str | None
    citation: str | None
    journal: str | None
    volume_pages: str | None
    year: int | None
    doi: str | None
    url: str | None
    issued: str | None
    license: str | None
    rights: str | None
    description: str | None
    search_date: str | None
    search_period: str | None
    keywords: list[str]
    methodology: list[str]
    languages: list[str]
    study_count: int


@dataclass(frozen=True)
class SearchSource:
    iri: str
    label: str | None
    kind: str | None


@dataclass(frozen=True)
class Criterion:
    iri: str
    element: str | None
    label: str | None
    description: str | None
    section: str | None


@dataclass(frozen=True)
class ReviewDetails:
    sources: list[SearchSource]
    criteria: list[Criterion]
    flow: list[FlowStage]
    notes: list[str]


def reviews(evidence_map: EvidenceMap, *, count_studies: bool = True) -> list[ReviewRecord]:
    """Every review of the map, the one including most studies first (by IRI, with ``study_count`` 0, when not
    ``count_studies``: enough for the attribution every page shows)."""
    field_of = {iri: name for name, iri in REVIEW_FIELDS.items()}
    values: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    for row in evidence_map.select(REVIEWS_QUERY):
        values[str(row["review"])][field_of[evidence_map.canonical(str(row["p"]))]].append(str(row["value"]))
    counts = (
        {str(r["review"]): int(str(r["studies"])) for r in evidence_map.select(REVIEW_STUDY_COUNTS)}
        if count_studies else {}
    )
    for iri in counts:
        values.setdefault(iri, defaultdict(list))
    out = []
    for iri, fields in values.items():
        one = {name: (sorted(v)[0] if v else None) for name, v in fields.items() if name not in LIST_FIELDS}
        start, end = one.get("search_start"), one.get("search_end")
        year = one.get("year")
        out.append(
            ReviewRecord(
                iri=iri,
                slug=one.get("slug") or ns.last_segment(iri),
                title=one.get("title"),
                authors=one.get("authors"),
                citation=one.get("citation"),
                journal=one.get("journal"),
                volume_pages=one.get("volume_pages"),
                year=int(year) if year and year.isdigit() else None,
                doi=one.get("doi"),
                url=one.get("url"),
                issued=one.get("issued"),
                license=one.get("license"),
                rights=one.get("rights"),
                description=one.get("description"),
                search_date=one.get("search_date"),
                search_period=f"{start}–{end}" if start and end else start or end,
                keywords=sorted(set(fields.get("keywords", []))),
                methodology=sorted(set(fields.get("methodology", []))),
                languages=sorted(set(fields.get("languages", []))),
                study_count=counts.get(iri, 0),
            )
        )
    return sorted(out, key=lambda r: (-r.study_count, r.iri))


def review_details(evidence_map: EvidenceMap, review_iri: str) -> ReviewDetails:
    """The review's search sources, eligibility criteria, selection flow and notes on its text."""
    review = ox.NamedNode(review_iri)
    parts: dict[str, dict[str, dict[str, object]]] = defaultdict(lambda: defaultdict(dict))
    for row in evidence_map.select(review_parts_query(review)):
        if str(row["p"]) == ns.RDF + "type":
            continue  # its class, which a part's properties do not need; its local name would hide dcterms:type
        local = str(row["p"]).rsplit("#", 1)[-1].rsplit("/", 1)[-1]
        parts[evidence_map.canonical(str(row["link"]))][str(row["node"])].setdefault(local, row["value"])
    hops: dict[str, dict[str, str]] = defaultdict(dict)
    for row in evidence_map.select(review_hops_query(review)):
        hops[str(row["node"])].setdefault(str(row["kind"]), str(row["value"]))

    def of(link: str) -> list[tuple[str, dict[str, object]]]:
        return sorted(parts[ns.EVM + link].items())

    sources = [
        SearchSource(iri, optional_text(p.get("label")), optional_text(p.get("type")))
        for iri, p in of("searchedSource")
    ]
    criteria = [
        Criterion(iri, optional_text(p.get("pccElement")), optional_text(p.get("label")),
                  optional_text(p.get("description")), hops[iri].get("section"))
        for iri, p in of("eligibilityCriterion")
    ]
    flow = flows_of(evidence_map).get(review_iri)
    return ReviewDetails(
        sources=sorted(sources, key=lambda x: (x.kind or "", x.label or "")),
        criteria=criteria,
        flow=flow.ordered() if flow is not None else [],
        notes=[str(p["comment"]) for _, p in of("sourceNote") if "comment" in p],
    )


# The title of the map edition (the dcat:Dataset derived from a review), else the review's own title.
EDITION_TITLE = ns.sparql_prefixes(("dcterms", "prov", "evm")) + """PREFIX dcat: <http://www.w3.org/ns/dcat#>
SELECT ?title WHERE {
  ?edition a dcat:Dataset ; prov:wasDerivedFrom ?review ; dcterms:title ?title . ?review a evm:ScopingReview .
} ORDER BY ?edition LIMIT 1
"""


def map_title(evidence_map: EvidenceMap) -> str | None:
    """What the map is called (the home page's title): the short title of the map edition (``dcterms:title`` of the
    map's dcat:Dataset), or the title of the review it is built from; None for a map without either."""
    rows = evidence_map.select(EDITION_TITLE)
    if rows and rows[0].get("title"):
        return str(rows[0]["title"])
    found = reviews(evidence_map, count_studies=False)
    return found[0].title if found else None


# The example questions the map's edition offers readers (evm:exampleQuestion), in the order of their text.
EXAMPLE_QUESTIONS = ns.sparql_prefixes(("prov", "evm")) + """PREFIX dcat: <http://www.w3.org/ns/dcat#>
SELECT DISTINCT ?question WHERE {
  ?edition a dcat:Dataset ; prov:wasDerivedFrom ?review ; evm:exampleQuestion ?question .
} ORDER BY ?question
"""


def example_questions(evidence_map: EvidenceMap) -> list[str]:
    """The questions the map offers as examples of what to ask (the home page links each to its answer); empty for a
    map that states none. Read once per version of the map."""

    def build() -> list[str]:
        return [str(row["question"]) for row in evidence_map.select(EXAMPLE_QUESTIONS)]

    return evidence_map.derive("model.reviews.example_questions", build)
