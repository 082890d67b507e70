"""JSON-LD: every /api response read as RDF gives triples that are in the store."""

from __future__ import annotations

import httpx
import pyoxigraph as ox
import pytest
from fastapi import FastAPI
from pyld import jsonld

from evidencemap.web.jsonld import jsonld_context

RDF_TYPE = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
INCLUDED_STUDY = ox.NamedNode("https://w3id.org/evidencemap/ontology#IncludedStudy")
PATHS = [
    "/api/studies/jewell-2022",
    "/api/studies?delivery=online&challenge=emotional-vulnerability-burnout",
    "/api/concepts/delivery/in-person",
    "/api/facets",
    "/api/review",
    "/api/ask?q=which online studies reported burnout",
]


def as_quads(document: dict[str, object]) -> list[ox.Quad]:
    nquads = jsonld.to_rdf(document, {"format": "application/n-quads"})
    return list(ox.parse(nquads.encode(), format=ox.RdfFormat.N_QUADS))


@pytest.mark.parametrize("path", PATHS)
def test_jsonld_triples_about_named_nodes_are_in_the_store(client: httpx.Client, app: FastAPI, path: str) -> None:
    response = client.get(path, headers={"accept": "application/ld+json"})
    assert response.status_code == 200 and response.headers["content-type"].startswith("application/ld+json")
    quads = as_quads(response.json())
    assert quads, path
    store = app.state.context.evidence_map.store
    missing = [q for q in quads if isinstance(q.subject, ox.NamedNode)
               and next(iter(store.quads_for_pattern(q.subject, q.predicate, q.object, None)), None) is None]
    assert missing == [], missing[:5]


def test_jsonld_study_list_expands_to_the_studies_and_their_types(client: httpx.Client) -> None:
    body = client.get("/api/studies?delivery=online&challenge=emotional-vulnerability-burnout",
                      headers={"accept": "application/ld+json"}).json()
    studies = {q.subject for q in as_quads(body) if q.predicate == RDF_TYPE and q.object == INCLUDED_STUDY}
    assert {s.value.rsplit("/", 1)[-1] for s in studies} == {"bates-2023", "dahlenburg-2024", "jewell-2022",
                                                              "leon-2022"}


def test_jsonld_by_format_parameter(client: httpx.Client) -> None:
    response = client.get("/api/studies/44?format=jsonld")
    assert response.headers["content-type"].startswith("application/ld+json")
    assert "@context" in response.json()


def test_jsonld_json_stays_plain_json(client: httpx.Client) -> None:
    body = client.get("/api/studies/44").json()
    assert "@context" not in body and "@type" not in body


def test_jsonld_context_maps_every_facet_of_the_vocabulary(app: FastAPI) -> None:
    vocabulary = app.state.context.vocabulary
    context = jsonld_context(vocabulary)
    for facet in vocabulary.concept_facets:
        assert context[facet.name]["@id"] == facet.path[-1]
    assert context["iri"] == "@id" and context["ref"]["@id"] == "evm:referenceNumber"


def test_jsonld_under_another_base_expands_to_store_triples() -> None:
    from fastapi.testclient import TestClient
    from rdflib import Graph

    from evidencemap.settings import Settings
    from evidencemap.web.app import create_app

    base = "http://127.0.0.1:8000/"
    app = create_app(Settings(base_iri=base, sparql_workers=1))
    with TestClient(app) as client:
        body = client.get("/api/studies/blay-2025", headers={"Accept": "application/ld+json"}).text
    graph = Graph().parse(data=body, format="json-ld")
    predicates = {str(p) for p in graph.predicates()}
    assert base + "ontology#referenceNumber" in predicates
    assert not any(p.startswith("https://w3id.org/evidencemap/") for p in predicates)
