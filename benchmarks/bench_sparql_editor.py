"""What the SPARQL editor costs the server (issue 11): locating a syntax error at its offending token, and building
the vocabulary JSON the editor completes from (``/sparql/vocabulary.json``), for the bundled map and a synthetic one.

    python benchmarks/bench_sparql_editor.py [--studies 10000] [--repeat 5]

Prints figures only; docs/sparql.md and docs/benchmarks.md quote them.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import synthetic
from evidencemap.graph.store import EvidenceMap
from evidencemap.model.vocabulary import vocabulary_of
from evidencemap.settings import Settings
from evidencemap.sparql.syntax import locate
from evidencemap.web.sparql_vocabulary import sparql_vocabulary

BAD_QUERIES = [
    "SELECT ?s WHERE {\n  ?s ?p ?o .\n  ?s ?p ]\n}",
    "SELECT ?s\nWHERE { ?s ?p ?o }\nORDER BY\nLIMIT 5",
    "PREFIX ex: <http://e.org/>\nSELECT ?s\nWHERE {\n  ?s ex:p ?o .\n  ?s ex:q ?o2 FILTER(\n}\n",
    "SELECT ?s WHERE {\n  ?s ?p ?o\n  ?s ?q ?o2\n}",
    "SELECT ?s WHERE {\n  ?s ?p ?o .\n  OPTIONAL { ?s ?q }\n}",
    "SELECT ?s (COUNT(?o) ?n) WHERE {\n  ?s ?p ?o .\n}",
    "SELECT ?s WHERE {\n  { SELECT ?s WHERE { ?s ?p ?o } GROUP BY }\n}",
    "SELECT ?s WHERE {\n\t?s\t?p ?o .\n\t?s ?p ]\n}",
    "SELEC ?s WHERE { ?s ?p ?o }",
]


def locate_figures(repeat: int) -> None:
    locate("SELECT * WHERE {")  # the workers import and warm rdflib's grammar before forking
    times = []
    for query in BAD_QUERIES:
        best = min(_timed(lambda q=query: locate(q)) for _ in range(repeat))
        times.append(best)
    print(f"locate a syntax error, {len(times)} multi-line queries: median {statistics.median(times) * 1000:.1f} ms,"
          f" max {max(times) * 1000:.1f} ms")
    for size in (100, 300):
        values = " ".join(f"<http://example.org/{i}>" for i in range(size))
        query = f"SELECT ?s WHERE {{ VALUES ?s {{ {values} }}\n ?s ?p ] }}"
        seconds = min(_timed(lambda q=query: locate(q)) for _ in range(repeat))
        print(f"locate after a VALUES block of {size} IRIs: {seconds * 1000:.0f} ms")


def vocabulary_figures(studies: int) -> None:
    maps = [("bundled map", EvidenceMap.load())]
    if studies:
        written = synthetic.write_map(studies)
        maps.append((f"{studies:,} synthetic studies", EvidenceMap.load(Settings(data=[written.path]))))
    for name, evidence_map in maps:
        vocabulary = vocabulary_of(evidence_map)
        started = time.perf_counter()
        built = sparql_vocabulary(evidence_map, vocabulary)
        seconds = time.perf_counter() - started
        size = len(built.model_dump_json(by_alias=True))
        print(f"vocabulary.json, {name} ({evidence_map.triple_count():,} triples): built in {seconds * 1000:.0f} ms, "
              f"{size / 1000:.0f} kB ({len(built.classes)} classes, {len(built.properties)} properties, "
              f"{len(built.concepts)} concepts)")


def _timed(work: object) -> float:
    started = time.perf_counter()
    work()  # type: ignore[operator]
    return time.perf_counter() - started


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--studies", type=int, default=10_000, help="synthetic studies (0: the bundled map only)")
    parser.add_argument("--repeat", type=int, default=5, help="runs per query (the best is kept)")
    args = parser.parse_args(argv)
    locate_figures(args.repeat)
    vocabulary_figures(args.studies)
    return 0


if __name__ == "__main__":
    sys.exit(main())
