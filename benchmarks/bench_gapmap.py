"""The gap map over HTTP on synthetic maps: response size and time of /api/gapmap, its downloads and its page.

For each size of synthetic map (see synthetic.py) this loads the map, builds the facet index (as a server does at
start), then requests through the app (no network, no SPARQL workers) the gap map as JSON (default axes, a
filtered one and one selected cell), as SVG and PNG, and the /gapmap page; it prints, for each, the median time of
``--repeat`` requests after a first one (which builds what the map derives once per version), each sent with a
cookie so that the app's response cache (web/caching.py) does not answer it, the median CPU time of this process
for one (steadier than the wall clock on a busy machine), the median time of the same request answered from that
cache, and the response's size. Issue 14's goal
at 10,000 studies: /api/gapmap under 200 KB and 50 ms.

    python benchmarks/bench_gapmap.py [--sizes 1000,10000] [--repeat 7] [--data-dir DIR]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import warnings
from pathlib import Path

from evidencemap.graph.store import EvidenceMap
from evidencemap.model.facet_index import index_of
from evidencemap.model.vocabulary import load_vocabulary
from evidencemap.settings import Settings
from synthetic import write_map

# The bundled map's own concepts (outcomes, components, challenges), which the synthetic studies use, when the map
# keeps them in a file of its own.
VOCABULARY = [p for p in [Path(__file__).resolve().parents[1] / "maps" / "dufour-2025" / "vocabulary.ttl"]
              if p.exists()]

# The app keeps recent answers by ETag (web/caching.py), so a repeated request is a cache hit; a request with a cookie
# is never cached, so with one every request runs the handler: what a first visitor of each view waits for.
UNCACHED = {"cookie": "bench=1"}

REQUESTS = {
    "/api/gapmap (default axes)": "/api/gapmap",
    "/api/gapmap?delivery=online": "/api/gapmap?delivery=online",
    "/api/gapmap?rows=challenge&cols=outcome": "/api/gapmap?rows=challenge&cols=outcome",
    "/api/gapmap?cell=... (one cell's studies)": "/api/gapmap?rows=component&cols=delivery"
                                                   "&cell=emotional-support-validation:online",
    "/api/gapmap.svg": "/api/gapmap.svg",
    "/api/gapmap.png": "/api/gapmap.png",
    "/gapmap (the page)": "/gapmap",
}


def size_text(n: int) -> str:
    return f"{n / 1024:.1f} KB" if n < 1024 * 1024 else f"{n / 1024 / 1024:.1f} MB"


def measure(size: int, repeat: int, data_dir: Path | None) -> list[str]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from fastapi.testclient import TestClient

    from evidencemap.web.app import create_app

    synthetic = write_map(size, data_dir)
    started = time.perf_counter()
    evidence_map = EvidenceMap.load(Settings(data=[synthetic.path, *VOCABULARY]))
    load = time.perf_counter() - started
    vocabulary = load_vocabulary(evidence_map)
    index_of(evidence_map).warm(vocabulary.facets)
    client = TestClient(create_app(evidence_map.settings, evidence_map=evidence_map))  # no lifespan: no workers
    lines = [
        f"### {size:,} studies (load {load:.1f} s)",
        "",
        "| request | first | median | CPU (median) | repeated (cache hit) | size |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    print("\n".join(lines), flush=True)
    for name, url in REQUESTS.items():
        started = time.perf_counter()
        response = client.get(url)
        first = time.perf_counter() - started
        if response.status_code != 200:
            raise SystemExit(f"{url}: {response.status_code} {response.text[:300]}")
        times, cpu, hits = [], [], []
        for _ in range(repeat):
            started, started_cpu = time.perf_counter(), time.process_time()
            response = client.get(url, headers=UNCACHED)
            times.append(time.perf_counter() - started)
            cpu.append(time.process_time() - started_cpu)
            started = time.perf_counter()
            client.get(url)
            hits.append(time.perf_counter() - started)
        median, median_cpu = statistics.median(times), statistics.median(cpu)
        size = size_text(len(response.content))
        lines.append(f"| `{name}` | {first * 1000:.0f} ms | {median * 1000:.1f} ms | {median_cpu * 1000:.1f} ms | "
                     f"{statistics.median(hits) * 1000:.1f} ms | {size} |")
        print(lines[-1], flush=True)
    print()
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1000,10000", help="comma-separated numbers of studies")
    parser.add_argument("--repeat", type=int, default=7, help="requests per measurement after the first (median)")
    parser.add_argument("--data-dir", type=Path, help="folder for the synthetic maps (default: a temp folder)")
    parser.add_argument("--only", help="measure only the requests whose name contains this text")
    args = parser.parse_args(argv)
    if args.only:
        for name in [n for n in REQUESTS if args.only not in n]:
            del REQUESTS[name]
    print(f"Medians of {args.repeat} requests after a first one; Python {sys.version.split()[0]}.\n")
    for size in (int(s) for s in args.sizes.split(",")):
        measure(size, args.repeat, args.data_dir)
    return 0


if __name__ == "__main__":
    sys.exit(main())
