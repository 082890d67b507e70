"""Several maps in one store: which maps there are (the map index), and the studies they share.

Each map is read through its scoped view (:meth:`EvidenceMap.scoped`), so that nothing here mixes two reviews.
The same study in two maps is one study: two included studies are matched when their reports have the same DOI
(compared as :func:`normalise_doi` writes it) or when the data link them with ``owl:sameAs``. The matrix of the
maps' studies (rows: studies matched across maps, each shown once; columns: the reviews) is built once per version
of the store.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pyoxigraph as ox

from evidencemap import namespaces as ns
from evidencemap.errors import NotFound
from evidencemap.graph.store import EvidenceMap
from evidencemap.model.reviews import map_title, reviews
from evidencemap.model.studies import find_study

OWL_SAME_AS = "http://www.w3.org/2002/07/owl#sameAs"

EDITION = ns.sparql_prefixes(("prov", "dcterms")) + """PREFIX dcat: <http://www.w3.org/ns/dcat#>
SELECT ?edition ?version ?modified WHERE {
  ?edition a dcat:Dataset ; prov:wasDerivedFrom ?review .
  OPTIONAL { ?edition dcat:version ?version } OPTIONAL { ?edition dcterms:modified ?modified }
} ORDER BY ?edition LIMIT 1
"""

STUDIES = ns.sparql_prefixes(("evm", "prism", "dcterms", "fabio", "rdfs")) + """
SELECT ?study ?slug ?ref ?citation ?doi ?title ?year WHERE {
  ?study a evm:IncludedStudy .
  OPTIONAL { ?study evm:slug ?slug } OPTIONAL { ?study evm:referenceNumber ?ref }
  OPTIONAL { ?study evm:shortCitation ?citation }
  OPTIONAL { ?study evm:reportedIn ?report .
             OPTIONAL { ?report prism:doi ?doi } OPTIONAL { ?report dcterms:title ?title }
             OPTIONAL { ?report fabio:hasPublicationYear ?year } }
} ORDER BY ?study
"""

SAME_AS = ns.sparql_prefixes(("evm",)) + f"""
SELECT ?a ?b WHERE {{ ?a <{OWL_SAME_AS}> ?b . ?a a evm:IncludedStudy . ?b a evm:IncludedStudy . }}
"""


def normalise_doi(doi: str | None) -> str | None:
    """A DOI as compared across maps: without ``https://doi.org/`` or ``doi:``, trimmed, in lower case (DOIs are
    case-insensitive).

    >>> normalise_doi(" https://doi.org/10.1080/ABC.1 "), normalise_doi("doi:10.1/x"), normalise_doi("")
    ('10.1080/abc.1', '10.1/x', None)
    """
    if not doi:
        return None
    text = doi.strip().lower()
    for prefix in ("https://doi.org/", "http://doi.org/", "https://dx.doi.org/", "http://dx.doi.org/", "doi:"):
        text = text.removeprefix(prefix)
    return text.strip() or None


@dataclass(frozen=True)
class MapSummary:
    """One map of the store, as the map index lists it."""

    slug: str
    title: str | None
    edition: str | None
    version: str | None
    modified: str | None
    review: str | None
    review_title: str | None
    review_citation: str | None
    review_doi: str | None
    study_count: int


def map_summaries(evidence_map: EvidenceMap) -> list[MapSummary]:
    """Every map of the store, by slug."""
    out = []
    for slug in evidence_map.map_slugs():
        view = evidence_map.scoped(slug)
        edition = view.select(EDITION)
        found = reviews(view)
        review = found[0] if found else None
        out.append(MapSummary(
            slug=slug,
            title=map_title(view),
            edition=str(edition[0]["edition"]) if edition else None,
            version=str(edition[0]["version"]) if edition and "version" in edition[0] else None,
            modified=str(edition[0]["modified"]) if edition and "modified" in edition[0] else None,
            review=review.iri if review else None,
            review_title=review.title if review else None,
            review_citation=review.citation if review else None,
            review_doi=review.doi if review else None,
            study_count=sum(r.study_count for r in found),
        ))
    return out


@dataclass(frozen=True)
class MapStudy:
    """One included study of one map."""

    map: str
    iri: str
    slug: str
    reference: int | None
    citation: str | None
    doi: str | None
    title: str | None
    year: str | None


@dataclass
class MatrixRow:
    """One study, matched across maps: the maps including it, each with its own record of the study."""

    doi: str | None
    entries: dict[str, MapStudy] = field(default_factory=dict)

    @property
    def label(self) -> str:
        first = self.entries[sorted(self.entries)[0]]
        return first.citation or first.title or first.slug

    @property
    def title(self) -> str | None:
        return next((e.title for e in self.entries.values() if e.title), None)

    @property
    def year(self) -> str | None:
        return next((e.year for e in self.entries.values() if e.year), None)


@dataclass(frozen=True)
class Matrix:
    """The review-by-study matrix: the maps (columns) and the studies matched across them (rows)."""

    maps: list[MapSummary]
    rows: list[MatrixRow]
    by_study: dict[str, MatrixRow] = field(default_factory=dict)  # each study's IRI (of any map) -> its row

    def row_of(self, iri: str) -> MatrixRow | None:
        """The row holding the study ``iri`` (of any map)."""
        return self.by_study.get(iri)

    @property
    def shared(self) -> list[MatrixRow]:
        """The rows of studies that more than one map includes."""
        return [r for r in self.rows if len(r.entries) > 1]


def map_studies(evidence_map: EvidenceMap, slug: str) -> list[MapStudy]:
    """The included studies of the map ``slug``, with what matching them needs."""
    out = []
    for row in evidence_map.scoped(slug).select(STUDIES):
        iri = str(row["study"])
        out.append(MapStudy(
            map=slug, iri=iri, slug=str(row.get("slug") or ns.last_segment(iri)),
            reference=int(row["ref"]) if "ref" in row else None,
            citation=str(row["citation"]) if "citation" in row else None,
            doi=str(row["doi"]) if "doi" in row else None,
            title=str(row["title"]) if "title" in row else None,
            year=str(row["year"]) if "year" in row else None,
        ))
    return out


def _root(evidence_map: EvidenceMap) -> EvidenceMap:
    return evidence_map.parent if evidence_map.parent is not None else evidence_map


def build_matrix(evidence_map: EvidenceMap) -> Matrix:
    """The matrix of every map of the store (a view: of the store it is a view of)."""
    store = _root(evidence_map)
    summaries = map_summaries(store)
    studies = [s for m in summaries for s in map_studies(store, m.slug)]
    # Union-find over the studies: the same normalised DOI, or an owl:sameAs link, is the same study.
    parent = {s.iri: s.iri for s in studies}

    def find(iri: str) -> str:
        while parent[iri] != iri:
            parent[iri] = parent[parent[iri]]
            iri = parent[iri]
        return iri

    def join(a: str, b: str) -> None:
        if a in parent and b in parent:
            parent[find(a)] = find(b)

    by_doi: dict[str, str] = {}
    for s in studies:
        doi = normalise_doi(s.doi)
        if doi is not None:
            join(s.iri, by_doi.setdefault(doi, s.iri))
    for link in store.select(SAME_AS):
        join(str(link["a"]), str(link["b"]))

    groups: dict[str, MatrixRow] = {}
    for s in studies:
        row = groups.setdefault(find(s.iri), MatrixRow(doi=None))
        row.entries.setdefault(s.map, s)
        row.doi = row.doi or normalise_doi(s.doi)
    rows = sorted(groups.values(), key=lambda r: (-len(r.entries), r.label.lower(), r.doi or ""))
    return Matrix(maps=summaries, rows=rows, by_study={e.iri: r for r in rows for e in r.entries.values()})


def matrix_of(evidence_map: EvidenceMap) -> Matrix:
    """:func:`build_matrix`, once per version of the store."""
    store = _root(evidence_map)
    return store.derive("model.maps.matrix", lambda: build_matrix(store))


def maps_with_study(evidence_map: EvidenceMap, identifier: str) -> list[str]:
    """The slugs of the maps that have a study named ``identifier`` (its slug or reference number)."""
    out = []
    for slug in _root(evidence_map).map_slugs():
        try:
            find_study(evidence_map.scoped(slug), identifier)
        except NotFound:
            continue
        out.append(slug)
    return out


def moved_resource(evidence_map: EvidenceMap, kind: str, slug: str) -> list[str]:
    """The canonical IRIs ``data/{map}/{kind}/{slug}`` that exist in some map: where a resource of a map's former
    shared IRI space (``data/{kind}/{slug}``, before each map had its own) is now."""
    store = _root(evidence_map)
    found = []
    for map_slug in store.map_slugs():
        iri = f"{ns.DATA}{map_slug}/{kind}/{slug}"
        if store.scoped(map_slug).quads(subject=ox.NamedNode(store.iri(iri))):
            found.append(iri)
    return found
