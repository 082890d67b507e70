"""Dereferenceable IRIs: 303 to a document in the negotiated format, the description's contents, 404 and 406."""

from __future__ import annotations

import httpx
import pyoxigraph as ox
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from rdflib import RDF, Graph, Literal, Namespace, URIRef
from rdflib.compare import to_isomorphic
from rdflib.namespace import DCTERMS, OWL, PROV, SKOS

from evidencemap.publish import linkeddata as ld
from evidencemap.settings import Settings
from evidencemap.web.app import create_app
from evidencemap.web.linked import choose_format

BASE = "https://w3id.org/evidencemap/"
EVM = Namespace(BASE + "ontology#")
OA = Namespace("http://www.w3.org/ns/oa#")
BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8"

STUDY = "/data/dufour-2025/study/blay-2025"
CONCEPT = "/concept/delivery/online"
# (path, what the Turtle must say about the IRI)
RESOURCES = [
    (STUDY, (RDF.type, EVM.IncludedStudy)),
    (CONCEPT, (RDF.type, SKOS.Concept)),
    ("/concept/delivery", (RDF.type, SKOS.ConceptScheme)),
    ("/ontology", (RDF.type, OWL.Ontology)),
    ("/data/dufour-2025/intervention/blay-2025", (RDF.type, EVM.Intervention)),
    ("/data/review/dufour-2025/passage/abstract-included", (RDF.type, EVM.Passage)),
    ("/data/review/dufour-2025/section/3.3.1", (RDF.type, EVM.ReviewSection)),
]


def turtle(client: httpx.Client, path: str) -> Graph:
    response = client.get(path, headers={"accept": "text/turtle"})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/turtle")
    return Graph().parse(data=response.text, format="turtle")


@pytest.mark.parametrize(("path", "statement"), RESOURCES)
def test_resolution_turtle_describes_the_iri(client: httpx.Client, path: str, statement: tuple[URIRef, URIRef]) -> None:
    graph = turtle(client, path)
    assert (URIRef(BASE + path.lstrip("/")), *statement) in graph


@pytest.mark.parametrize(("path", "statement"), RESOURCES)
def test_resolution_redirects_303_to_a_document_and_varies_on_accept(
    client: httpx.Client, path: str, statement: object
) -> None:
    response = client.get(path, headers={"accept": "text/turtle"}, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == path + ".ttl"
    assert response.headers["vary"] == "Accept"
    assert 'rel="alternate"; type="application/ld+json"' in response.headers["link"]


@pytest.mark.parametrize(("path", "template"), [
    (STUDY, "linked_resource.html"), (CONCEPT, "linked_resource.html"), ("/ontology", "linked_ontology.html"),
])
def test_resolution_browser_gets_html(client: httpx.Client, path: str, template: str) -> None:
    response = client.get(path, headers={"accept": BROWSER})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert response.template.name == template  # type: ignore[attr-defined]
    assert str(response.url).endswith(path + ".html")


CLAIM = "/data/review/dufour-2025/claim/included-between-2019-2025"


@pytest.mark.parametrize("path", [STUDY, CONCEPT, "/ontology", CLAIM])
def test_resolution_every_rdf_format_gives_the_same_graph(client: httpx.Client, path: str) -> None:
    expected = to_isomorphic(turtle(client, path))
    for extension, rdflib_format in (("jsonld", "json-ld"), ("nt", "nt"), ("rdf", "xml")):
        response = client.get(f"{path}.{extension}")
        assert response.status_code == 200
        graph = Graph().parse(data=response.content, format=rdflib_format)
        assert to_isomorphic(graph) == expected, extension


@pytest.mark.parametrize(("accept", "extension"), [
    (None, "ttl"),
    ("*/*", "ttl"),
    ("application/ld+json", "jsonld"),
    ("application/json", "jsonld"),
    ("text/turtle;q=0.5, application/ld+json", "jsonld"),
    ("application/n-triples", "nt"),
    ("application/rdf+xml", "rdf"),
    ("text/html;q=0, */*;q=0.1", "ttl"),
    ("text/*", "ttl"),
    (BROWSER, "html"),
])
def test_resolution_follows_accept_with_q_values(client: httpx.Client, accept: str | None, extension: str) -> None:
    headers = {"accept": accept} if accept is not None else {}
    response = client.get(STUDY, headers=headers, follow_redirects=False)
    assert response.headers["location"] == f"{STUDY}.{extension}"


def test_resolution_406_lists_what_is_offered(client: httpx.Client) -> None:
    response = client.get(STUDY, headers={"accept": "image/png, text/csv;q=0.5"}, follow_redirects=False)
    assert response.status_code == 406
    assert response.headers["vary"] == "Accept"
    body = response.json()
    assert body["ok"] is False and body["status"] == 406
    for fmt in ld.DOCUMENT_FORMATS:
        assert fmt.media_type in body["hint"]


@pytest.mark.parametrize("path", ["/data/dufour-2025/study/no-such-study", "/concept/delivery/teleportation",
                                  "/data/dufour-2025/study/no-such-study.ttl", "/ontology/9.9.9", "/graph/nothing"])
def test_resolution_unknown_iri_is_404_with_a_message(client: httpx.Client, path: str) -> None:
    response = client.get(path, headers={"accept": "text/turtle"}, follow_redirects=False)
    assert response.status_code == 404
    body = response.json()
    assert body["status"] == 404 and body["error"].startswith("No ")
    assert body.get("hint"), body


def test_resolution_does_not_shadow_the_api(client: httpx.Client) -> None:
    response = client.get("/api/studies/blay-2025")
    assert response.status_code == 200 and response.headers["content-type"].startswith("application/json")


def test_study_description_holds_its_findings_with_passages_and_sections(client: httpx.Client, app: FastAPI) -> None:
    graph = turtle(client, STUDY)
    study = URIRef(BASE + "data/dufour-2025/study/blay-2025")
    intervention = graph.value(study, EVM.evaluates)
    assert intervention is not None
    store = app.state.context.evidence_map.store
    subject = ox.NamedNode(str(RDF.subject))
    expected = {URIRef(q.subject.value) for node in (study, intervention)
                for q in store.quads_for_pattern(None, subject, ox.NamedNode(str(node)), None)}
    assert expected and set(graph.subjects(RDF.type, EVM.Finding)) == expected
    for finding in expected:
        passage = graph.value(finding, PROV.wasDerivedFrom)
        section = graph.value(passage, EVM.section)
        assert section is not None, finding
        assert isinstance(graph.value(section, DCTERMS.title), Literal), section
        assert graph.value(graph.value(passage, OA.hasSelector), OA.exact) is not None


def test_description_carries_the_labels_of_what_it_points_to(client: httpx.Client, app: FastAPI) -> None:
    graph = turtle(client, STUDY)
    study = URIRef(BASE + "data/dufour-2025/study/blay-2025")
    evidence_map = app.state.context.evidence_map
    for obj in set(graph.objects(study, None)):
        if isinstance(obj, URIRef):
            for t in ld.labels_of(evidence_map, [str(obj)]):
                label = Literal(t.object.value, lang=t.object.language)
                assert (obj, URIRef(t.predicate.value), label) in graph, obj


def test_passage_description_shows_the_review_section_it_came_from(client: httpx.Client) -> None:
    graph = turtle(client, "/data/review/dufour-2025/passage/abstract-included")
    passage = URIRef(BASE + "data/review/dufour-2025/passage/abstract-included")
    section = graph.value(passage, EVM.section)
    assert section == URIRef(BASE + "data/review/dufour-2025/section/abstract")
    assert str(graph.value(section, DCTERMS.title)) == "Abstract"
    assert str(graph.value(graph.value(passage, OA.hasSelector), OA.exact)).startswith("Eleven studies")


def test_claim_description_includes_its_blank_node_conditions(client: httpx.Client) -> None:
    graph = turtle(client, CLAIM)
    claim = URIRef(BASE + CLAIM.lstrip("/"))
    conditions = list(graph.objects(claim, EVM.condition))
    assert conditions and all(graph.value(c, EVM.onFacet) is not None for c in conditions)


def test_html_page_shows_every_property_of_the_resource(client: httpx.Client) -> None:
    response = client.get(STUDY + ".html")
    page = response.context["page"]  # type: ignore[attr-defined]
    graph = turtle(client, STUDY)
    study = URIRef(BASE + "data/dufour-2025/study/blay-2025")
    expected = {str(p) for p in graph.predicates(study, None)} - {str(RDF.type)}
    assert {row.predicate.title for row in page.main.rows} == expected
    assert {t.title for t in page.main.types} == {str(EVM.IncludedStudy)}
    assert page.label == "Blay et al. 2025"


def test_named_graph_iri_resolves_to_its_provenance(client: httpx.Client) -> None:
    graph = turtle(client, "/graph/dufour-2025/inferred")
    inferred = URIRef(BASE + "graph/dufour-2025/inferred")
    activity = graph.value(inferred, PROV.wasGeneratedBy)
    assert (activity, RDF.type, PROV.Activity) in graph
    assert URIRef(BASE + "graph/dufour-2025/data") in set(graph.objects(inferred, PROV.wasDerivedFrom))


def test_resolution_under_another_base_iri() -> None:
    app = create_app(Settings(base_iri="http://example.org/em/"))
    client = TestClient(app)
    graph = Graph().parse(data=client.get(STUDY, headers={"accept": "text/turtle"}).text, format="turtle")
    study = URIRef("http://example.org/em/data/dufour-2025/study/blay-2025")
    assert (study, RDF.type, URIRef("http://example.org/em/ontology#IncludedStudy")) in graph
    assert not any(str(s).startswith(BASE) for s in graph.subjects())


@pytest.mark.parametrize(("path", "stem", "extension"), [
    ("/data/dufour-2025/study/blay-2025.ttl", "/data/dufour-2025/study/blay-2025", "ttl"),
    ("/data/review/dufour-2025/section/3.3.1", "/data/review/dufour-2025/section/3.3.1", None),
    ("/data/review/dufour-2025/section/3.3.1.jsonld", "/data/review/dufour-2025/section/3.3.1", "jsonld"),
    ("/ontology/0.1.0", "/ontology/0.1.0", None),
    ("/data/.ttl", "/data/.ttl", None),
])
def test_split_extension_only_strips_known_formats(path: str, stem: str, extension: str | None) -> None:
    got_stem, fmt = ld.split_extension(path)
    assert (got_stem, fmt.extension if fmt else None) == (stem, extension)


def test_choose_format_returns_none_when_nothing_is_acceptable() -> None:
    assert choose_format("image/png") is None
    assert choose_format("application/xhtml+xml") == ld.HTML
