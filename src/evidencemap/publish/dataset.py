"""The dataset described for machines: VoID + DCAT (with PROV for the named graphs), and the downloadable dumps.

Everything in the description is read from the map (the review's record, the ontology header, the graphs and their
triple counts) or from the files it was loaded from; nothing about a particular review is written here. URLs are
under the map's base IRI, since the server answers for ``base_iri + path`` at ``/path``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pyoxigraph as ox

from evidencemap import __version__
from evidencemap import namespaces as ns
from evidencemap.graph.formats import RDF_FORMATS, Format
from evidencemap.graph.loading import find_maps
from evidencemap.graph.store import EvidenceMap
from evidencemap.publish.exports import rdf_dump
from evidencemap.resources import bundled_map_dir, vocabulary_files

VOID = "http://rdfs.org/ns/void#"
DCAT = "http://www.w3.org/ns/dcat#"
SPDX = "http://spdx.org/rdf/terms#"
CC = "http://creativecommons.org/ns#"
SD = "http://www.w3.org/ns/sparql-service-description#"
FOAF = "http://xmlns.com/foaf/0.1/"
OWL = "http://www.w3.org/2002/07/owl#"
IANA_MEDIA_TYPES = "https://www.iana.org/assignments/media-types/"

DATASET = ns.CANONICAL_BASE + "dataset"


@dataclass(frozen=True)
class Dump:
    """One downloadable file of the whole map."""

    filename: str
    media_type: str
    title: str
    content: bytes

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.content).hexdigest()

    @property
    def size(self) -> int:
        return len(self.content)


# (format, title) of each dump: triple formats merge the named graphs, quad formats keep them.
DUMP_FORMATS: tuple[tuple[Format, str], ...] = (
    (RDF_FORMATS["ttl"], "All triples (named graphs merged), Turtle"),
    (RDF_FORMATS["nt"], "All triples (named graphs merged), N-Triples"),
    (RDF_FORMATS["jsonld"], "All named graphs, JSON-LD"),
    (RDF_FORMATS["nq"], "All named graphs, N-Quads"),
    (RDF_FORMATS["trig"], "All named graphs, TriG"),
)

CORE_VOCABULARY_DESCRIPTION = ("vocabulary graph", "The ontology, its facets and its SKOS concept schemes.")
# What each part of a map's graphs (graph/{slug}/{part}) holds.
PART_DESCRIPTIONS = {
    "data": ("data graph", "The review, its included studies, their reports and interventions, the findings "
             "about them and the passages of the review each finding rests on."),
    "claims": ("claims graph", "Every count the review states, as a claim of the review with its section."),
    "vocabulary": ("map vocabulary graph", "The concepts and concept schemes this map adds to the core vocabulary."),
    "inferred": ("inferred graph", "The statement of every finding, materialised when the map is loaded, so "
                 "that a study's facts can be queried directly."),
    "changes": ("changes graph", "The record of every change made to the map since it was published."),
}


def graph_description(evidence_map: EvidenceMap, graph: str) -> tuple[str, str]:
    """(title, description) of a named graph (served IRI): the core vocabulary, or a part of one map."""
    canonical = evidence_map.canonical(graph)
    if canonical == ns.GRAPH_VOCABULARY:
        return CORE_VOCABULARY_DESCRIPTION
    slug, _, part = canonical.removeprefix(ns.GRAPH).partition("/")
    if part in PART_DESCRIPTIONS:
        title, text = PART_DESCRIPTIONS[part]
        return f"{title} of map {slug}", text
    return "named graph", ""


def dataset_iri(evidence_map: EvidenceMap) -> str:
    """The IRI the description is about: the whole store's dataset, or, for one map (a scoped view), its edition
    record ``data/map/{slug}`` (itself a dcat:Dataset)."""
    if evidence_map.slug is None:
        return evidence_map.iri(DATASET)
    return evidence_map.iri(ns.DATA + "map/" + evidence_map.slug)


def build_dumps(evidence_map: EvidenceMap) -> tuple[Dump, ...]:
    """The dumps, built from the store as it is now (the same bytes ``evidencemap export`` writes)."""
    return tuple(
        Dump(f"evidencemap.{fmt.extension}", fmt.media_type, title, rdf_dump(evidence_map, fmt.name))
        for fmt, title in DUMP_FORMATS
    )


def sha256sums(dumps: Iterable[Dump]) -> str:
    """The dumps' checksums in the format ``sha256sum --check`` reads."""
    return "".join(f"{d.sha256}  {d.filename}\n" for d in dumps)


def triple_counts(evidence_map: EvidenceMap) -> tuple[int, dict[str, int]]:
    """(distinct triples over all graphs, triples per named graph) -- counted with SPARQL."""
    total = evidence_map.select("SELECT (COUNT(*) AS ?n) WHERE { SELECT DISTINCT ?s ?p ?o WHERE { ?s ?p ?o } }")
    per_graph = evidence_map.select("SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g")
    return int(total[0]["n"]), {row["g"]: int(row["n"]) for row in per_graph}


def _namespace(iri: str) -> str:
    return iri[: max(iri.rfind("#"), iri.rfind("/")) + 1]


def vocabularies_used(evidence_map: EvidenceMap) -> list[str]:
    """Namespaces of the properties and classes the map uses."""
    rows = evidence_map.select("SELECT DISTINCT ?t WHERE { { ?s ?t ?o } UNION { ?s a ?t } FILTER(isIRI(?t)) }")
    return sorted({_namespace(row["t"]) for row in rows} - {""})


REVIEW_QUERY = ns.sparql_prefixes(("evm", "dcterms", "schema", "prism", "fabio")) + """
SELECT ?review ?title ?authors ?short ?journal ?volume ?doi ?url ?year ?issued ?license ?rights WHERE {
  ?review a evm:ScopingReview .
  OPTIONAL { ?review dcterms:title ?title } OPTIONAL { ?review evm:authors ?authors }
  OPTIONAL { ?review evm:shortCitation ?short } OPTIONAL { ?review prism:publicationName ?journal }
  OPTIONAL { ?review evm:volumePages ?volume } OPTIONAL { ?review prism:doi ?doi }
  OPTIONAL { ?review schema:url ?url } OPTIONAL { ?review fabio:hasPublicationYear ?year }
  OPTIONAL { ?review dcterms:issued ?issued } OPTIONAL { ?review dcterms:license ?license }
  OPTIONAL { ?review dcterms:rights ?rights }
} ORDER BY ?review
"""

EDITIONS_QUERY = ns.sparql_prefixes(("evm", "prov", "rdfs")) + """
PREFIX dcat: <http://www.w3.org/ns/dcat#>
SELECT ?edition ?version ?label WHERE {
  ?edition a dcat:Dataset ; dcat:version ?version ; prov:wasDerivedFrom ?review .
  ?review a evm:ScopingReview .
  OPTIONAL { ?edition rdfs:label ?label }
} ORDER BY ?edition
"""


def map_version(editions: list[dict[str, object]]) -> str | None:
    """The version the map states for itself (its edition records); None when it states none. With several maps
    served together, each version is named after its edition."""
    if not editions:
        return None
    if len(editions) == 1:
        return str(editions[0]["version"])
    return "; ".join(f"{e.get('label', e['edition'])} {e['version']}" for e in editions)


ONTOLOGY_QUERY = """
PREFIX owl: <http://www.w3.org/2002/07/owl#>
PREFIX dcterms: <http://purl.org/dc/terms/>
PREFIX foaf: <http://xmlns.com/foaf/0.1/>
SELECT ?ontology ?version ?name WHERE {
  ?ontology a owl:Ontology . OPTIONAL { ?ontology owl:versionInfo ?version }
  OPTIONAL { ?ontology dcterms:creator ?creator . ?creator foaf:name ?name }
} ORDER BY ?ontology ?name
"""

FINDING_GRAPHS = ns.sparql_prefixes(("evm",)) + "SELECT DISTINCT ?g WHERE { GRAPH ?g { ?f a evm:Finding } } ORDER BY ?g"


def attribution(review: dict[str, object]) -> str:
    """The attribution line the review's licence asks for, from its bibliographic record."""
    parts = [f"{review.get('authors', review.get('short', ''))} ({review.get('year', '')})."]
    if review.get("title"):
        parts.append(f"{review['title']}.")
    if review.get("journal"):
        parts.append(f"{review['journal']} {review.get('volume', '')}".strip() + ".")
    if review.get("doi"):
        parts.append(f"doi:{review['doi']}.")
    return " ".join(parts)


class _Triples:
    """A small builder: ``add(subject, predicate, object)`` with plain strings for IRIs."""

    def __init__(self) -> None:
        self.triples: list[ox.Triple] = []

    def add(self, s: str | ox.BlankNode, p: str, o: str | ox.BlankNode | ox.Literal) -> None:
        subject = ox.NamedNode(s) if isinstance(s, str) else s
        obj = ox.NamedNode(o) if isinstance(o, str) else o
        self.triples.append(ox.Triple(subject, ox.NamedNode(p), obj))


def _typed(value: object, datatype: str) -> ox.Literal:
    return ox.Literal(str(value), datatype=ox.NamedNode(ns.XSD + datatype))


def _timestamp(seconds: float) -> ox.Literal:
    return _typed(datetime.fromtimestamp(seconds, UTC).isoformat(timespec="seconds"), "dateTime")


def _checksum(g: _Triples, subject: str | ox.BlankNode, content: bytes) -> None:
    node = ox.BlankNode()
    g.add(subject, SPDX + "checksum", node)
    g.add(node, ns.RDF + "type", SPDX + "Checksum")
    g.add(node, SPDX + "algorithm", SPDX + "checksumAlgorithm_sha256")
    g.add(node, SPDX + "checksumValue", _typed(hashlib.sha256(content).hexdigest(), "hexBinary"))


def _file_entity(g: _Triples, path: Path) -> ox.BlankNode:
    node = ox.BlankNode()
    g.add(node, ns.RDF + "type", ns.PROV + "Entity")
    g.add(node, ns.DCTERMS + "title", ox.Literal(f"{path.parent.name}/{path.name}"))
    _checksum(g, node, path.read_bytes())
    return node


def description(evidence_map: EvidenceMap, dumps: tuple[Dump, ...]) -> list[ox.Triple]:
    """The VoID / DCAT / PROV description of the map, its named graphs, its SPARQL endpoint and its dumps."""
    base = evidence_map.settings.base_iri
    dataset = dataset_iri(evidence_map)
    g = _Triples()
    reviews = evidence_map.select(REVIEW_QUERY)
    ontology = evidence_map.select(ONTOLOGY_QUERY)
    total, per_graph = triple_counts(evidence_map)

    for kind in (VOID + "Dataset", DCAT + "Dataset", ns.PROV + "Entity"):
        g.add(dataset, ns.RDF + "type", kind)
    names = ", ".join(str(r.get("short") or r["review"]) for r in reviews)
    g.add(dataset, ns.DCTERMS + "title", ox.Literal(f"evidencemap: the evidence of {names}", language="en"))
    g.add(dataset, ns.DCTERMS + "description", ox.Literal(
        "Every fact of the scoping review as RDF: the included studies, what the review says about each of them "
        "(each fact with the section and words of the review it rests on), and every count the review states.",
        language="en"))
    editions = evidence_map.select(EDITIONS_QUERY)
    version = map_version(editions)
    if version is not None:  # the map's own edition, never the software's version
        g.add(dataset, DCAT + "version", ox.Literal(version))
        g.add(dataset, OWL + "versionInfo", ox.Literal(version))
    for edition in editions:
        if str(edition["edition"]) != dataset:
            g.add(dataset, ns.DCTERMS + "hasPart", str(edition["edition"]))
    site = base if evidence_map.slug is None else f"{base}maps/{evidence_map.slug}/"  # a map's own site
    g.add(dataset, DCAT + "landingPage", site)
    g.add(dataset, VOID + "uriSpace", ox.Literal(evidence_map.iri(ns.DATA)))
    g.add(dataset, VOID + "triples", _typed(total, "integer"))
    sources = [*vocabulary_files(), *(f for files in map_files(evidence_map).values() for f in files)]
    g.add(dataset, ns.DCTERMS + "modified", _timestamp(max(p.stat().st_mtime for p in sources)))

    for row in ontology:
        g.add(dataset, ns.DCTERMS + "conformsTo", row["ontology"])
        if "name" in row:
            agent = ox.BlankNode()
            g.add(dataset, ns.DCTERMS + "creator", agent)
            g.add(agent, ns.RDF + "type", FOAF + "Agent")
            g.add(agent, FOAF + "name", ox.Literal(row["name"]))

    for review in reviews:
        iri = review["review"]
        g.add(dataset, ns.DCTERMS + "source", iri)
        g.add(dataset, VOID + "rootResource", iri)
        g.add(dataset, CC + "attributionName", ox.Literal(attribution(review)))
        if "url" in review:
            g.add(dataset, ns.PROV + "wasDerivedFrom", review["url"])
            g.add(dataset, CC + "attributionURL", review["url"])
            g.add(iri, ns.SCHEMA + "url", review["url"])
        if "license" in review:
            g.add(dataset, ns.DCTERMS + "license", review["license"])
            g.add(dataset, CC + "license", review["license"])
        if "rights" in review:
            g.add(dataset, ns.DCTERMS + "rights", ox.Literal(review["rights"]))
        if "title" in review:
            g.add(iri, ns.DCTERMS + "title", ox.Literal(review["title"], language="en"))
        if "issued" in review:
            g.add(iri, ns.DCTERMS + "issued", _typed(review["issued"], "date"))
        for creator in evidence_map.select(
            ns.sparql_prefixes(("dcterms",)) + "SELECT ?r ?c WHERE { ?r dcterms:creator ?c } ORDER BY ?c",
            {"r": ox.NamedNode(iri)},
        ):
            g.add(iri, ns.DCTERMS + "creator", ox.Literal(str(creator["c"])))

    example = evidence_map.select(
        ns.sparql_prefixes(("evm",)) + "SELECT ?s WHERE { ?s a evm:IncludedStudy ; evm:referenceNumber ?n } "
        "ORDER BY ?n LIMIT 1"
    )
    if example:
        g.add(dataset, VOID + "exampleResource", example[0]["s"])
    for vocabulary in vocabularies_used(evidence_map):
        g.add(dataset, VOID + "vocabulary", vocabulary)

    sparql = base + "sparql"
    g.add(dataset, VOID + "sparqlEndpoint", sparql)
    for kind in (DCAT + "DataService", SD + "Service"):
        g.add(sparql, ns.RDF + "type", kind)
    g.add(sparql, DCAT + "endpointURL", sparql)
    g.add(sparql, SD + "endpoint", sparql)
    g.add(sparql, DCAT + "servesDataset", dataset)
    g.add(sparql, ns.DCTERMS + "conformsTo", "https://www.w3.org/TR/sparql11-protocol/")
    g.add(sparql, ns.DCTERMS + "title", ox.Literal("SPARQL 1.1 endpoint", language="en"))

    for dump in dumps:
        url = site + "dumps/" + dump.filename
        g.add(dataset, DCAT + "distribution", url)
        g.add(dataset, VOID + "dataDump", url)
        g.add(url, ns.RDF + "type", DCAT + "Distribution")
        g.add(url, ns.DCTERMS + "title", ox.Literal(dump.title, language="en"))
        g.add(url, DCAT + "downloadURL", url)
        g.add(url, DCAT + "mediaType", IANA_MEDIA_TYPES + dump.media_type)
        g.add(url, DCAT + "byteSize", _typed(dump.size, "nonNegativeInteger"))
        _checksum(g, url, dump.content)

    _describe_graphs(evidence_map, g, dataset, per_graph, reviews, ontology)
    return g.triples


def _describe_graphs(
    evidence_map: EvidenceMap,
    g: _Triples,
    dataset: str,
    per_graph: dict[str, int],
    reviews: list[dict[str, object]],
    ontology: list[dict[str, object]],
) -> None:
    """Each named graph as a VoID subset, with the PROV of how it was made: from which files (with checksums) and
    sources, by which activity (the load, and for the inferred graph the materialisation of the findings)."""
    software, load, materialise = ox.BlankNode(), ox.BlankNode(), ox.BlankNode()
    g.add(software, ns.RDF + "type", ns.PROV + "SoftwareAgent")
    g.add(software, FOAF + "name", ox.Literal(f"evidencemap {__version__}"))
    g.add(dataset, ns.PROV + "wasGeneratedBy", load)
    g.add(load, ns.RDF + "type", ns.PROV + "Activity")
    g.add(load, ns.RDFS + "label", ox.Literal("load the map files into the store", language="en"))
    g.add(load, ns.PROV + "wasAssociatedWith", software)
    g.add(load, ns.PROV + "startedAtTime", _timestamp(evidence_map.loaded_at - evidence_map.load_seconds))
    g.add(load, ns.PROV + "endedAtTime", _timestamp(evidence_map.loaded_at))
    g.add(materialise, ns.RDF + "type", ns.PROV + "Activity")
    g.add(materialise, ns.RDFS + "label", ox.Literal(
        "materialise the statement (rdf:subject, rdf:predicate, rdf:object) of every finding", language="en"))
    g.add(materialise, ns.PROV + "wasInformedBy", load)
    g.add(materialise, ns.PROV + "wasAssociatedWith", software)

    files: dict[str, list[Path]] = {evidence_map.iri(ns.GRAPH_VOCABULARY): vocabulary_files()}
    for graph, paths in map_files(evidence_map).items():
        files.setdefault(evidence_map.iri(graph), []).extend(paths)
    inferred = {evidence_map.iri(ns.map_graph(slug, "inferred")) for slug in evidence_map.map_slugs()}
    finding_graphs = [row["g"] for row in evidence_map.select(FINDING_GRAPHS)]

    for graph in sorted(per_graph):
        g.add(dataset, VOID + "subset", graph)
        for kind in (VOID + "Dataset", SD + "NamedGraph", ns.PROV + "Entity"):
            g.add(graph, ns.RDF + "type", kind)
        g.add(graph, SD + "name", graph)
        g.add(graph, VOID + "triples", _typed(per_graph[graph], "integer"))
        title, text = graph_description(evidence_map, graph)
        g.add(graph, ns.DCTERMS + "title", ox.Literal(title, language="en"))
        if text:
            g.add(graph, ns.DCTERMS + "description", ox.Literal(text, language="en"))
        for path in files.get(graph, []):
            entity = _file_entity(g, path)
            g.add(graph, ns.PROV + "wasDerivedFrom", entity)
            g.add(load, ns.PROV + "used", entity)
        if graph in inferred:
            g.add(graph, ns.PROV + "wasGeneratedBy", materialise)
            prefix = graph.rsplit("/", 1)[0] + "/"  # the map's own graphs
            for source in (f for f in finding_graphs if f.startswith(prefix)):
                g.add(graph, ns.PROV + "wasDerivedFrom", source)
                g.add(materialise, ns.PROV + "used", source)
            continue
        g.add(graph, ns.PROV + "wasGeneratedBy", load)
        if graph == evidence_map.iri(ns.GRAPH_VOCABULARY):
            for row in ontology:
                g.add(graph, ns.PROV + "wasDerivedFrom", str(row["ontology"]))
        elif files.get(graph):
            for review in reviews:
                if "url" in review:
                    g.add(graph, ns.PROV + "wasDerivedFrom", str(review["url"]))


def map_files(evidence_map: EvidenceMap) -> dict[str, list[Path]]:
    """The files each named graph (canonical IRI) of the map's maps was loaded from, read from the settings."""
    slugs = set(evidence_map.map_slugs())
    maps = find_maps(evidence_map.settings.data or [bundled_map_dir()])
    out: dict[str, list[Path]] = {}
    for one in maps:
        if one.slug in slugs:
            for path in one.files:
                out.setdefault(one.graph(path), []).append(path)
    return out


def concise_description(triples: list[ox.Triple], iri: str) -> list[ox.Triple]:
    """The outgoing triples of ``iri`` in ``triples``, following blank nodes (a CBD over an in-memory graph)."""
    by_subject: dict[ox.NamedNode | ox.BlankNode, list[ox.Triple]] = {}
    for t in triples:
        by_subject.setdefault(t.subject, []).append(t)  # type: ignore[arg-type]
    out: list[ox.Triple] = []
    todo: list[ox.NamedNode | ox.BlankNode] = [ox.NamedNode(iri)]
    seen: set[ox.NamedNode | ox.BlankNode] = set()
    while todo:
        node = todo.pop()
        if node in seen:
            continue
        seen.add(node)
        for t in by_subject.get(node, []):
            out.append(t)
            if isinstance(t.object, ox.BlankNode):
                todo.append(t.object)
    return out


def dumps_of(evidence_map: EvidenceMap) -> tuple[Dump, ...]:
    """The map's dumps, built once per version of the map."""
    return evidence_map.derive("dumps", lambda: build_dumps(evidence_map))


def description_of(evidence_map: EvidenceMap) -> list[ox.Triple]:
    """The map's VoID / DCAT / PROV description, built once per version of the map."""
    return evidence_map.derive("dataset-description", lambda: description(evidence_map, dumps_of(evidence_map)))


def cache_key(evidence_map: EvidenceMap) -> tuple[int, float, int]:
    """Identifies the state of a map for caches of derived documents: a new load or a change
    (``EvidenceMap.changed``, which bumps its version) invalidates."""
    return (id(evidence_map), evidence_map.loaded_at, evidence_map.version)
