"""Fair sharing of /sparql (issue 9): two clients send runaway queries continuously while a third sends simple
queries; prints the third client's latencies (median, p95, max) and status counts.

Clients are told apart by ``X-Forwarded-For`` (uvicorn trusts it from 127.0.0.1 by default), as behind a proxy.

    .venv/bin/python benchmarks/bench_fair_sharing.py --seconds 30 --workers 3
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import threading
import time

import httpx

from bench_limits import wait_ready

RUNAWAY = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"
SIMPLE = "SELECT ?s WHERE { ?s a ?t } LIMIT 10"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--query-timeout", type=float, default=5.0)
    args = parser.parse_args()
    server = subprocess.Popen([sys.executable, "-m", "evidencemap.cli", "serve", "--port", str(args.port),
                               "--workers", str(args.workers), "--query-timeout", str(args.query_timeout)])
    url = f"http://127.0.0.1:{args.port}/sparql"
    try:
        wait_ready(url)
        stop = time.monotonic() + args.seconds
        statuses: dict[str, dict[int, int]] = {"runaway-1": {}, "runaway-2": {}, "simple": {}}
        latencies: list[float] = []

        def client(name: str, query: str, address: str) -> None:
            with httpx.Client(timeout=60, headers={"X-Forwarded-For": address}) as http:
                while time.monotonic() < stop:
                    started = time.perf_counter()
                    status = http.get(url, params={"query": query}).status_code
                    statuses[name][status] = statuses[name].get(status, 0) + 1
                    if name == "simple":
                        latencies.append(time.perf_counter() - started)
                    if status == 429:
                        time.sleep(0.1)

        threads = [threading.Thread(target=client, args=("runaway-1", RUNAWAY, "192.0.2.1")),
                   threading.Thread(target=client, args=("runaway-2", RUNAWAY, "192.0.2.2")),
                   threading.Thread(target=client, args=("simple", SIMPLE, "192.0.2.3"))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        latencies.sort()
        p95 = latencies[int(0.95 * (len(latencies) - 1))]
        print(f"workers={args.workers} timeout={args.query_timeout:g}s seconds={args.seconds:g}")
        print(f"simple: n={len(latencies)} median={statistics.median(latencies) * 1000:.0f} ms "
              f"p95={p95 * 1000:.0f} ms max={latencies[-1] * 1000:.0f} ms")
        print(f"statuses: {statuses}")
        return 0 if p95 < 1.0 else 1
    finally:
        server.terminate()
        server.wait(timeout=30)


if __name__ == "__main__":
    sys.exit(main())
