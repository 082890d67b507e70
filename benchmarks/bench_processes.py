"""``evidencemap serve --processes N`` (issue 14, "Horizontal"): requests per second at 8 and 32 connections with 1
and 2 app processes on one port, and the memory of the whole process tree (the command, its app processes, their
SPARQL zygotes and workers).

The server is started as a user starts it (``evidencemap serve --data MAP --processes N``) on a synthetic map
(synthetic.py) with its store cache in a temporary folder, in which the first start's work (the on-disk store, the
validation, the facet index) is done beforehand: every measured start opens what it left. Each load is
``--connections`` keep-alive clients sending requests back to back for ``--seconds`` (bench_rest.py's driver): a
REST list asked a different page each time (every request a response-cache miss) and a question's first page (a
cache hit after the first). The clients run on the same machine, so on 2 cores they take CPU from the server:
compare the rows with each other, not with another machine.

By default uvicorn runs the app factory in N processes (``uvicorn --factory
evidencemap.web.processes:app_from_environment --workers N``), which is what ``serve --processes N`` starts after
validating the map; ``--validate`` runs ``evidencemap serve --processes N`` itself, whose validation (about 500 s of
pySHACL at 10,000 studies) is then done beforehand too. The output says which was used.

    python benchmarks/bench_processes.py [--size 10000] [--processes 1,2] [--connections 8,32] [--seconds 10]
                                         [--warmup 6] [--sparql-workers N] [--validate]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

from bench_rest import PAGE, THROUGHPUT, Load, at, drive, free_port, map_files, running
from bench_serve import tree, tree_memory
from evidencemap.graph.store import EvidenceMap
from evidencemap.settings import Settings
from evidencemap.web.processes import FACTORY, HEALTHCHECK_SECONDS

LIST = THROUGHPUT[0]
QUESTION = at(THROUGHPUT[1], 0)


def zygotes(pid: int) -> int:
    """The SPARQL zygotes started under ``pid`` (one by each app process once its app has started)."""
    found = 0
    for each in tree(pid):
        try:
            command = Path(f"/proc/{each}/cmdline").read_bytes()
            parent = Path(f"/proc/{each}/stat").read_text().rsplit(")", 1)[1].split()[1]
            parent_command = Path(f"/proc/{parent}/cmdline").read_bytes()
        except OSError:
            continue
        found += b"evidencemap.sparql.zygote" in command and b"evidencemap.sparql.zygote" not in parent_command
    return found


def all_started(port: int, processes: int, timeout: float = 300) -> None:
    """Wait until every app process has started its app (the first 2xx can come from the first one alone)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        server = _server_pid(port)
        if server and zygotes(server) >= processes:
            return
        time.sleep(0.2)
    raise SystemExit(f"{processes} app processes did not all start in {timeout:.0f} s")


def measure(data: list[Path], cache: Path, processes: int, connections: list[int], seconds: float,
            warmup: float, validate: bool, sparql_workers: int | None) -> list[str]:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {"EVIDENCEMAP_STORE_CACHE": str(cache)}
    if sparql_workers is not None:
        env["EVIDENCEMAP_SPARQL_WORKERS"] = str(sparql_workers)
    if validate:
        command = [sys.executable, "-m", "evidencemap.cli", "serve", "--data", *map(str, data), "--allow-invalid",
                   "--port", str(port), "--processes", str(processes)]
    else:
        command = [sys.executable, "-m", "uvicorn", "--factory", FACTORY, "--host", "127.0.0.1", "--port", str(port),
                   "--workers", str(processes), "--timeout-worker-healthcheck", str(HEALTHCHECK_SECONDS),
                   "--log-level", "warning"]
        env["EVIDENCEMAP_DATA"] = os.pathsep.join(str(f) for f in data)
    rows: list[str] = []
    name = f"{processes} process{'es' if processes > 1 else ''}" + (
        f", {sparql_workers} SPARQL worker{'s' if sparql_workers != 1 else ''} each" if sparql_workers is not None
        else "")
    started = time.perf_counter()
    with running(command, f"{base}/api/studies?limit=1", env):
        ready = time.perf_counter() - started
        all_started(port, processes)
        every = time.perf_counter() - started
        import httpx

        first = httpx.get(base + at(LIST, 0), timeout=120).json()
        pages = max(1, int(first["total"]) - PAGE)
        # Every process's first requests (its facet index, vocabulary, response cache) are not what is measured.
        asyncio.run(drive(lambda c, i, u=base + LIST, k=pages: c.get(at(u, i % k)), max(connections), warmup))
        asyncio.run(drive(lambda c, i, u=base + QUESTION: c.get(u), max(connections), warmup / 2))
        for n in connections:
            loads: list[tuple[str, Load]] = [
                (f"GET {at(LIST, 'N')}, a different page each time",
                 asyncio.run(drive(lambda c, i, u=base + LIST, k=pages: c.get(at(u, i % k)), n, seconds))),
                (f"GET {QUESTION}", asyncio.run(drive(lambda c, i, u=base + QUESTION: c.get(u), n, seconds))),
            ]
            for what, load in loads:
                rows.append(f"| {name} | {what} | {n} | {load.per_second:.1f} | {load.median_ms:.1f} ms | "
                            f"{load.failures} |")
                print(rows[-1], flush=True)
        server = _server_pid(port)
        rss, pss, count = tree_memory(server) if server else (0.0, 0.0, 0)
        rows.append(f"| {name} | process-tree memory after the runs: RSS {rss:,.0f} MiB, PSS {pss:,.0f} MiB, "
                    f"{count} processes; first 2xx {ready:.1f} s after the command, every app process started after "
                    f"{every:.1f} s | | | | |")
        print(rows[-1], flush=True)
    return rows


def _server_pid(port: int) -> int | None:
    """The command (``evidencemap serve`` or ``uvicorn``) listening on ``port`` (its command line names the port)."""
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                command = Path(f"/proc/{entry}/cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            if (b"evidencemap.cli" in command or b"uvicorn" in command) and str(port).encode() in command:
                return int(entry)
    return None


def prepare(data: list[Path], cache: Path, validate: bool) -> None:
    """What a first start does, done here once, so that every measured start is a second start (as most are): the
    on-disk store built, the validation result (unless not validating), the facet index and the review's counts
    kept in the store cache."""
    from evidencemap.graph.validation import validation_report
    from evidencemap.web.app import create_app

    started = time.perf_counter()
    settings = Settings(data=data, store_cache=str(cache))
    evidence_map = EvidenceMap.load(settings, persistent=True)
    if validate:
        validation_report(evidence_map)
    create_app(settings, evidence_map)  # the facet index and what the app computes at start, saved in the cache
    how = "serve --processes N" if validate else ("the app factory run under uvicorn --workers N, as serve "
                                                  "--processes N runs it after validating")
    print(f"(the first start's work done beforehand in {time.perf_counter() - started:.0f} s; {how})\n", flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=int, default=10_000, help="studies in the synthetic map")
    parser.add_argument("--processes", default="1,2", help="app processes to compare, comma-separated")
    parser.add_argument("--connections", default="8,32", help="concurrent clients, comma-separated")
    parser.add_argument("--seconds", type=float, default=10, help="length of each run")
    parser.add_argument("--warmup", type=float, default=6, help="seconds of requests, not measured, before the runs")
    parser.add_argument("--sparql-workers", type=int, help="/sparql workers of each process (default: the setting's)")
    parser.add_argument("--validate", action="store_true",
                        help="run evidencemap serve --processes N (the map validated beforehand: minutes at 10,000)")
    args = parser.parse_args(argv)
    data = map_files(args.size)
    print(f"{args.size:,} studies; Python {sys.version.split()[0]}; {os.cpu_count()} cores; {platform.machine()}; "
          f"load average {os.getloadavg()[0]:.1f} at the start; {args.seconds:.0f} s a run\n", flush=True)
    rows: list[str] = []
    with tempfile.TemporaryDirectory() as folder:
        cache = Path(folder) / "cache"
        prepare(data, cache, validate=args.validate)
        for processes in (int(p) for p in args.processes.split(",")):
            rows += measure(data, cache, processes, [int(n) for n in args.connections.split(",")], args.seconds,
                            args.warmup, args.validate, args.sparql_workers)
    print("\n| app processes | request | connections | requests/s | median | failures |\n|---|---|---:|---:|---:|---:|")
    print("\n".join(rows))
    print(f"\nload average {os.getloadavg()[0]:.1f} at the end")
    return 0


if __name__ == "__main__":
    sys.exit(main())
