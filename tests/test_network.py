"""Network views: the study–concept graph, co-occurrence and similarity, checked against facets.select_studies,
and GraphML / GEXF exports that networkx reads back."""

from __future__ import annotations

import io
import xml.etree.ElementTree as ET
from itertools import combinations, pairwise
from pathlib import Path
from typing import Any

import networkx as nx
import pytest

from evidencemap.errors import BadRequest, NotFound
from evidencemap.graph.store import EvidenceMap
from evidencemap.model.facets import Selection
from evidencemap.model.vocabulary import Vocabulary, load_vocabulary
from evidencemap.render.svg import network_drawing
from evidencemap.views.network import (
    build_network,
    central_concepts,
    cooccurrence_graph,
    gexf_bytes,
    graphml_bytes,
    layout,
    network_gexf,
    network_graphml,
    network_kinds,
    node_link,
    pair_graph,
    pairs_between,
    study_concept_graph,
)
from visuals_fixtures import map_with_extra_study, refs, studies_with

EVM = "https://w3id.org/evidencemap/ontology#"
KINDS = ["study-concept", "challenge-cooccurrence", "outcome-cooccurrence", "study-similarity"]


def direct_values(evidence_map: EvidenceMap, vocabulary: Vocabulary) -> dict[str, set[str]]:
    """study -> the concepts it has directly, one facet at a time (not the union query network.py runs)."""
    out: dict[str, set[str]] = {}
    for row in evidence_map.select(f"SELECT ?s WHERE {{ ?s a <{EVM}IncludedStudy> }}"):
        out[row["s"]] = set()
    for facet in vocabulary.concept_facets:
        query = f"SELECT ?s ?c WHERE {{ ?s a <{EVM}IncludedStudy> ; {facet.sparql_path()} ?c }}"
        for row in evidence_map.select(query):
            if vocabulary.concept_by_iri(row["c"]):
                out[row["s"]].add(row["c"])
    return out


def test_study_concept_graph_has_every_study_and_fact(bundled: EvidenceMap, vocabulary: Vocabulary) -> None:
    expected = direct_values(bundled, vocabulary)
    graph = study_concept_graph(bundled, vocabulary)
    studies = [n for n, d in graph.nodes(data=True) if d["kind"] == "study"]
    concepts = [n for n, d in graph.nodes(data=True) if d["kind"] == "concept"]
    assert set(studies) == set(expected) and len(studies) == 11
    assert set(concepts) == set().union(*expected.values())
    assert graph.number_of_edges() == sum(len(v) for v in expected.values())
    assert nx.is_bipartite(graph)
    assert graph.nodes["https://w3id.org/evidencemap/data/dufour-2025/study/blay-2025"]["ref"] == 35


@pytest.mark.parametrize("facet", ["challenge", "outcome", "component"])
def test_cooccurrence_weights_are_studies_sharing_both(
    bundled: EvidenceMap, vocabulary: Vocabulary, facet: str
) -> None:
    graph = build_network(bundled, vocabulary, f"{facet}-cooccurrence")
    used = set().union(*direct_values(bundled, vocabulary).values())
    concepts = [c for c in vocabulary.facet(facet).concepts if c.iri in used]
    assert set(graph.nodes) == {c.iri for c in concepts}
    # in this map no study has both a concept and a narrower one, so select_studies gives each node's studies
    for a, b in combinations(concepts, 2):
        both = studies_with(bundled, vocabulary, **{facet: [a.slug]})
        both &= studies_with(bundled, vocabulary, **{facet: [b.slug]})
        if both:
            assert graph.edges[a.iri, b.iri]["weight"] == len(both)
            assert graph.edges[a.iri, b.iri]["refs"] == " ".join(map(str, refs(bundled, both)))
        else:
            assert not graph.has_edge(a.iri, b.iri)


def test_challenge_cooccurrence_burnout_and_online(bundled: EvidenceMap, vocabulary: Vocabulary) -> None:
    # 3.3.3: burnout (39, 40, 41, 42, 44, 45), online and digital challenges (40, 42, 44, 45)
    graph = build_network(bundled, vocabulary, "challenge-cooccurrence")
    burnout = vocabulary.facet("challenge").concept("emotional-vulnerability-burnout").iri
    online = vocabulary.facet("challenge").concept("online-digital-challenges").iri
    assert graph.edges[burnout, online] == {"weight": 4, "refs": "40 42 44 45"}
    assert graph.nodes[burnout]["studies"] == 6


def test_study_similarity_counts_shared_concepts(bundled: EvidenceMap, vocabulary: Vocabulary) -> None:
    values = direct_values(bundled, vocabulary)
    graph = build_network(bundled, vocabulary, "study-similarity")
    assert graph.number_of_nodes() == 11
    for a, b in combinations(sorted(values), 2):
        shared = values[a] & values[b]
        if not shared:
            assert not graph.has_edge(a, b)
            continue
        edge = graph.edges[a, b]
        assert edge["shared"] == edge["weight"] == len(shared)
        assert edge["jaccard"] == pytest.approx(len(shared) / len(values[a] | values[b]), abs=1e-4)


def test_central_concepts_connect_the_most_studies(bundled: EvidenceMap, vocabulary: Vocabulary) -> None:
    ranked = central_concepts(study_concept_graph(bundled, vocabulary))
    counts = [c["studies"] for c in ranked]
    assert counts == sorted(counts, reverse=True)
    top = ranked[0]
    assert (top["facet"], top["slug"], top["studies"]) == ("component", "emotional-support-validation", 9)
    assert top["refs"] == "35 36 38 39 40 41 42 43 45"
    assert all(0.0 <= c["betweenness"] <= 1.0 for c in ranked)


@pytest.mark.parametrize("kind", KINDS)
def test_graphml_and_gexf_load_back_with_networkx(bundled: EvidenceMap, vocabulary: Vocabulary, kind: str) -> None:
    graph = build_network(bundled, vocabulary, kind)
    assert graph.number_of_nodes() > 0
    for data, read in ((graphml_bytes(graph), nx.read_graphml), (gexf_bytes(graph), nx.read_gexf)):
        loaded = read(io.BytesIO(data))
        assert loaded.number_of_nodes() == graph.number_of_nodes()
        assert loaded.number_of_edges() == graph.number_of_edges()
        for a, b, attrs in graph.edges(data=True):
            if "weight" in attrs:
                assert float(loaded.edges[a, b]["weight"]) == attrs["weight"]


def test_export_functions_for_the_cli(bundled: EvidenceMap, vocabulary: Vocabulary) -> None:
    graphml = nx.read_graphml(io.BytesIO(network_graphml(bundled, vocabulary, "challenge-cooccurrence")))
    gexf = nx.read_gexf(io.BytesIO(network_gexf(bundled, vocabulary, "challenge-cooccurrence")))
    expected = build_network(bundled, vocabulary, "challenge-cooccurrence")
    for loaded in (graphml, gexf):
        assert (loaded.number_of_nodes(), loaded.number_of_edges()) == (
            expected.number_of_nodes(), expected.number_of_edges()
        )


def test_node_link_json_round_trips(bundled: EvidenceMap, vocabulary: Vocabulary) -> None:
    graph = build_network(bundled, vocabulary, "outcome-cooccurrence")
    data = node_link(graph)
    assert set(data) >= {"nodes", "edges", "graph"}
    back = nx.node_link_graph(data, edges="edges")
    assert nx.utils.graphs_equal(back, graph)


def test_network_kinds_come_from_the_vocabulary(bundled: EvidenceMap, vocabulary: Vocabulary) -> None:
    kinds = network_kinds(vocabulary)
    assert kinds[0] == "study-concept" and kinds[-1] == "study-similarity"
    assert {f"{f.name}-cooccurrence" for f in vocabulary.concept_facets} <= set(kinds)
    with pytest.raises(NotFound) as raised:
        build_network(bundled, vocabulary, "nope")
    assert "challenge-cooccurrence" in str(raised.value.hint)


def test_network_follows_a_study_added_to_the_data(tmp_path: Path) -> None:
    evidence_map = map_with_extra_study(tmp_path)
    vocab = load_vocabulary(evidence_map)
    graph = build_network(evidence_map, vocab, "challenge-cooccurrence")
    burnout = vocab.facet("challenge").concept("emotional-vulnerability-burnout").iri
    misinformation = vocab.facet("challenge").concept("misinformation").iri
    assert graph.edges[burnout, misinformation] == {"weight": 2, "refs": "45 99"}
    assert build_network(evidence_map, vocab, "study-similarity").number_of_nodes() == 12


def test_study_similarity_refuses_too_many_studies(
    bundled: EvidenceMap, vocabulary: Vocabulary, monkeypatch: pytest.MonkeyPatch
) -> None:
    import evidencemap.views.network as network

    monkeypatch.setattr(network, "MAX_SIMILARITY_STUDIES", 10)
    with pytest.raises(BadRequest) as raised:
        build_network(bundled, vocabulary, "study-similarity")
    assert "facet filters" in str(raised.value.hint)
    assert build_network(bundled, vocabulary, "study-similarity", Selection.parse(vocabulary, {"delivery": ["online"]}))


def test_central_concepts_estimate_betweenness_on_large_graphs(
    bundled: EvidenceMap, vocabulary: Vocabulary, monkeypatch: pytest.MonkeyPatch
) -> None:
    import evidencemap.views.network as network

    exact = central_concepts(study_concept_graph(bundled, vocabulary))
    assert {c["betweenness_sampled"] for c in exact} == {0}
    monkeypatch.setattr(network, "EXACT_BETWEENNESS", 10)
    sampled = central_concepts(study_concept_graph(bundled, vocabulary))
    assert {c["betweenness_sampled"] for c in sampled} == {network.BETWEENNESS_SAMPLES}
    assert [c["studies"] for c in sampled] == [c["studies"] for c in exact]


# -- the clinicians' question: which outcome goes with which challenge ---------------------------------------------


def test_pairs_are_the_studies_reporting_both(bundled: EvidenceMap, vocabulary: Vocabulary) -> None:
    """Each (challenge, outcome) pair with the studies that report both, from the per-facet query above; every
    pair that some study reports, none other; most studies first."""
    values = direct_values(bundled, vocabulary)
    challenge, outcome = vocabulary.facet("challenge"), vocabulary.facet("outcome")
    expected = {}
    for a in challenge.concepts:
        for b in outcome.concepts:
            studies = {s for s, cs in values.items() if a.iri in cs and b.iri in cs}
            if studies:
                expected[(a.iri, b.iri)] = studies
    pairs = pairs_between(study_concept_graph(bundled, vocabulary), challenge, outcome)
    assert {(p.left["iri"], p.right["iri"]): set(p.studies) for p in pairs} == expected
    assert [p.count for p in pairs] == sorted((p.count for p in pairs), reverse=True)
    graph = pair_graph(study_concept_graph(bundled, vocabulary), challenge, outcome)
    assert graph.number_of_edges() == len(expected)
    assert {d["side"] for _, d in graph.nodes(data=True)} == {"left", "right"}


def label_rows(drawing: ET.Element) -> dict[str, list[float]]:
    """The baselines of the node labels on each side of a network drawing ('start': labels right of their node)."""
    rows: dict[str, list[float]] = {"start": [], "end": []}
    for group in drawing.iter("g"):
        if group.get("class") == "node":
            texts = [t for t in group if t.tag == "text"]
            rows[texts[0].get("text-anchor", "start")].append(float(texts[0].get("y", "0")))
    return rows


@pytest.mark.parametrize("method", ["circular", "spring", "columns"])
def test_network_labels_do_not_overlap(bundled: EvidenceMap, vocabulary: Vocabulary, method: str) -> None:
    """Labels on one side of a drawing are at least a line apart (12 px text), whatever the layout."""
    bipartite = study_concept_graph(bundled, vocabulary)
    graph = (pair_graph(bipartite, vocabulary.facet("challenge"), vocabulary.facet("outcome")) if method == "columns"
             else cooccurrence_graph(bipartite, vocabulary.facet("outcome")))
    drawing = network_drawing(graph, layout(graph, method), "test")
    rows = label_rows(drawing)
    assert sum(len(r) for r in rows.values()) == graph.number_of_nodes()
    for side in rows.values():
        ys = sorted(side)
        assert all(b - a >= 14 for a, b in pairwise(ys)), ys


def test_network_page_answers_which_outcome_goes_with_which_challenge(client: Any) -> None:
    """The page opens with the pairs (each count a link to its studies) and a legend in plain words; the network
    measures and the GraphML/GEXF downloads stay for analysts."""
    response = client.get("/network", headers={"accept": "text/html"})
    assert response.status_code == 200
    text = " ".join(response.text.split())
    assert "Which outcome goes with which challenge" in text and 'id="pairs"' in text
    assert "a line joins two things when at least one study reports both" in text
    assert "etweenness" not in text and "facet" not in text.lower().replace('class="facet', "")
    body = client.get("/network?format=json").json()
    first = body["pairs"][0]
    assert first["studies_url"].startswith("/studies?") and "challenge=" in first["studies_url"]
    assert f'href="{first["studies_url"].replace("&", "&amp;")}"' in text
    listed = client.get(first["studies_url"].replace("/studies", "/api/studies", 1)).json()
    assert listed["total"] == first["studies"]
    assert "format=graphml" in text and "format=gexf" in text
