"""JSON-LD: the JSON of the API, read as RDF through one @context.

The context maps the JSON keys to the ontology's terms so that the JSON-LD of a response expands to triples that are
in the store (tests/test_api_jsonld.py checks that every triple about a named node is). Keys with no RDF counterpart
(page sizes, counts, links, the review section of a fact) are left unmapped, so JSON-LD processors drop them.
A study's ``facets`` object is "nested" (JSON-LD 1.1 ``@nest``): its keys, the facet names, are properties of the
study (or of its intervention) and are mapped, from the vocabulary, to the last property of each facet's path.
Objects are typed through type-scoped contexts, so that ``label`` means skos:prefLabel on a concept and rdfs:label
on an intervention or a facet.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from evidencemap import namespaces as ns
from evidencemap.graph.iris import IriSpace
from evidencemap.model.studies import facet_placement
from evidencemap.model.vocabulary import Vocabulary

XSD_INTEGER = "xsd:integer"

_EN = "en"


def _text(iri: str, language: str | None = _EN) -> dict[str, Any]:
    return {"@id": iri, "@language": language} if language else {"@id": iri}


def _ref(iri: str) -> dict[str, str]:
    return {"@id": iri, "@type": "@id"}


def jsonld_context(vocabulary: Vocabulary | None = None, base_iri: str = ns.CANONICAL_BASE) -> dict[str, Any]:
    """The @context of every JSON-LD response; with a vocabulary, the facet names are mapped too. ``base_iri`` is
    the base the map is served under (the ontology namespace moves with it)."""
    prefixes = {name: IriSpace(base_iri).served(ns.PREFIXES[name]) for name in
                ("evm", "rdf", "rdfs", "xsd", "skos", "prov", "dcterms", "oa", "fabio", "prism", "schema")}
    context: dict[str, Any] = {
        "@version": 1.1,
        **prefixes,
        "iri": "@id",
        "finding": "@id",
        "studies": "@included",
        "facts": "@included",
        "facets": "@included",
        "review": "@included",
        "concept": "@included",
        "sources": "@included",
        "criteria": "@included",
        "flow": "@included",
        "id": "evm:slug",
        "ref": {"@id": "evm:referenceNumber", "@type": XSD_INTEGER},
        "citation": "evm:shortCitation",
        "report": _ref("evm:reportedIn"),
        "intervention": {"@id": "evm:evaluates"},
        "label": _text("skos:prefLabel"),
        "alt_labels": {**_text("skos:altLabel"), "@container": "@set"},
        "hidden_labels": {**_text("skos:hiddenLabel"), "@container": "@set"},
        "definition": _text("skos:definition"),
        "notation": "skos:notation",
        "broader_concepts": {"@id": "skos:broader", "@container": "@set"},
        "narrower_concepts": {"@id": "skos:narrower", "@container": "@set"},
        "IncludedStudy": {"@id": "evm:IncludedStudy", "@context": {"facets": "@nest"}},
        "Intervention": {
            "@id": "evm:Intervention",
            "@context": {
                "facets": "@nest",
                "label": _text("rdfs:label"),
                "description": _text("dcterms:description"),
            },
        },
        "Concept": {"@id": "skos:Concept"},
        "Finding": {
            "@id": "evm:Finding",
            "@context": {
                "subject": _ref("rdf:subject"),
                "property": _ref("rdf:predicate"),
                "value": {"@id": "rdf:object"},
                "rationale": _text("evm:rationale"),
                "detail": _text("evm:detail"),
                "evidence_type": {"@id": "evm:findingEvidenceType"},
                "passage": _ref("prov:wasDerivedFrom"),
            },
        },
        "Facet": {
            "@id": "evm:Facet",
            "@context": {"name": "evm:facetName", "label": _text("rdfs:label"), "definition": _text("skos:definition")},
        },
        "ScopingReview": {
            "@id": "evm:ScopingReview",
            "@context": {
                "title": _text("dcterms:title"),
                "authors": "evm:authors",
                "journal": "prism:publicationName",
                "volume_pages": "evm:volumePages",
                "year": {"@id": "fabio:hasPublicationYear", "@type": "xsd:gYear"},
                "doi": "prism:doi",
                "url": _ref("schema:url"),
                "issued": {"@id": "dcterms:issued", "@type": "xsd:date"},
                "license": _ref("dcterms:license"),
                "rights": "dcterms:rights",
                "description": "dcterms:description",
                "keywords": {"@id": "schema:keywords", "@container": "@set"},
                "methodology": {"@id": "evm:methodology", "@container": "@set"},
            },
        },
        "SearchSource": {"@id": "evm:SearchSource", "@context": {"label": "rdfs:label", "kind": "dcterms:type"}},
        "EligibilityCriterion": {
            "@id": "evm:EligibilityCriterion",
            "@context": {
                "element": "evm:pccElement",
                "label": _text("rdfs:label"),
                "description": _text("dcterms:description"),
            },
        },
        "FlowStage": {
            "@id": "evm:FlowStage",
            "@context": {
                "label": _text("rdfs:label"),
                "order": {"@id": "evm:flowOrder", "@type": XSD_INTEGER},
                "phase": "evm:flowPhase",
                "records": {"@id": "evm:recordCount", "@type": XSD_INTEGER},
                "derived": {"@id": "evm:countDerived", "@type": "xsd:boolean"},
                "rationale": "evm:rationale",
            },
        },
    }
    if vocabulary is not None:
        for facet in vocabulary.concept_facets:
            if facet_placement(facet) in {"study", "intervention"}:
                context[facet.name] = {"@id": facet.path[-1], "@container": "@set"}
    return context


def _typed(model: Any, data: Any) -> Any:
    """``data`` (the JSON dump of ``model``) with "@type" added to every object whose model names an RDF type."""
    if isinstance(model, BaseModel):
        out = dict(data)
        for name, info in type(model).model_fields.items():
            key = info.alias if info.alias and info.alias in out else name
            if key in out:
                out[key] = _typed(getattr(model, name), out[key])
        rdf_type = getattr(type(model), "rdf_type", None)
        if rdf_type:
            out["@type"] = rdf_type
        return out
    if isinstance(model, list | tuple):
        return [_typed(m, d) for m, d in zip(model, data, strict=True)]
    if isinstance(model, dict):
        return {k: _typed(model[k], data[k]) for k in model}
    return data


def to_jsonld(
    model: BaseModel, vocabulary: Vocabulary | None = None, base_iri: str = ns.CANONICAL_BASE
) -> dict[str, Any]:
    """The JSON-LD document of a response model: its JSON, typed, under the context."""
    body = _typed(model, model.model_dump(mode="json", by_alias=True))
    return {"@context": jsonld_context(vocabulary, base_iri), **body}
