"""The SHACL validation report, published as RDF and as a page, naming the version of the shapes."""

from __future__ import annotations

import httpx
from rdflib import RDF, Graph, URIRef
from rdflib.namespace import DCTERMS, OWL, SH

from evidencemap.graph.validation import shapes_version


def test_validation_report_is_rdf_with_the_shapes_version(client: httpx.Client) -> None:
    result = client.get("/validation").context["result"]  # type: ignore[attr-defined]
    response = client.get("/validation.ttl")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/turtle")
    graph = Graph().parse(data=response.text, format="turtle")
    reports = list(graph.subjects(RDF.type, SH.ValidationReport))
    assert len(reports) == 1
    assert graph.value(reports[0], SH.conforms).toPython() is result.conforms
    shapes = graph.value(reports[0], DCTERMS.conformsTo)
    assert shapes == URIRef("https://w3id.org/evidencemap/shapes")
    assert str(graph.value(shapes, OWL.versionInfo)) == shapes_version()
    assert graph.value(reports[0], DCTERMS.subject) == URIRef("https://w3id.org/evidencemap/dataset")
    expected = sum(1 for _ in result.report_graph.subjects(RDF.type, SH.ValidationResult))
    assert len(list(graph.subjects(RDF.type, SH.ValidationResult))) == expected


def test_validation_page_states_the_verdict_and_links_the_rdf(client: httpx.Client) -> None:
    response = client.get("/validation")
    assert response.status_code == 200 and response.template.name == "linked_validation.html"  # type: ignore[attr-defined]
    context = response.context  # type: ignore[attr-defined]
    result = context["result"]
    assert result.shapes_version == shapes_version()
    assert context["report_url"] == "/validation.ttl"
    assert len(context["results"]) == sum(1 for _ in result.report_graph.subjects(RDF.type, SH.ValidationResult))
    verdict = "conforms to" if result.conforms else "does not conform to"
    assert f"The map {verdict} the evidencemap shapes, version {result.shapes_version}" in response.text
