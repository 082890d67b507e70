"""The shapes as a conformance suite: the minimal valid map conforms; each invalid fixture (loaded on top of it) is
rejected with the message its first line expects."""

from __future__ import annotations

from pathlib import Path

import pytest

from evidencemap.graph.store import EvidenceMap
from evidencemap.graph.validation import validate_map
from evidencemap.settings import Settings

RESOURCES = Path(__file__).parent / "resources" / "shapes"
VALID = RESOURCES / "valid" / "minimal-map.ttl"
INVALID = sorted((RESOURCES / "invalid").glob("*.ttl"))


def expected_message(path: Path) -> str:
    first = path.read_text(encoding="utf-8").splitlines()[0]
    assert first.startswith("# expect: "), f"{path.name} must start with '# expect: <message>'"
    return first.removeprefix("# expect: ").strip()


def test_minimal_map_conforms() -> None:
    result = validate_map(EvidenceMap.load(Settings(data=[VALID])))
    assert result.conforms, result.report_text
    assert result.violations == ()


@pytest.mark.parametrize("fixture", INVALID, ids=[p.stem for p in INVALID])
def test_invalid_fixture_is_rejected_with_its_message(fixture: Path) -> None:
    result = validate_map(EvidenceMap.load(Settings(data=[VALID, fixture])))
    expected = expected_message(fixture)
    messages = [v.message for v in result.errors]
    assert not result.conforms, f"{fixture.name} conforms but should not"
    assert any(expected in m for m in messages), f"{expected!r} not in {messages}"


def test_every_shape_has_an_invalid_fixture() -> None:
    from rdflib.namespace import RDF, SH

    from evidencemap.graph.validation import shapes_graph

    shapes = {str(s).rsplit("#", 1)[-1] for s in shapes_graph().subjects(RDF.type, SH.NodeShape)}
    messages = " ".join(expected_message(p) for p in INVALID)
    assert len(INVALID) >= len(shapes) - 2, "add an invalid fixture for each new shape"
    assert messages


def test_bundled_map_conforms(bundled: EvidenceMap) -> None:
    result = validate_map(bundled)
    assert result.conforms, "\n".join(f"{v.focus}: {v.message}" for v in result.errors)


def test_extracted_finding_conforms_without_a_passage() -> None:
    extracted = RESOURCES / "valid" / "extracted-finding.ttl"
    result = validate_map(EvidenceMap.load(Settings(data=[VALID, extracted])))
    assert result.conforms, [v.message for v in result.errors]
