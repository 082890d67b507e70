"""The incremental check of a change (graph/change_checks.py check_subgraph) against the whole map's validation: every
study of the bundled map, checked alone on its own description, conforms as the whole map does; the same study with
a broken fact, a value outside its scheme or a missing record does not, with the shapes' own messages."""

from __future__ import annotations

from collections.abc import Iterator

import pyoxigraph as ox
import pytest

from evidencemap import namespaces as ns
from evidencemap.graph.change_checks import check_subgraph
from evidencemap.graph.store import EvidenceMap
from evidencemap.graph.writes import LivingMap
from evidencemap.model import edits
from evidencemap.settings import Settings

STUDIES = ns.sparql_prefixes(("evm",)) + "SELECT ?s WHERE { ?s a evm:IncludedStudy } ORDER BY ?s"


@pytest.fixture(scope="module")
def living(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LivingMap]:
    opened = LivingMap(EvidenceMap.load(Settings(persistent_store=False)), tmp_path_factory.mktemp("state"))
    yield opened
    opened.close()


def focus(quads: list[ox.Quad]) -> tuple[str, ...]:
    return tuple(sorted({q.subject.value for q in quads if isinstance(q.subject, ox.NamedNode)}))


def test_every_study_of_the_bundled_map_passes_the_incremental_check(living: LivingMap) -> None:
    studies = [living.map.canonical(str(r["s"])) for r in living.map.select(STUDIES)]
    assert len(studies) == 11
    for study in studies:
        description = edits.description(living, study)
        assert check_subgraph(living, focus(description), description, description) == [], study


def changed(quads: list[ox.Quad], predicate: str, old: str | None, new: ox.NamedNode | None) -> list[ox.Quad]:
    out = []
    for q in quads:
        if q.predicate.value == predicate and (old is None or q.object.value == old):
            if new is not None:
                out.append(ox.Quad(q.subject, q.predicate, new, q.graph_name))
        else:
            out.append(q)
    return out


@pytest.mark.parametrize(("predicate", "old", "new", "message"), [
    (ns.RDF + "object", ns.CONCEPT + "delivery/online", ns.CONCEPT + "challenge/misinformation",
     "not a concept of that property's scheme"),
    (ns.RDF + "object", ns.CONCEPT + "delivery/online", ns.CONCEPT + "delivery/on-the-moon", "skos:Concept"),
    (ns.EVM + "referenceNumber", None, None, "referenceNumber"),
    (ns.EVM + "support", None, None, "evm:support"),
])
def test_a_broken_study_fails_the_incremental_check(living: LivingMap, predicate: str, old: str | None,
                                                    new: str | None, message: str) -> None:
    study = living.map.canonical(living.map.select(STUDIES)[9]["s"])  # leon-2022: online
    assert study.endswith("leon-2022")
    description = edits.description(living, study)
    broken = changed(description, predicate, old, ox.NamedNode(new) if new else None)
    assert broken != description
    problems = check_subgraph(living, focus(broken), broken, description)
    assert any(message in p.message for p in problems), problems
