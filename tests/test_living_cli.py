"""The living map from the command line: evidencemap token create|list|revoke, edit (a refused change exits 1 with
its problems), export --version N (files that load back and validate), and edit refused while a server holds the
map open for writing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from evidencemap.cli import main
from evidencemap.graph.store import EvidenceMap
from evidencemap.graph.validation import validate_map
from evidencemap.graph.writes import LivingMap
from evidencemap.settings import Settings

PASSAGE = "https://w3id.org/evidencemap/data/review/dufour-2025/passage/reference-52"


def study_file(folder: Path, slug: str, ref: int, facts: list[tuple[str, str]]) -> Path:
    body = {"id": slug, "ref": ref, "citation": "Cli 2026", "title": "A report", "year": 2026, "authors": "Cli C",
            "intervention": {"label": "A group"},
            "facts": [{"facet": f, "value": v, "support": "inferred", "rationale": "Test data.", "passage": PASSAGE}
                      for f, v in facts]}
    path = folder / f"{slug}.json"
    path.write_text(json.dumps(body))
    return path


def test_tokens_edits_and_versions(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    state = str(tmp_path / "state")
    assert main(["token", "create", "--state", state, "--map", "dufour-2025", "--holder", "A. Reviewer"]) == 0
    created = capsys.readouterr().out
    token = created.strip().splitlines()[-1]
    token_id = token.split("_")[1]
    assert main(["token", "list", "--state", state]) == 0
    listed = capsys.readouterr().out
    assert "A. Reviewer" in listed and token_id in listed and token.split("_")[2] not in listed
    assert main(["token", "revoke", token_id, "--state", state]) == 0
    assert "revoked" in capsys.readouterr().out

    good = study_file(tmp_path, "cli-2026", 960, [("design", "qualitative-study"), ("delivery", "online")])
    assert main(["edit", "add", "--file", str(good), "--state", state, "--holder", "A. Reviewer",
                 "-m", "Found in the May search"]) == 0
    assert "Change 1 (add)" in capsys.readouterr().out
    bad = study_file(tmp_path, "cli-bad-2026", 961, [("delivery", "online")])
    assert main(["edit", "add", "--file", str(bad), "--state", state, "--holder", "A. Reviewer", "-m", "x"]) == 1
    assert "studyDesign" in capsys.readouterr().err
    assert main(["edit", "retract", "cli-2026", "--state", state, "--holder", "A. Reviewer", "-m", "Duplicate"]) == 0
    capsys.readouterr()

    out = tmp_path / "version-1"
    assert main(["export", "--version", "1", "--state", state, str(out)]) == 0
    exported = EvidenceMap.load(Settings(data=[out], persistent_store=False))
    assert exported.ask('ASK { ?s <https://w3id.org/evidencemap/ontology#slug> "cli-2026" }')
    assert validate_map(exported).conforms
    assert main(["export", "--version", "3", "--state", state, str(tmp_path / "nope")]) == 2


def test_edit_is_refused_while_the_map_is_open_for_writing(tmp_path: Path,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    held = LivingMap(EvidenceMap.load(Settings(persistent_store=False)), tmp_path)
    try:
        assert main(["edit", "retract", "blay-2025", "--state", str(tmp_path), "--holder", "A", "-m", "x"]) == 2
        assert "open for writing in another process" in capsys.readouterr().err
    finally:
        held.close()
