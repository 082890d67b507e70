"""Whole-map validation (pySHACL over rdflib, the project's shapes) of synthetic maps, and each shape's own cost.

For each size a synthetic map (``synthetic.py``) is loaded as ``evidencemap serve`` loads it; then each node shape
of ``shapes/shapes.ttl`` is run alone (the shape with what it refers to) over the same rdflib graph, and the whole
map is validated with ``validate_map`` (SHACL plus the checks beside it). A shape whose time grows faster than the
number of studies is what keeps a large map's first start slow.

    python benchmarks/bench_validation.py --studies 500 1000 2000 [--shapes-only] [--whole-only] [--top 12]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from pyshacl import validate
from rdflib import BNode, Graph, URIRef
from rdflib.namespace import RDF

from evidencemap import namespaces as ns
from evidencemap.graph.store import EvidenceMap
from evidencemap.graph.validation import SH, SHAPES_IRI, map_as_graph, shapes_graph, validate_map
from evidencemap.settings import Settings
from synthetic import write_map


def closure(shapes: Graph, start: URIRef) -> Graph:
    """The shape's triples and those of every blank node, list and shape it refers to."""
    out = Graph()
    todo: list[object] = [start]
    seen: set[object] = set()
    while todo:
        node = todo.pop()
        if node in seen:
            continue
        seen.add(node)
        for s, p, o in shapes.triples((node, None, None)):  # type: ignore[arg-type]
            out.add((s, p, o))
            if isinstance(o, BNode) or (isinstance(o, URIRef) and o.startswith(ns.SHAPES) and o != SHAPES_IRI):
                todo.append(o)
    for triple in shapes.triples((SHAPES_IRI, None, None)):
        out.add(triple)
    for declared in shapes.objects(SHAPES_IRI, SH.declare):
        for triple in shapes.triples((declared, None, None)):
            out.add(triple)
    return out


def shape_times(data: Graph) -> list[tuple[float, str]]:
    shapes = shapes_graph()
    named = sorted({s for s in shapes.subjects(RDF.type, SH.NodeShape) if isinstance(s, URIRef)})
    times = []
    for shape in named:
        subset = closure(shapes, shape)
        started = time.perf_counter()
        validate(data, shacl_graph=subset, inference="none", allow_warnings=True, allow_infos=True, advanced=True)
        times.append((time.perf_counter() - started, shape.rsplit("#", 1)[-1]))
    return times


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--studies", type=int, nargs="+", default=[500, 1000, 2000])
    parser.add_argument("--shapes-only", action="store_true", help="time each shape alone, not the whole map")
    parser.add_argument("--whole-only", action="store_true", help="time the whole map's validation only")
    parser.add_argument("--top", type=int, default=12, help="how many of the slowest shapes to print")
    parser.add_argument("--data-dir", type=Path, help="folder for the synthetic maps (default: a temp folder)")
    args = parser.parse_args(argv)
    for size in args.studies:
        synthetic = write_map(size, args.data_dir)
        evidence_map = EvidenceMap.load(Settings(data=[synthetic.path]))
        print(f"## {size:,} studies ({synthetic.triples:,} triples)", flush=True)
        if not args.whole_only:
            data = map_as_graph(evidence_map)
            times = sorted(shape_times(data), reverse=True)
            print(f"each shape alone, total {sum(t for t, _ in times):.1f} s; slowest:")
            for seconds, name in times[: args.top]:
                print(f"  {seconds:8.2f} s  {name}", flush=True)
        if not args.shapes_only:
            started = time.perf_counter()
            result = validate_map(evidence_map)
            print(f"validate_map: {time.perf_counter() - started:.1f} s (conforms: {result.conforms}, "
                  f"{len(result.violations)} results)", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
