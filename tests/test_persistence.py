"""The on-disk store cache (graph/persistence.py): a second start opens the store without parsing, validating or
indexing; a changed file rebuilds; a half-built entry is never opened; old entries are bounded."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from evidencemap.graph import persistence, store
from evidencemap.graph import validation as validation_module
from evidencemap.graph.persistence import StoreCache
from evidencemap.graph.store import EvidenceMap
from evidencemap.graph.validation import validation_report
from evidencemap.model.facet_index import FacetIndex, index_of
from evidencemap.model.vocabulary import vocabulary_of
from evidencemap.resources import bundled_map_dir
from evidencemap.settings import Settings


@pytest.fixture
def map_copy(tmp_path: Path) -> Path:
    folder = tmp_path / "map"
    shutil.copytree(bundled_map_dir(), folder)
    return folder


def settings_for(data: Path, cache: Path, keep: int = 3) -> Settings:
    return Settings(data=[data], store_cache=str(cache), store_cache_keep=keep)


def forbid(monkeypatch: pytest.MonkeyPatch, module: object, name: str) -> None:
    def refuse(*args: object, **kwargs: object) -> object:
        raise AssertionError(f"{name} was called")

    monkeypatch.setattr(module, name, refuse)


def test_second_start_opens_the_cache_without_parsing_validating_or_indexing(
    map_copy: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = settings_for(map_copy, tmp_path / "cache")
    first = EvidenceMap.load(settings, persistent=True)
    assert first.store_path is not None and first.store_path.is_dir()
    report = validation_report(first)
    index = index_of(first).warm(vocabulary_of(first).facets)
    quads = first.triple_count()
    del first

    forbid(monkeypatch, store, "build_store")
    forbid(monkeypatch, validation_module, "validate_map")
    forbid(monkeypatch, FacetIndex, "build")
    forbid(monkeypatch, FacetIndex, "_read")
    second = EvidenceMap.load(settings, persistent=True)
    assert second.triple_count() == quads
    again = validation_report(second)
    assert (again.conforms, again.report_text) == (report.conforms, report.report_text)
    restored = index_of(second).warm(vocabulary_of(second).facets)
    assert restored.studies == index.studies
    facet = vocabulary_of(second).facets[0]
    assert restored.value_masks(facet).keys() == index.value_masks(facet).keys()


def test_a_changed_file_gives_a_new_key_and_a_rebuild(map_copy: Path, tmp_path: Path) -> None:
    settings = settings_for(map_copy, tmp_path / "cache")
    first = EvidenceMap.load(settings, persistent=True)
    studies = next(p for p in map_copy.iterdir() if p.name == "studies.ttl")
    with studies.open("a", encoding="utf-8") as file:
        file.write('\n<https://example.org/extra> <https://example.org/p> "a triple added after the first start" .\n')
    second = EvidenceMap.load(settings, persistent=True)
    assert first.cache is not None and second.cache is not None
    assert second.cache.key != first.cache.key
    assert second.triple_count() == first.triple_count() + 1


def test_the_key_depends_on_the_base_iri_and_the_content(map_copy: Path, tmp_path: Path) -> None:
    cache = StoreCache(tmp_path / "cache")
    files = sorted(map_copy.glob("*.ttl"))
    key = cache.key(files, [], "https://w3id.org/evidencemap/")
    assert cache.key(files, [], "https://w3id.org/evidencemap/") == key
    assert cache.key(files, [], "https://example.org/") != key
    assert cache.key(files[1:], [], "https://w3id.org/evidencemap/") != key


def test_an_interrupted_build_is_never_opened(map_copy: Path, tmp_path: Path) -> None:
    cache_dir = tmp_path / "cache"
    settings = settings_for(map_copy, cache_dir)
    cache = StoreCache(cache_dir)
    key = cache.key(sorted(p for p in map_copy.rglob("*") if p.is_file()), [], "x")  # creates the folder
    # A build killed midway: its staging folder (of a process that no longer exists) with a partial store.
    dead = cache_dir / f"{persistence.BUILDING}{key}-999999999"
    (dead / persistence.STORE).mkdir(parents=True)
    (dead / persistence.STORE / "CURRENT").write_text("partial")

    def failing_build() -> object:
        raise KeyboardInterrupt  # the process stopped while loading

    with pytest.raises(KeyboardInterrupt):
        cache.open(key, failing_build)  # type: ignore[arg-type]
    assert not dead.exists()  # the abandoned build was removed
    assert not (cache_dir / key).exists()  # and the failed one left nothing to open
    assert not list(cache_dir.glob(f"{persistence.BUILDING}*"))
    loaded = EvidenceMap.load(settings, persistent=True)
    assert loaded.triple_count() > 0


def test_old_entries_are_removed_beyond_the_bound(map_copy: Path, tmp_path: Path) -> None:
    cache_dir = tmp_path / "cache"
    first = EvidenceMap.load(settings_for(map_copy, cache_dir, keep=1), persistent=True)
    other = tmp_path / "other"
    shutil.copytree(map_copy, other)
    (other / "claims.ttl").write_text((other / "claims.ttl").read_text() + "\n# changed\n")
    second = EvidenceMap.load(settings_for(other, cache_dir, keep=1), persistent=True)
    assert first.cache is not None and second.cache is not None
    assert not first.cache.folder.exists()
    assert StoreCache(cache_dir).entries() == [second.cache.folder]


def test_a_map_in_memory_keeps_nothing(tmp_path: Path) -> None:
    in_memory = EvidenceMap.load(Settings(store_cache=str(tmp_path / "cache")))
    assert in_memory.store_path is None
    in_memory.save("anything", 1)
    assert in_memory.saved("anything") is None
    assert not (tmp_path / "cache").exists()


def test_serve_answers_sparql_from_the_on_disk_store(map_copy: Path, tmp_path: Path) -> None:
    """``evidencemap serve`` (app_to_serve) opens the cached store, and the /sparql workers read it read-only."""
    import io

    from fastapi.testclient import TestClient

    from evidencemap.cli import app_to_serve

    settings = settings_for(map_copy, tmp_path / "cache")
    app = app_to_serve(settings, io.StringIO())
    assert app is not None
    with TestClient(app) as client:
        response = client.get("/sparql", params={"query": "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"},
                              headers={"Accept": "application/sparql-results+json"})
        assert response.status_code == 200, response.text
        assert int(response.json()["results"]["bindings"][0]["n"]["value"]) > 1000
        assert client.get("/api/studies").status_code == 200
        assert app.state.sparql_pool.zygote.info["store"] == "disk"
        assert app.state.sparql_pool.store_path == app.state.context.evidence_map.store_path


def test_a_written_store_is_built_again_from_the_files(map_copy: Path, tmp_path: Path) -> None:
    """A write to the opened store (a living map's change) marks its entry: the next start does not serve what the
    files do not say, nor the results derived before the write."""
    import pyoxigraph as ox

    settings = settings_for(map_copy, tmp_path / "cache")
    first = EvidenceMap.load(settings, persistent=True)
    validation_report(first)
    quads = first.triple_count()
    first.store.add(ox.Quad(ox.NamedNode("https://example.org/written"), ox.NamedNode("https://example.org/p"),
                            ox.Literal("a change"), ox.NamedNode("https://example.org/g")))
    first.changed()
    assert first.cache is not None and first.saved("validation") is None
    assert not (first.cache.folder / persistence.DERIVED).exists()
    del first
    second = EvidenceMap.load(settings, persistent=True)
    assert second.triple_count() == quads
    assert second.cache is not None and StoreCache(tmp_path / "cache").entries() == [second.cache.folder]


def test_the_on_disk_store_holds_exactly_the_quads_built_in_memory(map_copy: Path, tmp_path: Path) -> None:
    """The store written by the build holds the quads built in memory, blank nodes included (compared after
    canonicalising them)."""
    import pyoxigraph as ox

    from evidencemap.graph.loading import build_store

    loaded = EvidenceMap.load(settings_for(map_copy, tmp_path / "cache"), persistent=True)
    assert loaded.cache is not None

    def canonical(quads: object) -> set[ox.Quad]:
        dataset = ox.Dataset(quads)  # type: ignore[arg-type]
        dataset.canonicalize(ox.CanonicalizationAlgorithm.UNSTABLE)
        return set(dataset)

    memory = build_store([map_copy])
    on_disk = list(loaded.store.quads_for_pattern(None, None, None, None))
    assert len(on_disk) == len(memory)
    assert any(isinstance(q.subject, ox.BlankNode) for q in on_disk)  # the case the comparison is about
    assert canonical(on_disk) == canonical(memory)
