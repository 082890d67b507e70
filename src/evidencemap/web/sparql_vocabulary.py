"""``/sparql/vocabulary.json``: the map's prefixes and terms, for the SPARQL editor's autocompletion.

The editor (``static/sparql-editor.js``) completes prefixes, classes, properties and the concepts of the facets from
this document instead of asking prefix.cc or Linked Open Vocabularies: neither the server nor the page goes
off-site. Classes and properties are those the ontology declares and those the map uses; concepts come from the
map's vocabulary (:mod:`evidencemap.model.vocabulary`). All IRIs are as this map serves them (its base IRI).
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from evidencemap.graph.store import EvidenceMap
from evidencemap.model.vocabulary import Vocabulary
from evidencemap.namespaces import PREFIXES
from evidencemap.web.context import AppContext

router = APIRouter(tags=["SPARQL"])

# Declared classes and properties (with a label where the ontology gives one), and every class and predicate the map
# uses. Canonical IRIs: EvidenceMap.query writes them under the map's base IRI.
TERMS_QUERY = """
PREFIX owl: <http://www.w3.org/2002/07/owl#>
PREFIX rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
SELECT ?term ?kind (SAMPLE(?l) AS ?label) (SAMPLE(?c) AS ?comment)
WHERE {
  {
    VALUES (?type ?kind) {
      (owl:Class "class") (rdfs:Class "class")
      (owl:ObjectProperty "property") (owl:DatatypeProperty "property") (owl:AnnotationProperty "property")
      (rdf:Property "property")
    }
    ?term a ?type .
  }
  UNION { SELECT DISTINCT ?term ("class" AS ?kind) WHERE { ?thing a ?term } }
  UNION { SELECT DISTINCT ?term ("property" AS ?kind) WHERE { ?thing ?term ?value } }
  FILTER(isIRI(?term))
  OPTIONAL { ?term rdfs:label|skos:prefLabel ?l FILTER(lang(?l) = "" || langMatches(lang(?l), "en")) }
  OPTIONAL { ?term rdfs:comment|skos:definition ?c FILTER(lang(?c) = "" || langMatches(lang(?c), "en")) }
}
GROUP BY ?term ?kind
ORDER BY ?kind ?term
"""


class Term(BaseModel):
    """A class or property, with its label and description when the ontology gives them."""

    iri: str
    label: str | None = None
    comment: str | None = None


class ConceptTerm(BaseModel):
    """A concept of a facet's scheme: a value to compare a study's facet with."""

    iri: str
    label: str
    facet: str = Field(description="The facet (name) whose values the concept belongs to.")
    alt_labels: list[str] = Field(default_factory=list, serialization_alias="altLabels")


class SparqlVocabulary(BaseModel):
    """What the editor completes: prefix declarations, classes, properties and concepts."""

    prefixes: dict[str, str]
    classes: list[Term]
    properties: list[Term]
    concepts: list[ConceptTerm]


def sparql_vocabulary(evidence_map: EvidenceMap, vocabulary: Vocabulary) -> SparqlVocabulary:
    """The editor's vocabulary for this map (built once per version of the map)."""
    return evidence_map.derive("sparql-vocabulary", lambda: _build(evidence_map, vocabulary))


def _build(evidence_map: EvidenceMap, vocabulary: Vocabulary) -> SparqlVocabulary:
    terms: dict[str, list[Term]] = {"class": [], "property": []}
    for row in evidence_map.select(TERMS_QUERY):
        terms[str(row["kind"])].append(
            Term(iri=str(row["term"]), label=_text(row.get("label")), comment=_text(row.get("comment"))))
    concepts = [
        ConceptTerm(iri=c.iri, label=c.pref_label, facet=facet.name, alt_labels=list(c.alt_labels))
        for facet in vocabulary.concept_facets for c in facet.concepts
    ]
    return SparqlVocabulary(
        prefixes={name: evidence_map.iri(iri) for name, iri in PREFIXES.items()},
        classes=terms["class"], properties=terms["property"], concepts=concepts,
    )


def _text(value: object) -> str | None:
    return None if value is None else " ".join(str(value).split())


@router.get(
    "/sparql/vocabulary.json", summary="The map's prefixes, classes, properties and concepts (editor autocompletion)",
    response_model=SparqlVocabulary, response_model_by_alias=True,
)
def vocabulary_json(request: Request) -> SparqlVocabulary:
    """Prefixes, classes and properties (declared by the ontology or used by the map) and the facets' concepts,
    with their labels: what the SPARQL editor completes, served from this map so that the editor never asks
    another site."""
    context: AppContext = request.app.state.context
    return sparql_vocabulary(context.evidence_map, context.vocabulary)
