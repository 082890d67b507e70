"""The core's single places: the query gate and its engine protocol, the IRI space, the derived-state cache, the
study-query builder (the same rows as the queries it replaced) and the PRISMA flow read once and shared."""

from __future__ import annotations

from collections.abc import Mapping
from itertools import combinations

import pyoxigraph as ox
import pytest

from evidencemap import namespaces as ns
from evidencemap.graph.engine import EmbeddedEngine, QueryEngine, QueryResult
from evidencemap.graph.iris import IriSpace
from evidencemap.graph.store import Binding, EvidenceMap
from evidencemap.model import flow as flow_module
from evidencemap.model.claims import check_claims
from evidencemap.model.facet_index import index_of
from evidencemap.model.facets import PREFIXES, Selection, counts_query, studies_query
from evidencemap.model.reviews import review_details, reviews
from evidencemap.model.vocabulary import Vocabulary
from evidencemap.publish.dataset import cache_key
from evidencemap.render.prisma import load_flow
from evidencemap.views.gapmap import studies_detail_query
from evidencemap.views.network import bipartite_query
from evidencemap.views.questions import without_value_query


class RecordingEngine:
    """A QueryEngine in front of another, recording the text of every query: what a remote engine would be sent."""

    def __init__(self, inner: QueryEngine) -> None:
        self.inner = inner
        self.texts: list[str] = []

    def query(
        self, text: str, *, union: bool = True, substitutions: Mapping[str, Binding] | None = None
    ) -> QueryResult:
        self.texts.append(text)
        return self.inner.query(text, union=union, substitutions=substitutions)

    def quads(
        self,
        subject: ox.NamedNode | ox.BlankNode | None,
        predicate: ox.NamedNode | None,
        obj: Binding | None,
        graph: ox.NamedNode | ox.BlankNode | ox.DefaultGraph | None,
    ) -> list[ox.Quad]:
        return self.inner.quads(subject, predicate, obj, graph)

    def size(self) -> int:
        return self.inner.size()

    def named_graphs(self) -> list[ox.NamedNode | ox.BlankNode]:
        return self.inner.named_graphs()


def recorded(bundled: EvidenceMap) -> tuple[EvidenceMap, RecordingEngine]:
    engine = RecordingEngine(EmbeddedEngine(bundled.store))
    return EvidenceMap(store=bundled.store, settings=bundled.settings, query_engine=engine), engine


def test_the_embedded_store_and_a_wrapper_both_implement_the_engine_protocol(bundled: EvidenceMap) -> None:
    assert isinstance(bundled.engine, QueryEngine)
    assert isinstance(RecordingEngine(bundled.engine), QueryEngine)


def test_every_read_goes_through_the_engine_behind_the_gate(bundled: EvidenceMap, vocabulary: Vocabulary) -> None:
    evidence_map, engine = recorded(bundled)
    online = vocabulary.facet("delivery").concept("online")
    selection = Selection.parse(vocabulary, {"delivery": [online.slug]})
    assert evidence_map.select(studies_query(selection)) == bundled.select(studies_query(selection))
    assert any("VALUES ?f0" in text and f"<{online.iri}>" in text for text in engine.texts)
    # a bound parameter is written as a VALUES block by the gate, never pasted by the caller
    study = evidence_map.select(PREFIXES + "SELECT ?s WHERE { ?s a evm:IncludedStudy } LIMIT 1")[0]["s"]
    assert evidence_map.ask("ASK WHERE { ?r ?p ?o }", {"r": ox.NamedNode(study)})
    assert f"VALUES (?r) {{ (<{study}>) }}" in engine.texts[-1]


def test_the_iri_space_maps_both_ways_and_leaves_other_iris_alone() -> None:
    space = IriSpace("http://localhost:8000/")
    canonical = ns.DATA + "dufour-2025/study/blay-2025"
    assert space.canonical(space.served(canonical)) == canonical
    assert space.served("http://example.org/x") == "http://example.org/x"
    assert IriSpace().served(canonical) == canonical
    # a base that itself starts with the canonical base is applied once
    nested = IriSpace(ns.CANONICAL_BASE + "mirror/")
    assert nested.served(canonical) == ns.CANONICAL_BASE + "mirror/data/dufour-2025/study/blay-2025"
    assert nested.canonical(nested.served(canonical)) == canonical


def test_derived_state_is_built_once_per_version_and_rebuilt_after_changed(bundled: EvidenceMap) -> None:
    evidence_map = EvidenceMap(store=bundled.store, settings=bundled.settings)
    builds: list[int] = []
    assert evidence_map.derive("probe", lambda: builds.append(1) or len(builds)) == 1
    assert evidence_map.derive("probe", lambda: builds.append(1) or len(builds)) == 1
    index, key = index_of(evidence_map), cache_key(evidence_map)
    assert index_of(evidence_map) is index
    evidence_map.changed()
    assert evidence_map.derive("probe", lambda: builds.append(1) or len(builds)) == 2
    assert index_of(evidence_map) is not index
    assert cache_key(evidence_map) != key


def _old_studies_query(selection: Selection) -> str:
    """The study list's SPARQL as facets.py wrote it before the builder (kept to compare rows)."""
    where = selection.patterns()
    return (PREFIXES + "SELECT DISTINCT ?study ?ref WHERE {\n"
            + "  ?study a evm:IncludedStudy ; evm:referenceNumber ?ref .\n"
            + (where + "\n" if where else "") + "}\nORDER BY ?ref ?study")


def _old_bipartite_query(selection: Selection, facets: tuple[str, ...]) -> str:
    where = selection.patterns()
    branches = " UNION ".join(f"{{ ?study {f} ?concept }}" for f in facets)
    return (PREFIXES + "SELECT ?study ?ref ?citation ?slug ?concept WHERE {\n"
            "  ?study a evm:IncludedStudy ; evm:referenceNumber ?ref .\n" + (where + "\n" if where else "")
            + "  OPTIONAL { ?study evm:shortCitation ?citation }\n  OPTIONAL { ?study evm:slug ?slug }\n"
            + f"  OPTIONAL {{ {branches} }}\n" + "}\nORDER BY ?ref ?study")


def _old_without_value_query(path: str, selection: Selection) -> str:
    where = selection.patterns()
    return (PREFIXES + "SELECT (COUNT(DISTINCT ?study) AS ?n) WHERE {\n  ?study a evm:IncludedStudy .\n"
            + (where + "\n" if where else "") + f"  FILTER NOT EXISTS {{ ?study {path} ?value }}\n}}")


def _old_counts_query(path: str, selection: Selection) -> str:
    where = selection.patterns()
    return (PREFIXES + "SELECT ?value (COUNT(DISTINCT ?study) AS ?n) WHERE {\n  ?study a evm:IncludedStudy .\n"
            + (where + "\n" if where else "") + f"  ?study {path} ?direct . ?direct skos:broader* ?value .\n"
            + "}\nGROUP BY ?value")


def _selections(vocabulary: Vocabulary) -> list[Selection]:
    """No filter, one concept, two concepts of one facet (OR), two facets (AND), a year."""
    delivery, outcome = vocabulary.facet("delivery"), vocabulary.facet("outcome")
    picks = [
        {},
        {"delivery": [delivery.concepts[0].slug]},
        {"delivery": [c.slug for c in delivery.concepts[:2]]},
        {"delivery": [delivery.concepts[0].slug], "outcome": [outcome.concepts[0].slug]},
        {"year": ["2022", "2023"]},
    ]
    return [Selection.parse(vocabulary, p) for p in picks]


def rows(evidence_map: EvidenceMap, text: str) -> list[tuple[object, ...]]:
    return sorted(tuple(sorted((k, str(v)) for k, v in row.items())) for row in evidence_map.select(text))


def test_the_study_query_builder_gives_the_rows_of_the_queries_it_replaced(
    bundled: EvidenceMap, vocabulary: Vocabulary
) -> None:
    concept_facets = vocabulary.concept_facets
    challenge = vocabulary.facet("challenge")
    for selection in _selections(vocabulary):
        assert rows(bundled, studies_query(selection)) == rows(bundled, _old_studies_query(selection))
        assert rows(bundled, bipartite_query(concept_facets, selection)) == rows(
            bundled, _old_bipartite_query(selection, tuple(f.sparql_path() for f in concept_facets)))
        assert rows(bundled, without_value_query(challenge, selection)) == rows(
            bundled, _old_without_value_query(challenge.sparql_path(), selection))
        # the gap map's details are the study list's studies, each with its values
        details = {row["study"] for row in bundled.select(studies_detail_query(selection, concept_facets[:2]))}
        assert details == {row["study"] for row in bundled.select(studies_query(selection))}
        assert rows(bundled, counts_query(challenge, selection)) == rows(
            bundled, _old_counts_query(challenge.sparql_path(), selection))


def test_the_flow_is_read_once_and_shared_by_the_review_the_diagram_and_the_claims(
    bundled: EvidenceMap, vocabulary: Vocabulary
) -> None:
    evidence_map, engine = recorded(bundled)
    review = reviews(evidence_map)[0]
    details = review_details(evidence_map, review.iri)
    drawn = load_flow(evidence_map)
    check_claims(evidence_map, vocabulary)
    stage_reads = [t for t in engine.texts if t == evidence_map.iris.rebase_text(flow_module.STAGES_QUERY)]
    assert len(stage_reads) == 1
    assert [s.iri for s in details.flow] == [s.iri for s in drawn.ordered()]
    assert all(a is b for a, b in zip(details.flow, drawn.ordered(), strict=True))


@pytest.mark.parametrize("role", ["rows", "columns", "alternative columns", "colour"])
def test_gap_map_defaults_come_from_the_vocabulary(vocabulary: Vocabulary, role: str) -> None:
    from evidencemap.views import gapmap

    installed = {"rows": gapmap.DEFAULT_ROWS, "columns": gapmap.DEFAULT_COLS,
                 "alternative columns": gapmap.ALTERNATIVE_COLS, "colour": gapmap.DEFAULT_BREAKDOWN}[role]
    assert tuple(installed) == gapmap.default_facets(vocabulary, role)
    assert installed, f"the vocabulary gives no facet the role {role!r}"


def test_pairs_of_selections_are_told_apart(bundled: EvidenceMap, vocabulary: Vocabulary) -> None:
    """The builder does not collapse different filters into one pattern."""
    texts = [studies_query(s) for s in _selections(vocabulary)]
    assert all(a != b for a, b in combinations(texts, 2))
