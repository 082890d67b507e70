"""Network views of the map with networkx: the study–concept graph and what can be read off it.

One SPARQL query builds the bipartite graph of studies and the concepts they are recorded with (direct values of
every concept facet, as the data states them); the other views are computed from it, so they change with the data:

- ``<facet>-cooccurrence``: concepts of one facet (e.g. challenges, outcomes) linked when studies report both;
  edge ``weight`` = number of studies sharing both, ``refs`` = their reference numbers;
- ``study-similarity``: studies linked by the concepts they share (``shared`` count and ``jaccard`` index);
- :func:`central_concepts`: the concepts that connect the most studies (degree and betweenness in the bipartite
  graph).

Every attribute is a str, int, float or bool, so the graphs export to GraphML and GEXF for Gephi or Cytoscape.
"""

from __future__ import annotations

import io
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import combinations
from types import ModuleType
from typing import TYPE_CHECKING, Any, TypeAlias

import numpy as np

from evidencemap import namespaces as ns
from evidencemap.errors import BadRequest, NotFound
from evidencemap.graph.store import EvidenceMap
from evidencemap.model.facets import Selection
from evidencemap.model.recorded import not_recorded_sentence, recorded_facets, unrecorded_facets
from evidencemap.model.study_query import CITATION_AND_SLUG, StudyQuery, any_direct_value
from evidencemap.model.vocabulary import Facet, Vocabulary

# Node ids are IRIs (str). networkx's Graph is generic only in its type stubs, so the alias is for the type checker.
# networkx itself is imported by the functions that use it (_nx): a server start does not pay for it (0.1-0.3 s).
if TYPE_CHECKING:
    import networkx

    Graph: TypeAlias = networkx.Graph[str]


def _nx() -> ModuleType:
    import networkx

    return networkx


def _graph(**attributes: str) -> Graph:
    graph: Graph = _nx().Graph(**attributes)
    return graph

STUDY_CONCEPT = "study-concept"
STUDY_SIMILARITY = "study-similarity"
COOCCURRENCE = "-cooccurrence"
EXACT_BETWEENNESS = 300
BETWEENNESS_SAMPLES = 32
MAX_SIMILARITY_STUDIES = 500


def network_kinds(vocabulary: Vocabulary, evidence_map: EvidenceMap | None = None) -> list[str]:
    """The graphs that can be built: the bipartite graph, one co-occurrence graph per concept facet (given
    ``evidence_map``, per concept facet it records: model/recorded.py), similarity."""
    facets = vocabulary.concept_facets
    if evidence_map is not None:
        facets = recorded_facets(evidence_map, facets)
    return [STUDY_CONCEPT, *(f.name + COOCCURRENCE for f in facets), STUDY_SIMILARITY]


def bipartite_query(facets: Sequence[Facet], selection: Selection) -> str:
    """SPARQL for each study matching ``selection`` with the concepts it has directly on ``facets``."""
    return StudyQuery(
        "?study ?ref ?citation ?slug ?concept",
        selection.terms(),
        numbered=True,
        patterns=[*CITATION_AND_SLUG, any_direct_value(facets, "?concept")],
        modifiers="ORDER BY ?ref ?study",
    ).text()


def study_concept_graph(
    evidence_map: EvidenceMap,
    vocabulary: Vocabulary,
    selection: Selection | None = None,
    facets: Sequence[Facet] | None = None,
) -> Graph:
    """The bipartite graph: studies (``bipartite=0``) linked to the concepts they have (``bipartite=1``).

    Node ids are IRIs. Concepts no study has are left out; a study with no concept is kept, alone.
    """
    facets = tuple(facets if facets is not None else vocabulary.concept_facets)
    names = {f.name for f in facets}
    graph = _graph(kind=STUDY_CONCEPT, title="Studies and the concepts they are recorded with")
    for row in evidence_map.select(bipartite_query(facets, selection or Selection())):
        study = row["study"]
        if study not in graph:
            slug = str(row.get("slug", ns.last_segment(study)))
            graph.add_node(
                study, kind="study", bipartite=0, label=str(row.get("citation", slug)), ref=int(row["ref"]),
                slug=slug, iri=study,
            )
        found = vocabulary.concept_by_iri(str(row.get("concept", "")))
        if found is None or found[0].name not in names:
            continue
        facet, concept = found
        if concept.iri not in graph:
            graph.add_node(
                concept.iri, kind="concept", bipartite=1, label=concept.pref_label, facet=facet.name,
                facet_label=facet.label, slug=concept.slug, iri=concept.iri, order=facet.order * 1000 + concept.order,
            )
        graph.add_edge(study, concept.iri, facet=facet.name)
    for node, data in graph.nodes(data=True):
        if data["kind"] == "concept":
            data["studies"] = graph.degree(node)
        else:
            data["concepts"] = graph.degree(node)
    return graph


def _studies_of(bipartite: Graph, concept: str) -> list[str]:
    return sorted(bipartite.neighbors(concept), key=lambda s: bipartite.nodes[s]["ref"])


def _refs(bipartite: Graph, studies: Sequence[str]) -> str:
    return " ".join(str(bipartite.nodes[s]["ref"]) for s in sorted(studies, key=lambda s: bipartite.nodes[s]["ref"]))


def cooccurrence_graph(bipartite: Graph, facet: Facet) -> Graph:
    """Concepts of ``facet`` linked when studies have both; ``weight`` = number of such studies."""
    graph = _graph(
        kind=facet.name + COOCCURRENCE,
        title=f"Co-occurrence of {facet.label} values across studies",
        facet=facet.name,
    )
    concepts = sorted(
        (n for n, d in bipartite.nodes(data=True) if d["kind"] == "concept" and d["facet"] == facet.name),
        key=lambda n: bipartite.nodes[n]["order"],
    )
    for concept in concepts:
        graph.add_node(concept, **bipartite.nodes[concept], refs=_refs(bipartite, _studies_of(bipartite, concept)))
    shared: dict[tuple[str, str], list[str]] = defaultdict(list)
    rank = {c: i for i, c in enumerate(concepts)}
    for study, data in bipartite.nodes(data=True):
        if data["kind"] != "study":
            continue
        mine = sorted((c for c in bipartite.neighbors(study) if c in rank), key=rank.__getitem__)
        for a, b in combinations(mine, 2):
            shared[(a, b)].append(study)
    for (a, b), studies in sorted(shared.items(), key=lambda kv: (rank[kv[0][0]], rank[kv[0][1]])):
        graph.add_edge(a, b, weight=len(studies), refs=_refs(bipartite, studies))
    return graph


@dataclass(frozen=True)
class Pair:
    """A value of one facet and a value of another reported by the same studies (``studies``: their IRIs, by
    reference number; ``refs``: their reference numbers)."""

    left: dict[str, Any]
    right: dict[str, Any]
    studies: tuple[str, ...]
    refs: str

    @property
    def count(self) -> int:
        return len(self.studies)


def pairs_between(bipartite: Graph, left: Facet, right: Facet) -> list[Pair]:
    """Every value of ``left`` with every value of ``right`` that a study reports with it (e.g. which outcomes go
    with which challenges), most studies first, then in the vocabulary's order. A pair no study reports is left out;
    it says nothing about cause, only that the same studies report both."""
    def values(facet: Facet) -> list[str]:
        return sorted((n for n, d in bipartite.nodes(data=True) if d["kind"] == "concept" and d["facet"] == facet.name),
                      key=lambda n: bipartite.nodes[n]["order"])

    rights = values(right)
    out = []
    for a in values(left):
        mine = set(bipartite.neighbors(a))
        for b in rights:
            shared = sorted(mine & set(bipartite.neighbors(b)), key=lambda s: bipartite.nodes[s]["ref"])
            if shared:
                out.append(Pair(dict(bipartite.nodes[a]), dict(bipartite.nodes[b]), tuple(shared),
                                _refs(bipartite, shared)))
    return sorted(out, key=lambda p: (-p.count, p.left["order"], p.right["order"]))


def pair_graph(bipartite: Graph, left: Facet, right: Facet) -> Graph:
    """The pairs of :func:`pairs_between` as a graph for drawing: the values of both facets that some pair has
    (``side`` "left" or "right"), linked with ``weight`` = studies reporting both."""
    graph = _graph(kind=f"{left.name}-{right.name}", title=f"{right.label.capitalize()} reported with {left.label}")
    for pair in pairs_between(bipartite, left, right):
        for side, node in (("left", pair.left), ("right", pair.right)):
            if node["iri"] not in graph:
                graph.add_node(node["iri"], **node, side=side)
        graph.add_edge(pair.left["iri"], pair.right["iri"], weight=pair.count, refs=pair.refs)
    return graph


def similarity_graph(bipartite: Graph, min_shared: int = 1) -> Graph:
    """Studies linked by the concepts they share: ``shared`` (count), ``jaccard`` (shared / all of either).

    The shared counts are one product of the study x concept incidence matrix with its transpose.

    :raises BadRequest: above :data:`MAX_SIMILARITY_STUDIES` studies (up to n² links), asking for filters.
    """
    graph = _graph(kind=STUDY_SIMILARITY, title="Study similarity by shared concepts")
    studies = sorted((n for n, d in bipartite.nodes(data=True) if d["kind"] == "study"),
                     key=lambda n: bipartite.nodes[n]["ref"])
    if len(studies) > MAX_SIMILARITY_STUDIES:
        raise BadRequest(
            f"Study similarity over {len(studies):,} studies would have up to {len(studies) ** 2 // 2:,} links.",
            hint=f"Narrow it to at most {MAX_SIMILARITY_STUDIES:,} studies with facet filters.",
        )
    concepts = sorted((n for n, d in bipartite.nodes(data=True) if d["kind"] == "concept"),
                      key=lambda c: bipartite.nodes[c]["order"])
    column = {c: j for j, c in enumerate(concepts)}
    incidence = np.zeros((len(studies), len(concepts)), dtype=np.int32)
    for i, study in enumerate(studies):
        graph.add_node(study, **bipartite.nodes[study])
        for concept in bipartite.neighbors(study):
            incidence[i, column[concept]] = 1
    shared = incidence @ incidence.T
    sizes = incidence.sum(axis=1)
    rows, cols = np.nonzero(np.triu(shared >= max(min_shared, 1), k=1))
    for i, j in zip(rows.tolist(), cols.tolist(), strict=True):
        common = int(shared[i, j])
        labels = [bipartite.nodes[concepts[k]]["label"] for k in np.nonzero(incidence[i] & incidence[j])[0]]
        graph.add_edge(
            studies[i], studies[j], weight=common, shared=common,
            jaccard=round(common / int(sizes[i] + sizes[j] - common), 4), concepts="; ".join(labels),
        )
    return graph


def central_concepts(bipartite: Graph, top: int | None = None) -> list[dict[str, Any]]:
    """Concepts ranked by the studies they connect (degree), then by betweenness centrality in the bipartite
    graph (how often they lie on the shortest paths between other nodes).

    Betweenness is exact up to :data:`EXACT_BETWEENNESS` nodes and estimated from :data:`BETWEENNESS_SAMPLES`
    seeded sample sources above (exact costs O(nodes x edges): seconds at 1,000 studies).
    """
    sample = None if bipartite.number_of_nodes() <= EXACT_BETWEENNESS else BETWEENNESS_SAMPLES
    betweenness = _nx().betweenness_centrality(bipartite, k=sample, normalized=True, seed=7)
    ranked = sorted(
        (
            {
                "iri": node, "facet": data["facet"], "slug": data["slug"], "label": data["label"],
                "studies": bipartite.degree(node), "refs": _refs(bipartite, list(bipartite.neighbors(node))),
                "betweenness": round(betweenness[node], 4), "betweenness_sampled": sample or 0,
            }
            for node, data in bipartite.nodes(data=True)
            if data["kind"] == "concept"
        ),
        key=lambda c: (-c["studies"], -c["betweenness"], c["facet"], c["label"]),
    )
    return ranked[:top] if top is not None else ranked


def build_network(
    evidence_map: EvidenceMap, vocabulary: Vocabulary, kind: str, selection: Selection | None = None
) -> Graph:
    """The graph of that ``kind`` (see :func:`network_kinds`) over the studies matching ``selection``.

    :raises NotFound: for an unknown kind, or the co-occurrence of a facet the map does not record, listing the
        kinds.
    """
    kinds = network_kinds(vocabulary, evidence_map)
    if kind not in kinds:
        unrecorded = unrecorded_facets(evidence_map, vocabulary.concept_facets)
        missing = [f for f in unrecorded if kind == f.name + COOCCURRENCE]
        said = f"No network {kind!r}."
        if missing:
            said = f"{not_recorded_sentence(missing[0])[:-1]}: no network {kind!r}."
        raise NotFound(said, hint=f"Use one of: {', '.join(kinds)}.")
    bipartite = study_concept_graph(evidence_map, vocabulary, selection)
    if kind == STUDY_CONCEPT:
        for item in central_concepts(bipartite):
            bipartite.nodes[item["iri"]]["betweenness"] = item["betweenness"]
        return bipartite
    if kind == STUDY_SIMILARITY:
        return similarity_graph(bipartite)
    return cooccurrence_graph(bipartite, vocabulary.facet(kind.removesuffix(COOCCURRENCE)))


def node_link(graph: Graph) -> dict[str, Any]:
    """The graph as node-link JSON (``nodes`` and ``edges``), as networkx reads it back."""
    data: dict[str, Any] = _nx().node_link_data(graph, edges="edges")
    return data


def graphml_bytes(graph: Graph) -> bytes:
    out = io.BytesIO()
    _nx().write_graphml(graph, out, encoding="utf-8", prettyprint=True)
    return out.getvalue()


def gexf_bytes(graph: Graph) -> bytes:
    out = io.BytesIO()
    _nx().write_gexf(graph, out, encoding="utf-8", prettyprint=True)
    return out.getvalue()


def network_graphml(evidence_map: EvidenceMap, vocabulary: Vocabulary, kind: str = STUDY_CONCEPT) -> bytes:
    """The network ``kind`` of the whole map as GraphML (for ``evidencemap export --format graphml``)."""
    return graphml_bytes(build_network(evidence_map, vocabulary, kind))


def network_gexf(evidence_map: EvidenceMap, vocabulary: Vocabulary, kind: str = STUDY_CONCEPT) -> bytes:
    """The network ``kind`` of the whole map as GEXF 1.2 (for ``evidencemap export --format gexf``)."""
    return gexf_bytes(build_network(evidence_map, vocabulary, kind))


def layout(graph: Graph, method: str = "circular", seed: int = 7) -> dict[str, tuple[float, float]]:
    """Node positions in [-1, 1]², computed by networkx (``circular`` or a seeded, weighted ``spring``), or
    ``columns``: the nodes of ``side`` "left" in one column and "right" in another, each in the vocabulary's order
    (labels never overlap; a pair graph's natural drawing)."""
    if graph.number_of_nodes() == 0:
        return {}
    if method == "columns":
        placed: dict[str, tuple[float, float]] = {}
        for x, side in ((-1.0, "left"), (1.0, "right")):
            column = sorted((n for n, d in graph.nodes(data=True) if d.get("side", "left") == side),
                            key=lambda n: graph.nodes[n].get("order", 0))
            for i, node in enumerate(column):
                placed[node] = (x, 1.0 - 2.0 * i / max(len(column) - 1, 1))
        return placed
    spring = method == "spring"
    positions = _nx().spring_layout(graph, weight="weight", seed=seed) if spring else _nx().circular_layout(graph)
    return {node: (float(x), float(y)) for node, (x, y) in positions.items()}
