"""The vocabulary as Python objects, read from the ontology's facets and SKOS concept schemes in the store.

Nothing here names a concept: facets, labels, synonyms and hierarchies all come from the RDF, so a concept added to
a scheme appears in the API, the pages and the question parser without code changes. The facets and concepts are
read from every graph of the store: the core vocabulary (ontology/) and each map's own vocabulary.ttl, which may add
concepts to core schemes (``skos:broader`` a core concept) and whole facets with their own schemes.

A facet marked ``evm:listsOnlyValuesInUse`` (countries: 249 in the core, a handful in a map) offers only the
concepts its map uses, and their broader concepts; everything that matches a map's own data against the whole
scheme (the extraction-sheet import) reads it with ``all_values=True``.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

import pyoxigraph as ox

from evidencemap import namespaces as ns
from evidencemap.errors import InvalidParameter, NotFound
from evidencemap.graph.store import EvidenceMap, to_python


@dataclass(frozen=True)
class Concept:
    """A SKOS concept that is a value of a facet."""

    iri: str
    slug: str
    scheme: str
    pref_label: str
    alt_labels: tuple[str, ...] = ()
    hidden_labels: tuple[str, ...] = ()
    definition: str = ""
    notation: str | None = None
    broader: tuple[str, ...] = ()
    order: int = 0
    mappings: tuple[tuple[str, str], ...] = ()
    codes: tuple[str, ...] = ()  # every skos:notation, plain or typed (a country's alpha-2 and alpha-3 codes)

    @property
    def labels(self) -> tuple[str, ...]:
        """Every label people may type for this concept: preferred, alternative and hidden."""
        return (self.pref_label, *self.alt_labels, *self.hidden_labels)


@dataclass(frozen=True)
class Facet:
    """A dimension by which studies are filtered and counted."""

    iri: str
    name: str
    label: str
    alt_labels: tuple[str, ...]
    definition: str
    path: tuple[str, ...]
    order: int
    scheme: str | None = None
    concepts: tuple[Concept, ...] = field(default=())
    datatype: str | None = None  # the datatype of a literal facet's values (evm:facetDatatype)
    gap_map_roles: tuple[str, ...] = ()  # where the gap map shows it by default (evm:gapMapRole)
    only_values_in_use: bool = False  # evm:listsOnlyValuesInUse: its concepts are those the map uses

    @property
    def is_concept_facet(self) -> bool:
        return self.scheme is not None

    def sparql_path(self) -> str:
        """The SPARQL property path from a study to this facet's values (IRIs from the ontology, not user input)."""
        return "/".join(f"<{p}>" for p in self.path)

    def concept(self, slug: str) -> Concept:
        """The concept of this facet with that slug.

        :raises InvalidParameter: listing the valid slugs.
        """
        for c in self.concepts:
            if c.slug == slug:
                return c
        valid = ", ".join(c.slug for c in self.concepts)
        raise InvalidParameter(f"Unknown value {slug!r} for facet {self.name!r}.", hint=f"Use one of: {valid}.")

    def children(self, concept: Concept | None) -> list[Concept]:
        """Top concepts (``concept`` None) or the concepts directly narrower than ``concept``."""
        if concept is None:
            return [c for c in self.concepts if not c.broader]
        return [c for c in self.concepts if concept.iri in c.broader]

    def ancestors(self, concept: Concept) -> list[Concept]:
        """``concept`` and every broader concept, nearest first."""
        by_iri = {c.iri: c for c in self.concepts}
        out, todo, seen = [], [concept], set()
        while todo:
            current = todo.pop(0)
            if current.iri in seen:
                continue
            seen.add(current.iri)
            out.append(current)
            todo.extend(by_iri[b] for b in current.broader if b in by_iri)
        return out


@dataclass(frozen=True)
class Vocabulary:
    facets: tuple[Facet, ...]

    def facet(self, name: str) -> Facet:
        """:raises InvalidParameter: listing the facet names."""
        for f in self.facets:
            if f.name == name:
                return f
        raise InvalidParameter(
            f"Unknown facet {name!r}.", hint=f"Use one of: {', '.join(f.name for f in self.facets)}."
        )

    def facet_for_scheme(self, scheme_slug: str) -> Facet:
        """The facet whose concept scheme has that slug (the last segment of its IRI).

        :raises NotFound: listing the schemes.
        """
        for f in self.facets:
            if f.scheme is not None and ns.last_segment(f.scheme) == scheme_slug:
                return f
        schemes = ", ".join(ns.last_segment(f.scheme) for f in self.facets if f.scheme)
        raise NotFound(f"No concept scheme {scheme_slug!r}.", hint=f"Schemes: {schemes}.")

    def concept_by_iri(self, iri: str) -> tuple[Facet, Concept] | None:
        for f in self.facets:
            for c in f.concepts:
                if c.iri == iri:
                    return f, c
        return None

    @property
    def concept_facets(self) -> tuple[Facet, ...]:
        return tuple(f for f in self.facets if f.is_concept_facet)

    def facets_in_role(self, role: str) -> tuple[Facet, ...]:
        """The facets the vocabulary gives a gap-map role (``evm:gapMapRole``), in facet order."""
        return tuple(f for f in self.facets if role in f.gap_map_roles)


FACETS_QUERY = ns.sparql_prefixes(("evm", "rdfs", "skos")) + """
SELECT ?facet ?name ?label ?definition ?order ?scheme ?datatype ?list ?inUse
       (GROUP_CONCAT(DISTINCT ?alt; separator="\\u001f") AS ?alts)
       (GROUP_CONCAT(DISTINCT ?role; separator="\\u001f") AS ?roles)
WHERE {
  ?facet a evm:Facet ; evm:facetName ?name ; rdfs:label ?label ; evm:facetOrder ?order ; evm:facetPath ?list .
  OPTIONAL { ?facet skos:definition ?definition }
  OPTIONAL { ?facet evm:facetScheme ?scheme }
  OPTIONAL { ?facet evm:facetDatatype ?datatype }
  OPTIONAL { ?facet skos:altLabel ?alt }
  OPTIONAL { ?facet evm:gapMapRole ?role }
  OPTIONAL { ?facet evm:listsOnlyValuesInUse ?inUse }
}
GROUP BY ?facet ?name ?label ?definition ?order ?scheme ?datatype ?list ?inUse
"""

# The concepts of the schemes of facets marked evm:listsOnlyValuesInUse that something other than the vocabulary's
# own SKOS structure points to: a finding, a materialised fact, a claim's condition, a map's data.
IN_USE_QUERY = ns.sparql_prefixes(("evm", "skos")) + """
SELECT DISTINCT ?concept WHERE {
  ?facet evm:listsOnlyValuesInUse true ; evm:facetScheme ?scheme .
  ?concept skos:inScheme ?scheme .
  FILTER EXISTS { ?s ?p ?concept FILTER(!STRSTARTS(STR(?p), STR(skos:))) }
}
"""

# A concept's notation is its plain skos:notation (a country's ISO alpha-2 code); typed notations (the alpha-3 code,
# evm:ISO3166Alpha3) are other notation systems: they are among its codes (what a sheet's cell may hold), never
# among its labels (words of a question).
CONCEPTS_QUERY = ns.sparql_prefixes(("evm", "skos", "xsd")) + """
SELECT ?concept ?scheme ?pref ?definition ?notation ?order
       (GROUP_CONCAT(DISTINCT ?alt; separator="\\u001f") AS ?alts)
       (GROUP_CONCAT(DISTINCT ?hidden; separator="\\u001f") AS ?hiddens)
       (GROUP_CONCAT(DISTINCT STR(?broader); separator="\\u001f") AS ?broaders)
       (GROUP_CONCAT(DISTINCT STR(?code); separator="\\u001f") AS ?codes)
WHERE {
  ?concept a skos:Concept ; skos:inScheme ?scheme ; skos:prefLabel ?pref .
  FILTER(LANGMATCHES(LANG(?pref), "en") || LANG(?pref) = "")
  OPTIONAL { ?concept skos:definition ?definition }
  OPTIONAL { ?concept skos:notation ?notation FILTER(DATATYPE(?notation) = xsd:string) }
  OPTIONAL { ?concept skos:notation ?code }
  OPTIONAL { ?concept evm:valueOrder ?order }
  OPTIONAL { ?concept skos:altLabel ?alt }
  OPTIONAL { ?concept skos:hiddenLabel ?hidden }
  OPTIONAL { { ?concept skos:broader ?broader } UNION { ?broader skos:narrower ?concept } }
}
GROUP BY ?concept ?scheme ?pref ?definition ?notation ?order
"""

MAPPINGS_QUERY = ns.sparql_prefixes(("skos",)) + """
SELECT ?concept ?relation ?target WHERE {
  ?concept a skos:Concept ; ?relation ?target .
  VALUES ?relation { skos:exactMatch skos:closeMatch skos:broadMatch skos:narrowMatch skos:relatedMatch }
} ORDER BY ?concept ?relation ?target
"""


FACET_COLUMNS = tuple(
    ox.Variable(v)
    for v in ("facet", "name", "label", "definition", "order", "scheme", "datatype", "alts", "roles", "inUse")
)


# The items of every facet's path (an RDF list) with their positions, in one query: a list's nodes are blank, and a
# blank node cannot be looked up again on a remote engine (graph/remote.py), so the list is not walked node by node.
# A node's position is the number of nodes from the head to it (property paths count each node once).
PATHS_QUERY = ns.sparql_prefixes(("evm", "rdf")) + """
SELECT ?facet ?item (COUNT(?mid) AS ?position) WHERE {
  ?facet a evm:Facet ; evm:facetPath ?list .
  ?list rdf:rest* ?mid . ?mid rdf:rest* ?node . ?node rdf:first ?item .
  FILTER(isIRI(?item))
} GROUP BY ?facet ?node ?item ORDER BY ?facet ?position
"""


def facet_paths(evidence_map: EvidenceMap) -> dict[str, tuple[str, ...]]:
    """The IRIs of each facet's path (its evm:facetPath list), in order."""
    paths: dict[str, list[str]] = {}
    for row in evidence_map.select(PATHS_QUERY):
        paths.setdefault(str(row["facet"]), []).append(str(row["item"]))
    return {facet: tuple(items) for facet, items in paths.items()}


def _split(value: str | None) -> tuple[str, ...]:
    return tuple(sorted(v for v in (value or "").split("\u001f") if v))


def _in_use(concepts: list[Concept], used: set[str]) -> list[Concept]:
    """The concepts in ``used`` and every concept broader than one of them."""
    by_iri = {c.iri: c for c in concepts}
    keep: set[str] = set()
    todo = [iri for iri in used if iri in by_iri]
    while todo:
        iri = todo.pop()
        if iri not in keep:
            keep.add(iri)
            todo.extend(b for b in by_iri[iri].broader if b in by_iri)
    return [c for c in concepts if c.iri in keep]


def load_vocabulary(evidence_map: EvidenceMap, *, all_values: bool = False) -> Vocabulary:
    """Read every facet and its concepts from the map's store (the core vocabulary and the maps' own).

    A facet marked ``evm:listsOnlyValuesInUse`` keeps only the concepts the store's data uses (and their broader
    ones), unless ``all_values``: matching new data against the whole scheme needs them all.
    """
    mappings: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for row in evidence_map.select(MAPPINGS_QUERY):
        mappings[row["concept"]].append((row["relation"].rsplit("#", 1)[-1], row["target"]))
    concepts_by_scheme: dict[str, list[Concept]] = defaultdict(list)
    for row in evidence_map.select(CONCEPTS_QUERY):
        iri = row["concept"]
        concepts_by_scheme[row["scheme"]].append(
            Concept(
                iri=iri,
                slug=ns.last_segment(iri),
                scheme=row["scheme"],
                pref_label=row["pref"],
                alt_labels=_split(row.get("alts")),
                hidden_labels=_split(row.get("hiddens")),
                definition=row.get("definition", ""),
                notation=row.get("notation"),
                broader=_split(row.get("broaders")),
                order=int(row.get("order", 0)),
                mappings=tuple(mappings.get(iri, ())),
                codes=_split(row.get("codes")),
            )
        )
    used = set() if all_values else {row["concept"] for row in evidence_map.select(IN_USE_QUERY)}
    facets = []
    paths = facet_paths(evidence_map)
    for solution in evidence_map.solutions(FACETS_QUERY):
        row = {k.value: to_python(solution[k]) for k in FACET_COLUMNS if solution[k] is not None}
        iri = str(row["facet"])
        scheme = row.get("scheme")
        concepts = sorted(concepts_by_scheme.get(str(scheme), []), key=lambda c: (c.order, c.pref_label))
        only_in_use = str(row.get("inUse", "")).lower() == "true"
        if only_in_use and not all_values:
            concepts = _in_use(concepts, used)
        facets.append(
            Facet(
                iri=iri,
                name=str(row["name"]),
                label=str(row["label"]),
                alt_labels=_split(str(row.get("alts", ""))),
                definition=str(row.get("definition", "")),
                path=paths.get(iri, ()),
                order=int(str(row["order"])),
                scheme=str(scheme) if scheme else None,
                concepts=tuple(concepts),
                datatype=str(row["datatype"]) if "datatype" in row else None,
                gap_map_roles=_split(str(row.get("roles", ""))),
                only_values_in_use=only_in_use,
            )
        )
    return Vocabulary(facets=tuple(sorted(facets, key=lambda f: (f.order, f.name))))


def vocabulary_of(evidence_map: EvidenceMap) -> Vocabulary:
    """The map's vocabulary, read once per version of the map."""
    return evidence_map.derive("vocabulary", lambda: load_vocabulary(evidence_map))


def scheme_slug(iri: str) -> str:
    return ns.last_segment(iri)

