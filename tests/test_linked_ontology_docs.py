"""The ontology's documentation page, generated from the vocabulary graph: every term, its definition, its anchor."""

from __future__ import annotations

import html
from html.parser import HTMLParser

import httpx
import pytest
from fastapi import FastAPI
from rdflib import RDF, Graph, Literal, URIRef
from rdflib.namespace import OWL, RDFS, SKOS

from evidencemap.publish.ontology_docs import ontology_doc

BASE = "https://w3id.org/evidencemap/"
EVM = BASE + "ontology#"
CONCEPT = BASE + "concept/"


class Anchors(HTMLParser):
    """Element ids and link targets of a page."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.ids: set[str] = set()
        self.hrefs: set[str] = set()
        self.feed(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if values.get("id"):
            self.ids.add(values["id"] or "")
        if tag == "a" and values.get("href"):
            self.hrefs.add(values["href"] or "")


@pytest.fixture(scope="module")
def vocabulary(client: httpx.Client) -> Graph:
    return Graph().parse(data=client.get("/ontology.ttl").text, format="turtle")


@pytest.fixture(scope="module")
def page(client: httpx.Client) -> str:
    response = client.get("/ontology", headers={"accept": "text/html"})
    assert response.status_code == 200 and response.template.name == "linked_ontology.html"  # type: ignore[attr-defined]
    return response.text


def test_ontology_page_shows_every_label_of_the_vocabulary(vocabulary: Graph, page: str) -> None:
    text = html.unescape(page)
    labels = {str(o) for p in (RDFS.label, SKOS.prefLabel) for o in vocabulary.objects(None, p)}
    assert len(labels) > 100
    missing = sorted(label for label in labels if label not in text)
    assert missing == []


def test_ontology_page_shows_every_definition(vocabulary: Graph, page: str) -> None:
    text = html.unescape(page)
    definitions = {str(o) for o in vocabulary.objects(None, SKOS.definition)}
    missing = sorted(d[:60] for d in definitions if d not in text)
    assert missing == []


def test_every_ontology_term_has_an_anchor_at_its_fragment(vocabulary: Graph, page: str) -> None:
    anchors = Anchors(page).ids
    terms = {str(s)[len(EVM):] for s in vocabulary.subjects() if isinstance(s, URIRef) and str(s).startswith(EVM)}
    assert {"Finding", "IncludedStudy", "studyDesign", "facet-delivery", "Cited"} <= terms
    assert terms - anchors == set()


def test_every_concept_is_listed_with_an_anchor_and_a_link_to_its_iri(vocabulary: Graph, page: str) -> None:
    parsed = Anchors(page)
    concepts = [str(c) for c in vocabulary.subjects(RDF.type, SKOS.Concept)]
    assert len(concepts) > 50
    for concept in concepts:
        local = concept[len(CONCEPT):]
        assert "concept-" + local.replace("/", "-") in parsed.ids, concept
        assert "/concept/" + local in parsed.hrefs, concept


def test_ontology_page_shows_version_and_mappings(vocabulary: Graph, page: str) -> None:
    text = html.unescape(page)
    ontology = URIRef(BASE + "ontology")
    assert str(vocabulary.value(ontology, OWL.versionIRI)) in text
    assert str(vocabulary.value(ontology, OWL.versionInfo)) in text
    assert "http://id.nlm.nih.gov/mesh/D000079382" in Anchors(page).hrefs  # online: close match in MeSH


def test_ontology_doc_model_covers_every_class_property_and_concept(app: FastAPI, vocabulary: Graph) -> None:
    doc = ontology_doc(app.state.context.evidence_map)
    documented = {t.iri: t for t in doc.terms()}
    kinds = (OWL.Class, OWL.ObjectProperty, OWL.DatatypeProperty, OWL.AnnotationProperty, SKOS.Concept,
             SKOS.ConceptScheme)
    expected = {str(s) for kind in kinds for s in vocabulary.subjects(RDF.type, kind) if isinstance(s, URIRef)}
    expected |= {str(s) for s in vocabulary.subjects(RDF.type, URIRef(EVM + "FactProperty"))}
    assert expected - set(documented) == set()
    for iri in expected:
        definition = vocabulary.value(URIRef(iri), SKOS.definition)
        assert isinstance(definition, Literal) and documented[iri].definition == str(definition), iri


def test_version_iri_serves_the_same_ontology(client: httpx.Client, vocabulary: Graph) -> None:
    version = vocabulary.value(URIRef("https://w3id.org/evidencemap/ontology"), OWL.versionInfo)
    versioned = Graph().parse(data=client.get(f"/ontology/{version}.ttl").text, format="turtle")
    assert len(versioned) == len(vocabulary)


def test_the_prior_version_iri_answers_gone_naming_its_replacement(client: httpx.Client, vocabulary: Graph) -> None:
    """The ontology page links owl:priorVersion; the server holds only the current files, so the earlier version is
    410 Gone (replaced on purpose) naming the version that replaced it, not a bare 404."""
    ontology = URIRef("https://w3id.org/evidencemap/ontology")
    prior, current = vocabulary.value(ontology, OWL.priorVersion), vocabulary.value(ontology, OWL.versionIRI)
    assert prior is not None and current is not None
    response = client.get(str(prior).removeprefix("https://w3id.org/evidencemap"), headers={"Accept": "text/turtle"})
    assert response.status_code == 410
    assert str(current) in response.json()["error"]
    assert client.get("/ontology/9.9.9", headers={"Accept": "text/turtle"}).status_code == 404
