"""How to cite this map and what it holds: the map edition's record (title, version, date, the review it is built
from with its DOI and licence), the "how to cite this map" sentence every page shows, and citation records of the
map, its review and its studies written as RIS (rispy), BibTeX (bibtexparser) and CSL-JSON.

Every field comes from the map: nothing is completed or guessed. Authors are kept as the map writes them
("Blay M, Uludag-Martin A"); a name is split into family and given names only when it is a family name followed by
initials, and otherwise kept whole (a group such as "Sadag Support Group" is a literal name, not a person).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import pyoxigraph as ox
import rispy  # type: ignore[import-untyped]  # rispy ships no type information
from bibtexparser.entrypoint import write_string
from bibtexparser.library import Library
from bibtexparser.model import Entry, Field

from evidencemap import namespaces as ns
from evidencemap.graph.store import EvidenceMap
from evidencemap.graph.values import Values
from evidencemap.model.reviews import ReviewRecord, reviews
from evidencemap.model.studies import StudySummary

DCAT = "http://www.w3.org/ns/dcat#"

# The map edition: the dcat:Dataset derived from a review, with its own date (dcterms:modified, else issued).
EDITION_QUERY = ns.sparql_prefixes(("evm", "prov", "rdfs", "dcterms")) + f"""PREFIX dcat: <{DCAT}>
SELECT ?edition ?review ?title ?label ?version ?modified ?issued WHERE {{
  ?edition a dcat:Dataset ; dcat:version ?version ; prov:wasDerivedFrom ?review . ?review a evm:ScopingReview .
  OPTIONAL {{ ?edition dcterms:title ?title }}
  OPTIONAL {{ ?edition rdfs:label ?label }}
  OPTIONAL {{ ?edition dcterms:modified ?modified }}
  OPTIONAL {{ ?edition dcterms:issued ?issued }}
}} ORDER BY ?edition LIMIT 1
"""

# The kind of each study report (fabio:JournalArticle, fabio:BookChapter), bound to the reports' IRIs.
REPORT_TYPES = "SELECT ?report ?type WHERE { ?report a ?type }"

# A person's name as the reference list writes it: a family name, then initials ("Uludag-Martin A", "Grenyer BFS").
PERSON = re.compile(r"^(?P<family>[^\W\d_][\w'’.-]*(?: [^\W\d_][\w'’.-]*)*?) (?P<given>[A-Z](?:-?[A-Z]){0,3})$")
DATE = re.compile(r"\d{4}(?:-\d{2}){0,2}")
AUTHOR_SEPARATOR = re.compile(r",\s*|\s+and\s+")


@dataclass(frozen=True)
class MapEdition:
    """The map edition's record and the review it is built from."""

    iri: str
    title: str
    version: str
    date: str | None
    review: ReviewRecord | None

    @property
    def doi(self) -> str | None:
        return self.review.doi if self.review else None

    @property
    def doi_url(self) -> str | None:
        return f"https://doi.org/{self.doi}" if self.doi else None

    @property
    def licence(self) -> str | None:
        return self.review.license if self.review else None

    @property
    def review_citation(self) -> str | None:
        """The review as its reference is written: authors (year). Title. Journal volume:pages."""
        review = self.review
        if review is None:
            return None
        parts = [f"{review.authors or review.citation or ''}{f' ({review.year})' if review.year else ''}.".lstrip()]
        if review.title:
            parts.append(f"{review.title}.")
        if review.journal:
            parts.append(f"{review.journal} {review.volume_pages or ''}".strip() + ".")
        return " ".join(p for p in parts if p != ".")


def map_edition(evidence_map: EvidenceMap) -> MapEdition | None:
    """The map's edition record, or None for a map that states none."""
    rows = evidence_map.select(EDITION_QUERY)
    if not rows:
        return None
    row = rows[0]
    review_iri = str(row["review"])
    review = next((r for r in reviews(evidence_map, count_studies=False) if r.iri == review_iri), None)
    date = row.get("modified") or row.get("issued")
    return MapEdition(
        iri=str(row["edition"]),
        title=str(row.get("title") or row.get("label") or (review.title if review else None) or row["edition"]),
        version=str(row["version"]),
        date=str(date) if date is not None else None,
        review=review,
    )


def how_to_cite(edition: MapEdition) -> str:
    """The "how to cite this map" sentence: the map, its version and date, the review, its DOI and licence."""
    parts = [f"{edition.title}, version {edition.version}" + (f" ({edition.date})" if edition.date else "") + "."]
    if edition.review_citation:
        parts.append(f"Evidence map of {edition.review_citation}")
    if edition.doi:
        parts.append(f"doi:{edition.doi}.")
    if edition.licence:
        parts.append(f"Licence: {edition.licence}.")
    return " ".join(parts)


# -- citation records ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Name:
    """An author: ``family`` and ``given`` when the map's name splits unambiguously, else the name whole."""

    literal: str
    family: str | None = None
    given: str | None = None


@dataclass(frozen=True)
class Citation:
    """One citable work, in the terms every format shares. ``kind`` is article, chapter, dataset or generic."""

    key: str
    kind: str
    title: str | None
    authors: tuple[Name, ...] = ()
    year: int | None = None
    date: str | None = None
    container: str | None = None
    volume_pages: str | None = None
    doi: str | None = None
    url: str | None = None
    version: str | None = None
    note: str | None = None


def names(authors: str | None) -> tuple[Name, ...]:
    """The authors as the map lists them ("Dufour A-S, Nadeau L and Cailhol L"), each split where unambiguous."""
    out = []
    for part in AUTHOR_SEPARATOR.split(authors or ""):
        name = part.strip()
        if not name:
            continue
        match = PERSON.fullmatch(name)
        out.append(Name(name, match["family"], match["given"]) if match else Name(name))
    return tuple(out)


def _report_kinds(evidence_map: EvidenceMap, reports: Sequence[str]) -> dict[str, str]:
    kinds = {ns.FABIO + "JournalArticle": "article", ns.FABIO + "BookChapter": "chapter"}
    if not reports:
        return {}
    found: dict[str, str] = {}
    bound = Values.column("report", [ox.NamedNode(r) for r in reports])
    for row in evidence_map.select(REPORT_TYPES, bound):
        kind = kinds.get(evidence_map.canonical(str(row["type"])))
        if kind:
            found[str(row["report"])] = kind
    return found


def study_citations(evidence_map: EvidenceMap, studies: Sequence[StudySummary]) -> list[Citation]:
    """The citation records of ``studies`` (their reports as the review's reference list gives them)."""
    kinds = _report_kinds(evidence_map, sorted({s.report for s in studies if s.report}))
    return [
        Citation(
            key=s.id, kind=kinds.get(s.report or "", "generic"), title=s.title, authors=names(s.authors),
            year=s.year, container=s.journal, doi=s.doi, url=s.doi_url,
        )
        for s in studies
    ]


def review_citation(review: ReviewRecord) -> Citation:
    return Citation(
        key=review.slug, kind="article", title=review.title, authors=names(review.authors), year=review.year,
        date=review.issued, container=review.journal, volume_pages=review.volume_pages, doi=review.doi,
        url=review.url or (f"https://doi.org/{review.doi}" if review.doi else None),
    )


def map_citations(edition: MapEdition) -> list[Citation]:
    """The map itself (a dataset: title, version, date, its IRI, the review it maps in a note) and its review."""
    year = int(edition.date[:4]) if edition.date and edition.date[:4].isdigit() else None
    note = f"Evidence map of {edition.review_citation}" if edition.review_citation else None
    if note and edition.doi:
        note += f" doi:{edition.doi}."
    if note and edition.licence:
        note += f" Licence: {edition.licence}."
    key = f"{ns.last_segment(edition.iri)}-map"
    own = Citation(key=key, kind="dataset", title=edition.title, year=year, date=edition.date, url=edition.iri,
                   version=edition.version, note=note)
    return [own, *([review_citation(edition.review)] if edition.review else [])]


# -- formats -------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CitationFormat:
    name: str
    media_type: str
    extension: str


CITATION_FORMATS = {
    f.name: f
    for f in (
        CitationFormat("ris", "application/x-research-info-systems", "ris"),
        CitationFormat("bibtex", "application/x-bibtex", "bib"),
        CitationFormat("csl-json", "application/vnd.citationstyles.csl+json", "json"),
    )
}

RIS_TYPES = {"article": "JOUR", "chapter": "CHAP", "dataset": "DATA", "generic": "GEN"}
BIBTEX_TYPES = {"article": "article", "chapter": "incollection", "dataset": "misc", "generic": "misc"}
CSL_TYPES = {"article": "article-journal", "chapter": "chapter", "dataset": "dataset", "generic": "document"}


class PlainRisWriter(rispy.RisWriter):  # type: ignore[misc]  # rispy's classes are untyped
    """rispy's writer without its "1." line before each reference, which is not RIS (importers read only tags)."""

    def set_header(self, count: int) -> str:
        return ""


def to_ris(citations: Iterable[Citation]) -> str:
    """RIS, written by rispy: one reference per citation."""
    records = []
    for c in citations:
        record: dict[str, Any] = {"type_of_reference": RIS_TYPES[c.kind], "id": c.key}
        fields = {
            "title": c.title, "year": str(c.year) if c.year else None, "date": c.date, "doi": c.doi,
            "edition": c.version, "notes": [c.note] if c.note else None, "urls": [c.url] if c.url else None,
            "authors": [a.literal if a.family is None else f"{a.family}, {a.given}" for a in c.authors] or None,
            "secondary_title": c.container,
        }
        record.update({k: v for k, v in fields.items() if v})
        records.append(record)
    return str(rispy.dumps(records, implementation=PlainRisWriter))


def _bibtex_name(name: Name) -> str:
    return f"{name.family}, {name.given}" if name.family is not None else f"{{{name.literal}}}"


def to_bibtex(citations: Iterable[Citation]) -> str:
    """BibTeX, written by bibtexparser: one entry per citation, keyed by the study's (or map's) id."""
    library = Library()
    for c in citations:
        values = {
            "title": c.title, "author": " and ".join(_bibtex_name(a) for a in c.authors) or None,
            "year": str(c.year) if c.year else None,
            "journal" if c.kind == "article" else "booktitle" if c.kind == "chapter" else "howpublished": c.container,
            "doi": c.doi, "url": c.url, "version": c.version, "note": c.note,
        }
        if c.kind == "article" and c.volume_pages:
            volume, _, pages = c.volume_pages.partition(":")
            values.update(volume=volume or None, pages=pages or None)
        library.add(Entry(BIBTEX_TYPES[c.kind], c.key, [Field(k, v) for k, v in values.items() if v]))
    return write_string(library)


def _csl_name(name: Name) -> dict[str, str]:
    return {"family": name.family, "given": name.given or ""} if name.family is not None else {"literal": name.literal}


def date_parts(citation: Citation) -> list[int]:
    """The CSL ``date-parts`` of a citation: its full date when it has one (2025-10-23), else its year."""
    if citation.date and DATE.fullmatch(citation.date):
        return [int(p) for p in citation.date.split("-")]
    return [citation.year] if citation.year else []


def csl_items(citations: Iterable[Citation]) -> list[dict[str, Any]]:
    """CSL-JSON items (the CSL data schema): one per citation."""
    items = []
    for c in citations:
        item: dict[str, Any] = {"id": c.key, "type": CSL_TYPES[c.kind]}
        fields: dict[str, Any] = {
            "title": c.title, "author": [_csl_name(a) for a in c.authors] or None, "container-title": c.container,
            "DOI": c.doi, "URL": c.url, "version": c.version, "note": c.note,
            "issued": {"date-parts": [date_parts(c)]} if c.year else None,
        }
        if c.kind == "article" and c.volume_pages:
            volume, _, page = c.volume_pages.partition(":")
            fields.update(volume=volume or None, page=page or None)
        item.update({k: v for k, v in fields.items() if v})
        items.append(item)
    return items


def to_csl_json(citations: Iterable[Citation]) -> str:
    return json.dumps(csl_items(citations), ensure_ascii=False, indent=2) + "\n"


WRITERS = {"ris": to_ris, "bibtex": to_bibtex, "csl-json": to_csl_json}


def write(citations: Sequence[Citation], format_name: str) -> str:
    """``citations`` in the format named ``format_name`` (a key of :data:`CITATION_FORMATS`)."""
    return WRITERS[format_name](citations)
