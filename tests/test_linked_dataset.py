"""The dataset description (VoID + DCAT + PROV), the dumps it lists, and the JSON-LD context at its stable URL."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import httpx
import pyoxigraph as ox
import pytest
from fastapi import FastAPI
from pyld import jsonld
from rdflib import RDF, Graph, Literal, Namespace, URIRef
from rdflib.compare import to_isomorphic
from rdflib.namespace import DCAT, DCTERMS, FOAF, PROV, VOID

from evidencemap import namespaces as ns
from evidencemap.graph.store import EvidenceMap
from evidencemap.publish.dataset import description, map_version
from evidencemap.resources import vocabulary_files
from evidencemap.settings import Settings
from evidencemap.web.jsonld import jsonld_context

BASE = "https://w3id.org/evidencemap/"
DATASET = URIRef(BASE + "dataset")
SPDX = Namespace("http://spdx.org/rdf/terms#")
CC = Namespace("http://creativecommons.org/ns#")
CC_BY = URIRef("https://creativecommons.org/licenses/by/4.0/")
REPOSITORY = Path(__file__).resolve().parents[1]
DCAT_VERSION = URIRef(str(DCAT) + "version")  # DCAT 3 (rdflib knows DCAT 2)
MAP_DATA, MAP_CLAIMS, MAP_INFERRED = (ns.map_graph("dufour-2025", part) for part in ("data", "claims", "inferred"))
GRAPHS = [ns.GRAPH_VOCABULARY, MAP_DATA, MAP_CLAIMS, MAP_INFERRED]


@pytest.fixture(scope="module")
def void(client: httpx.Client) -> Graph:
    response = client.get("/.well-known/void")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/turtle")
    return Graph().parse(data=response.text, format="turtle")


def local(url: URIRef) -> str:
    assert str(url).startswith(BASE), url
    return "/" + str(url)[len(BASE):]


def test_void_is_turtle_by_default_and_negotiates(client: httpx.Client, void: Graph) -> None:
    redirect = client.get("/.well-known/void", headers={"accept": "application/ld+json"}, follow_redirects=False)
    assert redirect.status_code == 303 and redirect.headers["location"] == "/.well-known/void.jsonld"
    as_jsonld = Graph().parse(data=client.get("/.well-known/void.jsonld").content, format="json-ld")
    assert to_isomorphic(as_jsonld) == to_isomorphic(void)
    assert (DATASET, RDF.type, VOID.Dataset) in void and (DATASET, RDF.type, DCAT.Dataset) in void


def test_void_total_triple_count_matches_the_store(void: Graph, app: FastAPI) -> None:
    store = app.state.context.evidence_map.store
    distinct = {q.triple for q in store}
    assert int(void.value(DATASET, VOID.triples)) == len(distinct)


@pytest.mark.parametrize("graph", GRAPHS)
def test_void_triple_count_per_named_graph_matches_the_store(void: Graph, app: FastAPI, graph: str) -> None:
    store = app.state.context.evidence_map.store
    in_store = sum(1 for _ in store.quads_for_pattern(None, None, None, ox.NamedNode(graph)))
    assert URIRef(graph) in set(void.objects(DATASET, VOID.subset))
    assert int(void.value(URIRef(graph), VOID.triples)) == in_store > 0


def test_void_names_licence_attribution_creators_version_and_endpoint(void: Graph, app: FastAPI) -> None:
    review = app.state.context.evidence_map.select(
        "PREFIX evm: <https://w3id.org/evidencemap/ontology#> PREFIX dcterms: <http://purl.org/dc/terms/>"
        " SELECT ?title WHERE { ?r a evm:ScopingReview ; dcterms:title ?title }"
    )[0]
    assert void.value(DATASET, DCTERMS.license) == CC_BY
    assert review["title"] in str(void.value(DATASET, CC.attributionName))
    creators = [void.value(c, FOAF.name) for c in void.objects(DATASET, DCTERMS.creator)]
    assert creators and all(isinstance(c, Literal) for c in creators)
    assert str(void.value(DATASET, DCAT_VERSION))
    assert void.value(DATASET, DCTERMS.modified) is not None
    assert void.value(DATASET, VOID.sparqlEndpoint) == URIRef(BASE + "sparql")
    assert URIRef(BASE + "ontology") in set(void.objects(DATASET, DCTERMS.conformsTo))
    assert URIRef(ns.EVM) in set(void.objects(DATASET, VOID.vocabulary))


def test_every_distribution_is_served_with_its_size_checksum_and_media_type(client: httpx.Client, void: Graph) -> None:
    distributions = list(void.objects(DATASET, DCAT.distribution))
    assert {str(d).rsplit("/", 1)[-1] for d in distributions} == {
        "evidencemap.ttl", "evidencemap.nt", "evidencemap.jsonld", "evidencemap.nq", "evidencemap.trig"}
    for distribution in distributions:
        response = client.get(local(void.value(distribution, DCAT.downloadURL)))
        assert response.status_code == 200, distribution
        assert int(void.value(distribution, DCAT.byteSize)) == len(response.content)
        checksum = void.value(distribution, SPDX.checksum)
        assert void.value(checksum, SPDX.algorithm) == SPDX.checksumAlgorithm_sha256
        assert str(void.value(checksum, SPDX.checksumValue)) == hashlib.sha256(response.content).hexdigest()
        media = str(void.value(distribution, DCAT.mediaType)).rsplit("media-types/", 1)[-1]
        assert response.headers["content-type"].split(";")[0] == media


def test_dumps_hold_every_triple_and_quad_of_the_store(client: httpx.Client, app: FastAPI) -> None:
    store = app.state.context.evidence_map.store
    triples = list(ox.parse(client.get("/dumps/evidencemap.nt").content, format=ox.RdfFormat.N_TRIPLES))
    assert len(triples) == len({q.triple for q in store})
    quads = list(ox.parse(client.get("/dumps/evidencemap.nq").content, format=ox.RdfFormat.N_QUADS))
    assert len(quads) == len(store)
    turtle = Graph().parse(data=client.get("/dumps/evidencemap.ttl").text, format="turtle")
    assert len(turtle) == len(triples)


def test_sha256sums_lists_every_dump(client: httpx.Client) -> None:
    lines = client.get("/dumps/SHA256SUMS").text.splitlines()
    assert len(lines) == 5
    for line in lines:
        digest, name = line.split("  ")
        assert hashlib.sha256(client.get(f"/dumps/{name}").content).hexdigest() == digest


def test_unknown_dump_is_404_naming_the_dumps(client: httpx.Client) -> None:
    body = client.get("/dumps/evidencemap.xlsx").json()
    assert body["status"] == 404 and "evidencemap.ttl" in body["hint"]


def test_named_graphs_carry_their_provenance(void: Graph, app: FastAPI) -> None:
    review_url = URIRef(app.state.context.evidence_map.select(
        "PREFIX evm: <https://w3id.org/evidencemap/ontology#> PREFIX schema: <http://schema.org/>"
        " SELECT ?u WHERE { ?r a evm:ScopingReview ; schema:url ?u }")[0]["u"])
    load = void.value(DATASET, PROV.wasGeneratedBy)
    assert (load, RDF.type, PROV.Activity) in void
    for graph in (MAP_DATA, MAP_CLAIMS):
        assert review_url in set(void.objects(URIRef(graph), PROV.wasDerivedFrom))
        assert void.value(URIRef(graph), PROV.wasGeneratedBy) == load
    inferred = URIRef(MAP_INFERRED)
    materialise = void.value(inferred, PROV.wasGeneratedBy)
    assert materialise != load and (materialise, PROV.wasInformedBy, load) in void
    assert URIRef(MAP_DATA) in set(void.objects(inferred, PROV.wasDerivedFrom))


def test_vocabulary_graph_names_its_files_with_their_checksums(void: Graph) -> None:
    files = {f"{p.parent.name}/{p.name}": p for p in vocabulary_files()}
    entities = [e for e in void.objects(URIRef(ns.GRAPH_VOCABULARY), PROV.wasDerivedFrom)
                if (e, RDF.type, PROV.Entity) in void]
    assert {str(void.value(e, DCTERMS.title)) for e in entities} == set(files)
    for entity in entities:
        path: Path = files[str(void.value(entity, DCTERMS.title))]
        checksum = void.value(entity, SPDX.checksum)
        assert str(void.value(checksum, SPDX.checksumValue)) == hashlib.sha256(path.read_bytes()).hexdigest()


def test_home_page_links_the_dataset_description(client: httpx.Client) -> None:
    assert '</.well-known/void>; rel="describedby"' in client.get("/").headers["link"]


def test_dataset_iri_redirects_to_its_description(client: httpx.Client) -> None:
    response = client.get("/dataset", headers={"accept": "text/turtle"}, follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/.well-known/void.ttl"


def test_context_url_serves_the_api_context(client: httpx.Client, app: FastAPI) -> None:
    response = client.get("/context.jsonld")
    assert response.headers["content-type"].startswith("application/ld+json")
    assert response.json() == {"@context": jsonld_context(app.state.context.vocabulary)}


def test_api_jsonld_through_the_context_url_expands_to_store_triples(client: httpx.Client, app: FastAPI) -> None:
    """The API's JSON-LD with its inline @context replaced by the stable URL gives the same triples (in the store)."""
    document = client.get("/api/studies/blay-2025", headers={"accept": "application/ld+json"}).json()
    context_url = "http://testserver/context.jsonld"

    def loader(url: str, options: object = None) -> dict[str, object]:
        assert url == context_url, url
        return {"contextUrl": None, "documentUrl": url, "document": client.get("/context.jsonld").json()}

    by_url = {**document, "@context": context_url}
    inline = jsonld.to_rdf(document, {"format": "application/n-quads"})
    linked = jsonld.to_rdf(by_url, {"format": "application/n-quads", "documentLoader": loader})
    assert inline and sorted(inline.splitlines()) == sorted(linked.splitlines())
    store = app.state.context.evidence_map.store
    quads = list(ox.parse(linked.encode(), format=ox.RdfFormat.N_QUADS))
    named = [q for q in quads if isinstance(q.subject, ox.NamedNode)]
    assert named
    missing = [q for q in named if next(iter(store.quads_for_pattern(q.subject, q.predicate, q.object, None)), None)
               is None]
    assert missing == []


def editions_in_the_map_files() -> dict[URIRef, str]:
    """The edition records of the bundled maps, read from their files (not from the server)."""
    graph = Graph()
    for path in sorted((REPOSITORY / "maps").glob("*/*.ttl")):
        graph.parse(path, format="turtle")
    return {s: str(v) for s in graph.subjects(RDF.type, DCAT.Dataset) for v in graph.objects(s, DCAT_VERSION)}


def test_the_version_is_the_map_edition_not_the_software(void: Graph) -> None:
    editions = editions_in_the_map_files()
    assert len(editions) == 1
    ((edition, version),) = editions.items()
    assert str(void.value(DATASET, DCAT_VERSION)) == version
    assert edition in set(void.objects(DATASET, DCTERMS.hasPart))


def test_changelog_has_an_entry_for_each_map_edition() -> None:
    changelog = (REPOSITORY / "CHANGELOG.md").read_text(encoding="utf-8")
    for edition, version in editions_in_the_map_files().items():
        slug = str(edition).rsplit("/", 1)[-1]
        assert re.search(rf"^##+ .*map {slug} {re.escape(version)}\b", changelog, re.MULTILINE | re.IGNORECASE), (
            f"CHANGELOG.md needs a 'Map {slug} {version}' heading")


def test_a_map_without_an_edition_states_no_version() -> None:
    minimal_map = REPOSITORY / "tests" / "resources" / "shapes" / "valid" / "minimal-map.ttl"
    minimal = EvidenceMap.load(Settings(data=[minimal_map]))
    triples = description(minimal, ())
    assert not any(t.predicate == ox.NamedNode(str(DCAT_VERSION)) for t in triples)


def test_several_maps_name_the_edition_of_each_version() -> None:
    assert map_version([{"edition": "https://example.org/map/a", "version": "1.0.0"}]) == "1.0.0"
    assert map_version([
        {"edition": "https://example.org/map/a", "version": "1.0.0", "label": "map A"},
        {"edition": "https://example.org/map/b", "version": "2.1.0"},
    ]) == "map A 1.0.0; https://example.org/map/b 2.1.0"
