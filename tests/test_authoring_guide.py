"""docs/authoring.md, followed step by step: every ``evidencemap`` line of its ``sh`` blocks is run in order (with the
exit code its comment announces, 0 otherwise) in a fresh folder, the last one serving the map; then the served map
shows a fact extracted by the review team, and the graph names its row."""

from __future__ import annotations

import re
import shlex
import sys
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from evidencemap.cli import app_to_serve, build_parser, main
from evidencemap.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
GUIDE = ROOT / "docs" / "authoring.md"
EXTRACTED = "extracted"


def guide_commands() -> list[tuple[list[str], int]]:
    """(argv after ``evidencemap``, the exit code it announces) for each command line of the guide's sh blocks."""
    commands = []
    for block in re.findall(r"```sh\n(.*?)```", GUIDE.read_text(encoding="utf-8"), flags=re.S):
        for line in block.splitlines():
            command, _, comment = line.partition("  # ")
            if not command.startswith("evidencemap "):
                continue
            announced = re.search(r"exits (\d)", comment)
            argv = [arg.replace("tests/resources/", str(ROOT / "tests" / "resources") + "/")
                    for arg in shlex.split(command)[1:]]
            commands.append((argv, int(announced.group(1)) if announced else 0))
    return commands


def test_the_guide_has_each_step() -> None:
    names = [argv[0] for argv, _ in guide_commands()]
    assert names == ["new", "validate", "import-csv", "import-csv", "validate", "serve"]


def test_following_the_guide_gives_a_served_map_with_extracted_facts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    *steps, (serve, _) = guide_commands()
    for argv, expected in steps:
        assert main(argv) == expected, (argv, capsys.readouterr())
    out = capsys.readouterr().out
    # a new map starts from the core vocabulary: its topic's values become concepts of its own (Canada is a core one)
    assert "'psychoeducation'" in out and "new concept 'psychoeducation'" in out and "'Canada'" not in out
    args = build_parser().parse_args(serve)
    settings = Settings(data=[Path(p) for p in args.data])
    app = app_to_serve(settings, sys.stderr)
    assert app is not None
    with TestClient(app) as client:
        body = client.get("/api/studies/fixture-01").json()
        facts = [f for f in body["facts"] if f["support"] == EXTRACTED]
        assert {f["value"]["slug"] for f in facts} >= {"qualitative-study", "australia", "online"}
        cells = {(f["extracted_from"]["row"], f["extracted_from"]["column"]) for f in facts}
        assert cells >= {(2, "Study design"), (2, "Country")}
        page = client.get("/studies/fixture-01").text
        assert "Extracted by the review team" in page and "row 2" in page
        assert client.get("/api/studies", params={"country": "canada"}).json()["total"] == 1
