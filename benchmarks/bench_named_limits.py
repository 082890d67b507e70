"""Do the named queries answer within the default /sparql limits at a given map size? (issue 14)

Starts the app (no validation: the same app ``serve`` runs, on the map's on-disk store, built in the store cache
when it holds none) on a synthetic map (benchmarks/synthetic.py) with the default settings, or with the
``EVIDENCEMAP_*`` variables of the environment, then POSTs every named query the map offers, with its default
parameters bound as the product binds them, to ``/sparql`` once after one untimed warm-up, and prints for each its
HTTP status, rows, whether the row cap cut it (``Evidencemap-Truncated``) and its time.

    python benchmarks/bench_named_limits.py --studies 100000 [--cache DIR]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).parent))
from bench_serve import JSON_RESULTS, free_port, running, serve_command, wait_2xx
from evidencemap.graph.store import EvidenceMap
from evidencemap.graph.values import Values, with_values
from evidencemap.model.queries import named_queries
from evidencemap.model.vocabulary import vocabulary_of
from evidencemap.settings import Settings
from synthetic import write_map


def bound_queries() -> list[tuple[str, str]]:
    """(name, text) of every named query the bundled map offers (the synthetic maps use its vocabulary), each with
    its default parameters as a VALUES block."""
    bundled = EvidenceMap.load(Settings())
    vocabulary = vocabulary_of(bundled)
    out = []
    for query in named_queries(bundled):
        text = with_values(query.text, Values.row(query.bindings(vocabulary, {}))) if query.parameters else None
        out.append((query.qualified_name, text or query.text))
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--studies", type=int, required=True)
    parser.add_argument("--cache", type=Path, help="XDG_CACHE_HOME for the store cache (default: the user's)")
    parser.add_argument("--limit", type=float, default=3000.0, help="seconds the start may take")
    args = parser.parse_args(argv)
    synthetic = write_map(args.studies)
    env = dict(os.environ)
    if args.cache:
        env["XDG_CACHE_HOME"] = str(args.cache)
    settings = Settings.from_env(env)
    print(f"{args.studies:,} studies; query_timeout {settings.query_timeout:g} s, max_rows {settings.max_rows:,}; "
          f"load average {os.getloadavg()[0]:.2f}", flush=True)
    port = free_port()
    url = f"http://127.0.0.1:{port}/sparql"
    with httpx.Client() as client, running(serve_command(synthetic.path, port), env) as server:
        ready = wait_2xx(client, url, time.monotonic(), args.limit, params={"query": "ASK {}"},
                         headers={"Accept": JSON_RESULTS}, process=server)
        print(f"ready after {ready} s", flush=True)
        print("| named query | status | rows | cut at the row cap | seconds |\n|---|---:|---:|---|---:|")
        for name, text in bound_queries():
            headers = {"Accept": JSON_RESULTS, "Content-Type": "application/sparql-query"}
            client.post(url, content=text.encode(), headers=headers, timeout=600)  # warm-up, untimed
            started = time.perf_counter()
            response = client.post(url, content=text.encode(), headers=headers, timeout=600)
            seconds = time.perf_counter() - started
            rows = len(response.json()["results"]["bindings"]) if response.is_success else 0
            cut = response.headers.get("Evidencemap-Truncated", "false")
            print(f"| {name} | {response.status_code} | {rows:,} | {cut} | {seconds:.2f} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
