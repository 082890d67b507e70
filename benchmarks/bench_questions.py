"""The question benchmark: every question of tests/resources/questions.json asked of the bundled map, its answer
compared with the answer worked out from the review, and the accuracy printed by kind of question.

Each entry is ``{"question", "kind", "expect", "why"}`` (and ``"needs"`` when it expects facts still being added to
the map). ``expect`` may hold:

* ``studies``: the exact set of reference numbers listed; ``studies_include``: reference numbers that must be listed;
* ``count``: the headline count; ``values``: ``{label: studies}`` of a values question or a breakdown, exactly;
  ``groups``: ``{label: [reference numbers]}`` of a breakdown that lists the studies of each value;
* ``review_count`` / ``review_values``: what the review states without naming studies (section 3.2's countries,
  3.3.1's programme lengths), which the answer must state instead of an empty list;
* ``understanding``: ``"understood"``, ``"partly"`` or ``"not"`` (or a list of the acceptable ones); when it is
  absent and the entry expects studies, a count or values, the question must be fully understood. An answer that is
  only partly understood, or not at all, must not show a headline count;
* ``unknown``: words the answer must name as not understood.

Reading an answer goes through :func:`read_answer` only, so that when the answer gains fields (an understanding level,
review-level counts, breakdowns) only that function changes.

    python benchmarks/bench_questions.py [--kinds typos,years] [--json] [--fail-under-claimed]
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from evidencemap.errors import EvidenceMapError
from evidencemap.graph.store import EvidenceMap
from evidencemap.model.vocabulary import Vocabulary, load_vocabulary
from evidencemap.settings import Settings
from evidencemap.views.questions import Answer, ask

QUESTIONS = Path(__file__).resolve().parents[1] / "tests" / "resources" / "questions.json"
LEVELS = ("understood", "partly", "not")
EXPECT_KEYS = frozenset({"studies", "studies_include", "count", "values", "groups", "review_count", "review_values",
                         "understanding", "unknown"})
# The kinds that pass 100 % on the bundled map (tests/test_question_benchmark.py holds them there). A kind joins
# this set when the question parser learns it (docs/questions.md says what each kind understands).
CLAIMED_KINDS = frozenset({
    "studies", "synonyms", "typos", "plurals", "phrasings", "negation", "years", "and-or", "count", "values",
    "breakdown", "search", "review-level", "unanswerable",
})


@dataclass(frozen=True)
class Reading:
    """What an answer says, in the benchmark's terms."""

    understanding: str  # "understood" | "partly" | "not"
    studies: frozenset[int]
    headline_count: int | None  # the big number an answer shows, if it shows one
    values: dict[str, int] | None
    groups: dict[str, frozenset[int]] | None
    unknown: tuple[str, ...]
    review_count: int | None
    review_values: dict[str, int] | None
    message: str = ""


@dataclass(frozen=True)
class MapContext:
    """The map the questions are asked of, with what reading an answer needs."""

    evidence_map: EvidenceMap
    vocabulary: Vocabulary
    reference_numbers: dict[str, int]  # study IRI -> the review's reference number
    labels: dict[str, str]  # concept IRI -> preferred label

    @classmethod
    def of(cls, evidence_map: EvidenceMap, vocabulary: Vocabulary) -> MapContext:
        rows = evidence_map.select(
            "PREFIX evm: <https://w3id.org/evidencemap/ontology#>\n"
            "SELECT ?study ?ref WHERE { ?study a evm:IncludedStudy ; evm:referenceNumber ?ref }"
        )
        labels = {c.iri: c.pref_label for f in vocabulary.facets for c in f.concepts}
        return cls(evidence_map, vocabulary, {str(r["study"]): int(r["ref"]) for r in rows}, labels)


def read_answer(answer: Answer, context: MapContext) -> Reading:
    """The one place that reads an answer's fields: its understanding level, the studies it lists, the headline
    number it states (none when not fully understood), the values and groups of a values question or a breakdown,
    the words it names as not understood, and the counts the review states without naming studies."""
    def label(key: str) -> str:
        return context.labels.get(key, key)

    values = None
    if answer.values_facet is not None:
        values = {label(key): n for key, n in answer.values}
    groups = None
    if answer.groups:
        groups = {label(key): frozenset(context.reference_numbers[iri] for iri in iris) for key, iris in answer.groups}
    return Reading(
        understanding=answer.understanding,
        studies=frozenset(context.reference_numbers[iri] for iri in answer.study_iris),
        headline_count=answer.headline_count,
        values=values,
        groups=groups,
        unknown=tuple(answer.unknown),
        review_count=answer.review_count,
        review_values={label(key): n for key, n in answer.review_values} or None,
        message=answer.message,
    )


def words_of(text: str) -> list[str]:
    """Lower-case words without accents: how expected and reported unknown words are compared."""
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii").lower()
    return re.findall(r"[a-z0-9]+", plain)


def problems(expect: dict[str, Any], reading: Reading) -> list[str]:
    """How ``reading`` differs from ``expect`` (empty when the answer is right)."""
    found: list[str] = []
    allowed = expect.get("understanding")
    if allowed is None:
        allowed = ["understood"] if {"studies", "count", "values", "groups"} & expect.keys() else list(LEVELS)
    allowed = [allowed] if isinstance(allowed, str) else list(allowed)
    if reading.understanding not in allowed:
        found.append(f"understanding {reading.understanding!r}, expected {' or '.join(map(repr, allowed))}")
    if "understood" not in allowed and reading.headline_count is not None:
        found.append(f"a headline count ({reading.headline_count}) for a question not fully understood")
    if "studies" in expect and reading.studies != frozenset(expect["studies"]):
        found.append(f"studies {sorted(reading.studies)}, expected {sorted(expect['studies'])}")
    if "studies_include" in expect and not set(expect["studies_include"]) <= reading.studies:
        found.append(f"studies {sorted(reading.studies)}, expected to include {sorted(expect['studies_include'])}")
    if "count" in expect and reading.headline_count != expect["count"]:
        found.append(f"headline count {reading.headline_count}, expected {expect['count']}")
    for key in ("values", "review_values", "review_count"):
        if key in expect and getattr(reading, key) != expect[key]:
            found.append(f"{key} {getattr(reading, key)}, expected {expect[key]}")
    if "groups" in expect:
        wanted = {label: frozenset(refs) for label, refs in expect["groups"].items()}
        if reading.groups != wanted:
            shown = None if reading.groups is None else {k: sorted(v) for k, v in reading.groups.items()}
            found.append(f"groups {shown}, expected {expect['groups']}")
    if "unknown" in expect:
        reported = {w for word in reading.unknown for w in words_of(word)}
        missing = [word for word in expect["unknown"] if not set(words_of(word)) <= reported]
        if missing:
            found.append(f"not named as not understood: {missing} (named: {list(reading.unknown)})")
    return found


@dataclass
class Result:
    question: str
    kind: str
    passed: bool
    problems: list[str]
    needs: str | None = None
    reading: dict[str, Any] = field(default_factory=dict)


def load_questions(path: Path = QUESTIONS) -> list[dict[str, Any]]:
    entries: list[dict[str, Any]] = json.loads(path.read_text(encoding="utf-8"))
    return entries


def run(entries: Iterable[dict[str, Any]], context: MapContext) -> list[Result]:
    """Ask every question and compare its answer with the expected one."""
    results = []
    for entry in entries:
        try:
            reading = read_answer(ask(entry["question"], context.evidence_map, context.vocabulary), context)
        except EvidenceMapError as error:
            results.append(Result(entry["question"], entry["kind"], False, [f"raised {error!r}"], entry.get("needs")))
            continue
        found = problems(entry["expect"], reading)
        shown = {k: sorted(v) if isinstance(v, frozenset) else v for k, v in asdict(reading).items()}
        results.append(Result(entry["question"], entry["kind"], not found, found, entry.get("needs"), shown))
    return results


def accuracy_by_kind(results: Sequence[Result]) -> dict[str, tuple[int, int]]:
    """kind -> (passed, total), in the order kinds first appear."""
    table: dict[str, tuple[int, int]] = {}
    for r in results:
        passed, total = table.get(r.kind, (0, 0))
        table[r.kind] = (passed + r.passed, total + 1)
    return table


def claimed_failures(results: Sequence[Result], claimed: Iterable[str] = CLAIMED_KINDS) -> list[Result]:
    kinds = set(claimed)
    return [r for r in results if r.kind in kinds and not r.passed]


def format_table(table: dict[str, tuple[int, int]], claimed: Iterable[str] = CLAIMED_KINDS) -> str:
    kinds = set(claimed)
    lines = ["| kind | passed | total | % | claimed |", "|---|---:|---:|---:|:---:|"]
    for kind, (passed, total) in table.items():
        lines.append(f"| {kind} | {passed} | {total} | {100 * passed / total:.0f} | {'yes' if kind in kinds else ''} |")
    passed = sum(p for p, _ in table.values())
    total = sum(t for _, t in table.values())
    lines.append(f"| all | {passed} | {total} | {100 * passed / total if total else 0:.0f} | |")
    return "\n".join(lines)


def format_failures(results: Sequence[Result]) -> str:
    lines = []
    for r in results:
        if r.passed:
            continue
        needs = f" [needs {r.needs}]" if r.needs else ""
        lines.append(f"- {r.kind}: {r.question!r}{needs}")
        lines.extend(f"    {p}" for p in r.problems)
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--questions", type=Path, default=QUESTIONS, help="the questions file (JSON)")
    parser.add_argument("--kinds", help="only these kinds, comma-separated (e.g. typos,years)")
    parser.add_argument("--json", action="store_true", help="print every result as JSON instead of the tables")
    parser.add_argument("--fail-under-claimed", action="store_true",
                        help="exit 1 when a claimed kind (" + ", ".join(sorted(CLAIMED_KINDS)) + ") is below 100 %%")
    args = parser.parse_args(argv)
    entries = load_questions(args.questions)
    if args.kinds:
        wanted = {k.strip() for k in args.kinds.split(",") if k.strip()}
        unknown = wanted - {e["kind"] for e in entries}
        if unknown:
            parser.error(f"no questions of kind {', '.join(sorted(unknown))}")
        entries = [e for e in entries if e["kind"] in wanted]
    evidence_map = EvidenceMap.load(Settings())
    results = run(entries, MapContext.of(evidence_map, load_vocabulary(evidence_map)))
    table = accuracy_by_kind(results)
    if args.json:
        print(json.dumps({"accuracy": {k: {"passed": p, "total": t} for k, (p, t) in table.items()},
                          "claimed": sorted(CLAIMED_KINDS), "results": [asdict(r) for r in results]},
                         indent=2, ensure_ascii=False))
    else:
        print(format_table(table))
        failures = format_failures(results)
        if failures:
            print("\nFailures:\n" + failures)
    failing = claimed_failures(results)
    if args.fail_under_claimed and failing:
        print(f"\n{len(failing)} question(s) of claimed kinds fail.", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
