"""The question benchmark (benchmarks/bench_questions.py over tests/resources/questions.json): the file is large and
documented enough, the checker catches wrong answers, and every question of the kinds the benchmark claims to
answer is answered as the review says (on the app's map, in-process)."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from fastapi import FastAPI

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "benchmarks" / "bench_questions.py"
REFERENCES = set(range(35, 46))


def load_benchmark() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_questions", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the class is built
    spec.loader.exec_module(module)
    return module


bench = load_benchmark()
ENTRIES: list[dict[str, Any]] = bench.load_questions()


@pytest.fixture(scope="module")
def context(app: FastAPI) -> Any:
    return bench.MapContext.of(app.state.context.evidence_map, app.state.context.vocabulary)


def test_the_file_has_enough_varied_questions_each_with_the_review_words_behind_its_answer() -> None:
    assert len(ENTRIES) >= 100
    kinds = {e["kind"] for e in ENTRIES}
    assert {"negation", "years", "and-or", "count", "breakdown", "search", "review-level", "unanswerable"} <= kinds
    for entry in ENTRIES:
        assert set(entry) <= {"question", "kind", "expect", "why", "needs"}, entry
        assert entry["question"].strip() and entry["kind"].strip(), entry
        assert len(entry["why"]) >= 10, entry
        assert entry["expect"] and set(entry["expect"]) <= bench.EXPECT_KEYS, entry
        for key in ("studies", "studies_include"):
            assert set(entry["expect"].get(key, [])) <= REFERENCES, entry
    questions = [e["question"].lower() for e in ENTRIES]
    assert len(questions) == len(set(questions)), "a question is asked twice"


def test_claimed_kinds_are_kinds_of_the_file() -> None:
    assert {e["kind"] for e in ENTRIES} >= bench.CLAIMED_KINDS


def test_every_question_of_a_claimed_kind_is_answered_as_the_review_says(context: Any) -> None:
    results = bench.run([e for e in ENTRIES if e["kind"] in bench.CLAIMED_KINDS], context)
    assert results
    assert not bench.claimed_failures(results), bench.format_failures(results)


def reading(**changes: Any) -> Any:
    right = {"understanding": "understood", "studies": frozenset({40, 42, 44, 45}), "headline_count": 4,
             "values": None, "groups": None, "unknown": (), "review_count": None, "review_values": None}
    return bench.Reading(**{**right, **changes})


def test_the_checker_catches_wrong_studies_counts_levels_and_unnamed_words() -> None:
    expect = {"studies": [40, 42, 44, 45], "count": 4}
    assert bench.problems(expect, reading()) == []
    assert bench.problems(expect, reading(studies=frozenset({40, 42})))
    assert bench.problems(expect, reading(headline_count=6))
    assert bench.problems(expect, reading(understanding="partly"))
    unanswerable = {"understanding": ["partly", "not"], "unknown": ["self-harm"]}
    honest = reading(understanding="partly", headline_count=None, unknown=("self", "harm"))
    assert not bench.problems(unanswerable, honest)
    assert bench.problems(unanswerable, reading(understanding="partly", headline_count=None, unknown=("self",)))
    assert bench.problems(unanswerable, reading(understanding="partly", unknown=("self", "harm")))  # a headline
    assert bench.problems({"review_count": 2}, reading(review_count=None))
    assert not bench.problems({"review_count": 2}, reading(review_count=2))


def test_accuracy_table_counts_each_kind() -> None:
    results = [bench.Result("a", "typos", True, []), bench.Result("b", "typos", False, ["x"]),
               bench.Result("c", "years", True, [])]
    assert bench.accuracy_by_kind(results) == {"typos": (1, 2), "years": (1, 1)}
    assert "| typos | 1 | 2 | 50 |" in bench.format_table(bench.accuracy_by_kind(results))
    assert [r.question for r in bench.claimed_failures(results, {"typos"})] == ["b"]


def test_the_script_prints_the_table_and_fails_under_a_claimed_kind(tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, str(SCRIPT), "--kinds", ",".join(sorted(bench.CLAIMED_KINDS)),
                           "--fail-under-claimed"], capture_output=True, text=True, cwd=ROOT, timeout=120, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.startswith("| kind | passed | total | % | claimed |")
    wrong = tmp_path / "wrong.json"
    entry = next(e for e in ENTRIES if e["kind"] == "typos" and "studies" in e["expect"])
    wrong.write_text(json.dumps([{**entry, "expect": {"studies": [35]}}]), encoding="utf-8")
    done = subprocess.run([sys.executable, str(SCRIPT), "--questions", str(wrong), "--fail-under-claimed", "--json"],
                          capture_output=True, text=True, cwd=ROOT, timeout=120, check=False)
    assert done.returncode == 1
    printed = json.loads(done.stdout)
    assert printed["accuracy"] == {"typos": {"passed": 0, "total": 1}}
