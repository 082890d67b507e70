"""Loading map files: clear errors, nothing half-loaded, findings materialised, configurable base IRI."""

from __future__ import annotations

from pathlib import Path

import pytest

from evidencemap.errors import DataError
from evidencemap.graph.store import EvidenceMap
from evidencemap.model.facets import Selection, select_studies
from evidencemap.model.vocabulary import load_vocabulary
from evidencemap.settings import Settings


def test_missing_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="does not exist"):
        EvidenceMap.load(Settings(data=[tmp_path / "missing.ttl"]))


def test_unknown_extension_lists_formats(tmp_path: Path) -> None:
    path = tmp_path / "map.docx"
    path.write_text("x")
    with pytest.raises(DataError, match=r"\.ttl"):
        EvidenceMap.load(Settings(data=[path]))


def test_folder_without_rdf_is_refused(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="holds no RDF files"):
        EvidenceMap.load(Settings(data=[tmp_path]))


def test_syntax_error_gives_file_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "bad.ttl"
    path.write_text("@prefix ex: <http://example.org/> .\nex:a ex:b .\n")
    with pytest.raises(DataError, match=r"bad\.ttl: not valid Turtle: .*line 2 column"):
        EvidenceMap.load(Settings(data=[path]))


def test_findings_are_materialised_into_the_inferred_graph() -> None:
    evidence_map = EvidenceMap.load()
    assert evidence_map.triple_count("https://w3id.org/evidencemap/graph/dufour-2025/inferred") == 156


def test_trig_keeps_its_own_graphs(tmp_path: Path) -> None:
    path = tmp_path / "data.trig"
    path.write_text("<http://example.org/g> { <http://example.org/s> <http://example.org/p> <http://example.org/o> }")
    evidence_map = EvidenceMap.load(Settings(data=[path]))
    assert "http://example.org/g" in set(evidence_map.named_graphs())


def test_other_base_iri_rebases_data_and_queries() -> None:
    base = "http://127.0.0.1:8000/"
    evidence_map = EvidenceMap.load(Settings(base_iri=base))
    vocabulary = load_vocabulary(evidence_map)
    selection = Selection.parse(vocabulary, {"delivery": ["online"], "challenge": ["emotional-vulnerability-burnout"]})
    studies = select_studies(evidence_map, selection)
    assert studies[0] == base + "data/dufour-2025/study/bates-2023"
    assert len(studies) == 4
    assert evidence_map.canonical(studies[0]) == "https://w3id.org/evidencemap/data/dufour-2025/study/bates-2023"


def test_base_under_the_canonical_base_is_rebased_once() -> None:
    base = "https://w3id.org/evidencemap/v2/"
    evidence_map = EvidenceMap.load(Settings(base_iri=base))
    assert set(evidence_map.named_graphs()) >= {  # the map's own vocabulary graph too, when it adds concepts
        base + "graph/vocabulary",
        base + "graph/dufour-2025/data",
        base + "graph/dufour-2025/claims",
        base + "graph/dufour-2025/inferred",
    }
    assert evidence_map.triple_count("https://w3id.org/evidencemap/graph/dufour-2025/inferred") == 156
