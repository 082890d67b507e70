"""Whole-map validation of synthetic maps: the shapes compiled to SPARQL on the store (what ``validate_map`` runs),
each shape's own cost, and pySHACL over rdflib (what it ran before) for comparison.

For each size a synthetic map (``synthetic.py``) is loaded as ``evidencemap serve`` loads it; then each node shape
of ``shapes/shapes.ttl`` is run alone with the compiled validator (its queries on the store), and the whole map is
validated with ``validate_map`` (SHACL plus the checks beside it). ``--pyshacl`` also times pySHACL on the same
data (slow: minutes at 10,000 studies). A shape whose time grows faster than the number of studies is what keeps a
large map's first start slow.

    python benchmarks/bench_validation.py --studies 1000 10000 [--pyshacl] [--top 12] [--no-shapes]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from pyshacl import validate

from evidencemap.graph import shacl_sparql
from evidencemap.graph.store import EvidenceMap
from evidencemap.graph.validation import MapSource, map_as_graph, shapes_graph, validate_map
from evidencemap.settings import Settings
from synthetic import write_map


def shape_times(evidence_map: EvidenceMap) -> list[tuple[float, str]]:
    """Each shape with targets alone (its constraints' queries, and its property shapes'), compiled, on the store."""
    compiled = shacl_sparql.compile_shapes(shapes_graph())
    source = MapSource(evidence_map)
    times = []
    for shape in compiled.model.roots:
        started = time.perf_counter()
        compiled.shape_results(source, shape)
        times.append((time.perf_counter() - started, str(shape.node).rsplit("#", 1)[-1]))
    return times


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--studies", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--no-shapes", action="store_true", help="do not time each shape alone")
    parser.add_argument("--pyshacl", action="store_true", help="also time pySHACL on the same data")
    parser.add_argument("--top", type=int, default=12, help="how many of the slowest shapes to print")
    parser.add_argument("--data-dir", type=Path, help="folder for the synthetic maps (default: a temp folder)")
    args = parser.parse_args(argv)
    for size in args.studies:
        synthetic = write_map(size, args.data_dir)
        started = time.perf_counter()
        evidence_map = EvidenceMap.load(Settings(data=[synthetic.path], persistent_store=False))
        print(f"## {size:,} studies ({synthetic.triples:,} triples), loaded in {time.perf_counter() - started:.1f} s",
              flush=True)
        if not args.no_shapes:
            times = sorted(shape_times(evidence_map), reverse=True)
            print(f"each shape alone (compiled), total {sum(t for t, _ in times):.2f} s; slowest:")
            for seconds, name in times[: args.top]:
                print(f"  {seconds * 1000:8.0f} ms  {name}", flush=True)
        started = time.perf_counter()
        result = validate_map(evidence_map)
        print(f"validate_map (compiled): {time.perf_counter() - started:.2f} s (conforms: {result.conforms}, "
              f"{len(result.violations)} results)", flush=True)
        if args.pyshacl:
            data = map_as_graph(evidence_map)
            started = time.perf_counter()
            conforms, _, _ = validate(data, shacl_graph=shapes_graph(), inference="none", allow_warnings=True,
                                      allow_infos=True, advanced=True, inplace=True)
            print(f"pySHACL on the same data: {time.perf_counter() - started:.1f} s (conforms: {conforms})",
                  flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
