"""Ontology quality: the vocabulary parses, is consistent under an OWL reasoner (HermiT, bundled with owlready2),
every term has a label and a definition, every external IRI is from a known vocabulary (MeSH IDs from the MeSH 2024
selection), and the data uses no term of the ontology's namespace that the ontology does not declare.

"The vocabulary" is the core (ontology/) and the bundled map's own vocabulary (maps/dufour-2025/vocabulary.ttl),
which holds the concepts of its topic: the map's data may use both; tests/test_core_vocabulary.py checks the core
alone."""

from __future__ import annotations

import csv
import re
import shutil
from pathlib import Path

import pyoxigraph as ox
import pytest
from rdflib import RDF, Graph, Literal, URIRef
from rdflib.namespace import DCTERMS, OWL, RDFS, SKOS, VANN

from evidencemap import namespaces as ns
from evidencemap.resources import bundled_map_dir, vocabulary_files

BASE = ns.CANONICAL_BASE
RESOURCES = Path(__file__).parent / "resources"
REPOSITORY = Path(__file__).resolve().parents[1]
XSD = "http://www.w3.org/2001/XMLSchema#"

# Namespaces an external IRI of the vocabulary may come from.
KNOWN_NAMESPACES = {
    "http://id.nlm.nih.gov/mesh/": "MeSH",
    "http://schema.org/": "schema.org",
    "http://purl.org/spar/fabio/": "FaBiO",
    "http://purl.org/spar/cito/": "CiTO",
    "http://prismstandard.org/namespaces/basic/2.0/": "PRISM",
    "http://www.w3.org/ns/prov#": "PROV-O",
    "http://www.w3.org/ns/oa#": "Web Annotation",
    "http://purl.obolibrary.org/obo/": "OBO Foundry",
    "http://purl.org/net/OCRe/": "OCRe",
    "http://data.cochrane.org/ontologies/pico/": "Cochrane PICO",
    "http://www.w3.org/2004/02/skos/core#": "SKOS",
    "http://purl.org/dc/terms/": "DCMI terms",
    "http://xmlns.com/foaf/0.1/": "FOAF",
    "http://purl.org/vocab/vann/": "VANN",
    "http://www.w3.org/2002/07/owl#": "OWL",
    "http://www.w3.org/1999/02/22-rdf-syntax-ns#": "RDF",
    "http://www.w3.org/2000/01/rdf-schema#": "RDFS",
    "http://www.w3.org/2001/XMLSchema#": "XSD",
    "https://creativecommons.org/licenses/": "Creative Commons licences",
    "https://doi.org/": "DOI (the review the vocabulary is built from)",
}
# HermiT reasons over the OWL 2 datatype map only; these XSD types are valid RDF but outside it.
OUTSIDE_OWL2_DATATYPE_MAP = {XSD + "gYear", XSD + "gYearMonth", XSD + "date"}


MAP_VOCABULARY = bundled_map_dir() / "vocabulary.ttl"


@pytest.fixture(scope="module")
def vocabulary() -> Graph:
    """The core vocabulary and the bundled map's own concepts."""
    graph = Graph()
    for path in [*vocabulary_files(), MAP_VOCABULARY]:
        graph.parse(path, format="turtle")
    return graph


@pytest.fixture(scope="module")
def data() -> Graph:
    graph = Graph()
    for path in sorted(bundled_map_dir().glob("*.ttl")):
        graph.parse(path, format="turtle")
    return graph


def iris(graph: Graph) -> set[str]:
    return {str(term) for triple in graph for term in triple if isinstance(term, URIRef)}


@pytest.mark.parametrize("path", [*vocabulary_files(), MAP_VOCABULARY], ids=lambda p: f"{p.parent.name}/{p.name}")
def test_vocabulary_file_parses(path: Path) -> None:
    graph = Graph().parse(path, format="turtle")
    assert len(graph) > 0
    assert sum(1 for _ in ox.parse(path=path)) == len(graph)


def test_ontology_header_has_version_and_metadata(vocabulary: Graph) -> None:
    ontology = URIRef(ns.ONTOLOGY)
    assert (ontology, RDF.type, OWL.Ontology) in vocabulary
    version = str(vocabulary.value(ontology, OWL.versionInfo))
    assert str(vocabulary.value(ontology, OWL.versionIRI)) == f"{ns.ONTOLOGY}/{version}"
    for predicate in (DCTERMS.title, DCTERMS.description, DCTERMS.license, DCTERMS.creator, DCTERMS.created,
                      DCTERMS.modified, VANN.preferredNamespacePrefix):
        assert vocabulary.value(ontology, predicate) is not None, predicate
    assert str(vocabulary.value(ontology, VANN.preferredNamespaceUri)) == ns.EVM


def test_changelog_has_an_entry_for_the_ontology_version(vocabulary: Graph) -> None:
    version = str(vocabulary.value(URIRef(ns.ONTOLOGY), OWL.versionInfo))
    changelog = (REPOSITORY / "CHANGELOG.md").read_text(encoding="utf-8")
    assert re.search(rf"^##+ .*vocabulary {re.escape(version)}\b", changelog, re.MULTILINE | re.IGNORECASE), version


def declared_terms(vocabulary: Graph) -> set[URIRef]:
    """Every class, property and individual of the ontology namespace, every concept scheme and concept."""
    terms = {s for s in vocabulary.subjects(RDF.type, None) if isinstance(s, URIRef) and str(s).startswith(ns.EVM)}
    terms |= {s for kind in (SKOS.Concept, SKOS.ConceptScheme) for s in vocabulary.subjects(RDF.type, kind)}
    return terms  # type: ignore[return-value]


def test_every_term_has_a_label_and_a_definition(vocabulary: Graph) -> None:
    terms = declared_terms(vocabulary)
    assert len(terms) > 150
    unlabelled = sorted(str(t) for t in terms
                        if not any(isinstance(o, Literal) and str(o).strip()
                                   for p in (RDFS.label, SKOS.prefLabel) for o in vocabulary.objects(t, p)))
    undefined = sorted(str(t) for t in terms if not any(isinstance(o, Literal) and str(o).strip()
                                                         for o in vocabulary.objects(t, SKOS.definition)))
    assert unlabelled == [] and undefined == []


def test_every_external_iri_is_from_a_known_vocabulary(vocabulary: Graph) -> None:
    unknown = sorted(i for i in iris(vocabulary)
                     if not i.startswith(BASE) and not i.startswith(tuple(KNOWN_NAMESPACES)))
    assert unknown == []


def test_mesh_ids_are_in_the_mesh_2024_selection(vocabulary: Graph, data: Graph) -> None:
    with (RESOURCES / "mesh-2024-selected.tsv").open(encoding="utf-8") as handle:
        selected = {row["ui"] for row in csv.DictReader(handle, delimiter="\t")}
    mesh = "http://id.nlm.nih.gov/mesh/"
    used = {i[len(mesh):] for i in iris(vocabulary) | iris(data) if i.startswith(mesh)}
    assert used, "the vocabulary maps to MeSH"
    assert sorted(used - selected) == []


def test_data_uses_no_undeclared_ontology_term(vocabulary: Graph, data: Graph) -> None:
    declared = {str(s) for s in vocabulary.subjects() if isinstance(s, URIRef)}
    used = {i for i in iris(data) if i.startswith(ns.EVM)}
    assert used and sorted(used - declared) == []


def test_data_uses_no_undeclared_concept(vocabulary: Graph, data: Graph) -> None:
    declared = {str(s) for s in declared_terms(vocabulary)}
    used = {i for i in iris(data) if i.startswith(ns.CONCEPT)}
    assert used and sorted(used - declared) == []


# -- consistency under an OWL 2 reasoner ----------------------------------------------------------------------------


def reasoner_input(vocabulary: Graph) -> tuple[Graph, list[tuple[str, str]]]:
    """The vocabulary without the ranges HermiT cannot read, and those ranges (to be checked)."""
    outside = [(s, o) for s, o in vocabulary.subject_objects(RDFS.range) if str(o) in OUTSIDE_OWL2_DATATYPE_MAP]
    graph = Graph()
    for triple in vocabulary:
        graph.add(triple)
    for s, o in outside:
        graph.remove((s, RDFS.range, o))
    return graph, [(str(s), str(o)) for s, o in outside]


def run_hermit(graph: Graph, tmp: Path) -> list[str]:
    """Classify ``graph`` with HermiT; the unsatisfiable classes.

    :raises owlready2.OwlReadyInconsistentOntologyError: when the ontology has no model at all.
    """
    import owlready2

    path = tmp / "ontology.nt"
    graph.serialize(path, format="nt", encoding="utf-8")
    world = owlready2.World()
    ontology = world.get_ontology(path.as_uri()).load(format="ntriples")
    with ontology:
        owlready2.sync_reasoner_hermit(world, infer_property_values=False, debug=0)
    return sorted(c.iri for c in world.inconsistent_classes() if c is not owlready2.Nothing)


def tiny(turtle: str) -> Graph:
    prefixes = "@prefix : <http://example.org/> . @prefix owl: <http://www.w3.org/2002/07/owl#> . " \
               "@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .\n"
    return Graph().parse(data=prefixes + turtle, format="turtle")


needs_java = pytest.mark.skipif(shutil.which("java") is None, reason="HermiT (owlready2) needs a Java runtime")


@needs_java
def test_ontology_is_consistent_under_hermit(vocabulary: Graph, tmp_path: Path) -> None:
    graph, dropped = reasoner_input(vocabulary)
    assert all(prop.startswith(ns.EVM) for prop, _ in dropped), dropped
    assert run_hermit(graph, tmp_path) == []


@needs_java
def test_hermit_check_detects_an_inconsistent_ontology(tmp_path: Path) -> None:
    import owlready2

    clash = tiny(":A a owl:Class ; owl:disjointWith :B . :B a owl:Class . :x a :A, :B .")
    with pytest.raises(owlready2.OwlReadyInconsistentOntologyError):
        run_hermit(clash, tmp_path)


@needs_java
def test_hermit_check_reports_an_unsatisfiable_class(tmp_path: Path) -> None:
    graph = tiny(":A a owl:Class ; owl:disjointWith :B . :B a owl:Class . :C a owl:Class ; rdfs:subClassOf :A, :B .")
    assert run_hermit(graph, tmp_path) == ["http://example.org/C"]
