"""The W3C SPARQL 1.1 Protocol tests against /sparql, through scripts/sparql-conformance.sh (which starts
``evidencemap serve`` on the suite's dataset). The suite lives in ../shared beside the checkout, not in this
repository; without it the test is skipped."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SUITE = REPO.parent / "shared" / "conformance" / "sparql-protocol"

pytestmark = [
    pytest.mark.server,
    pytest.mark.skipif(not (SUITE / "run.py").is_file(), reason=f"no W3C SPARQL protocol suite at {SUITE}"),
]


def test_sparql_protocol_conformance_all_pass() -> None:
    completed = subprocess.run(
        ["bash", str(REPO / "scripts" / "sparql-conformance.sh")],
        env={**os.environ, "PYTHON": sys.executable},
        capture_output=True,
        text=True,
        timeout=300,
        stdin=subprocess.DEVNULL,
    )
    output = completed.stdout + completed.stderr
    summary = re.search(r"^(\d+) passed, (\d+) failed", output, re.MULTILINE)
    assert summary is not None, output
    failures = [line for line in output.splitlines() if line.startswith("FAIL")]
    assert (int(summary.group(2)), failures) == (0, []), output
    assert int(summary.group(1)) == 42, output
    assert completed.returncode == 0, output
