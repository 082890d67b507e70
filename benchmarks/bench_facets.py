"""Facet filters and counts: the facet index against the SPARQL it replaces, and the study list over HTTP.

For each size of synthetic map (see synthetic.py) this prints: the load time, the time to build the facet index
(every facet), and for a few selections the median time of the matching studies plus the counts of every facet,
answered by SPARQL (facets.sparql_*) and by the index (facets.select_studies / facet_counts), after checking that
both give the same answer; then the median time of ``GET /api/studies`` (a page of studies with every facet's
counts, JSON) through the app. DESIGN.md's goal: the study list with all facet counts in tens of milliseconds at
100,000 studies.

    python benchmarks/bench_facets.py [--sizes 1000,10000,100000] [--repeat 5] [--sparql-above 10000]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path

from evidencemap.graph.store import EvidenceMap
from evidencemap.model.facet_index import index_of
from evidencemap.model.facets import (
    Selection,
    facet_counts,
    select_studies,
    sparql_facet_counts,
    sparql_select_studies,
)
from evidencemap.model.vocabulary import Vocabulary, load_vocabulary
from evidencemap.settings import Settings
from synthetic import write_map

SELECTIONS = {
    "no filter": {},
    "delivery=online": {"delivery": ["online"]},
    "delivery=online & challenge=burnout": {"delivery": ["online"], "challenge": ["emotional-vulnerability-burnout"]},
    "modality=structured & component=psychoeducation,skill-building": {
        "modality": ["structured-manualized"], "component": ["psychoeducation", "skill-building"]},
}


def median_seconds(work: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        work()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def list_and_counts(vocabulary: Vocabulary, evidence_map: EvidenceMap, selection: Selection, *, sparql: bool) -> tuple:
    studies = (sparql_select_studies if sparql else select_studies)(evidence_map, selection)
    counts = sparql_facet_counts if sparql else facet_counts
    return studies, [counts(evidence_map, facet, selection) for facet in vocabulary.facets]


def ms(seconds: float | None) -> str:
    return "skipped" if seconds is None else f"{seconds * 1000:.1f} ms"


def api_seconds(evidence_map: EvidenceMap, params: dict[str, list[str]], repeat: int) -> float:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from fastapi.testclient import TestClient

    from evidencemap.web.app import create_app

    app = create_app(evidence_map.settings, evidence_map=evidence_map)
    query = [(name, value) for name, values in params.items() for value in values]
    client = TestClient(app)  # no lifespan: the SPARQL workers are not needed here

    def get() -> None:
        response = client.get("/api/studies", params=query)
        assert response.status_code == 200, response.text

    get()
    return median_seconds(get, repeat)


def measure(size: int, repeat: int, sparql_above: int, data_dir: Path | None) -> list[str]:
    synthetic = write_map(size, data_dir)
    started = time.perf_counter()
    evidence_map = EvidenceMap.load(Settings(data=[synthetic.path]))
    load = time.perf_counter() - started
    vocabulary = load_vocabulary(evidence_map)
    started = time.perf_counter()
    index_of(evidence_map).warm(vocabulary.facets)
    build = time.perf_counter() - started
    lines = [
        f"### {size:,} studies",
        "",
        f"Load {load:.2f} s; facet index of {len(vocabulary.facets)} facets built in {build * 1000:.0f} ms.",
        "",
        "| selection | studies | SPARQL: list + every facet's counts | index: the same | GET /api/studies |",
        "|---|---:|---:|---:|---:|",
    ]
    for name, params in SELECTIONS.items():
        selection = Selection.parse(vocabulary, params)
        by_index = list_and_counts(vocabulary, evidence_map, selection, sparql=False)
        sparql_time = None
        if size <= sparql_above:
            by_sparql = list_and_counts(vocabulary, evidence_map, selection, sparql=True)
            if by_sparql != by_index:
                raise SystemExit(f"the index and the SPARQL disagree at {size} studies on {name}")
            sparql_time = median_seconds(
                lambda s=selection: list_and_counts(vocabulary, evidence_map, s, sparql=True), repeat)
        index_time = median_seconds(lambda s=selection: list_and_counts(vocabulary, evidence_map, s, sparql=False),
                                    repeat)
        api = api_seconds(evidence_map, params, repeat)
        lines.append(f"| {name} | {len(by_index[0]):,} | {ms(sparql_time)} | {ms(index_time)} | {ms(api)} |")
    print("\n".join(lines) + "\n", flush=True)
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1000,10000", help="comma-separated numbers of studies")
    parser.add_argument("--repeat", type=int, default=5, help="runs per measurement (the median is shown)")
    parser.add_argument("--sparql-above", type=int, default=10_000,
                        help="largest size at which the SPARQL is also timed (it takes seconds a run above)")
    parser.add_argument("--data-dir", type=Path, help="folder for the synthetic maps (default: a temp folder)")
    args = parser.parse_args(argv)
    print(f"Medians of {args.repeat} runs; Python {sys.version.split()[0]}.\n")
    for size in (int(s) for s in args.sizes.split(",")):
        measure(size, args.repeat, args.sparql_above, args.data_dir)
    return 0


if __name__ == "__main__":
    sys.exit(main())
