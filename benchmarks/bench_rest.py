"""The REST API at growing map sizes: what a request costs, how big its answer is, and throughput against
``oxigraph serve`` answering the equivalent SPARQL (issue 14).

Part 1, in process (``--sizes``, default 1,000 and 10,000 studies; add 100000 for the issue's third size): for each
synthetic map (synthetic.py) and each request of :data:`REQUESTS` through the app (FastAPI's test client, no
network): the median time without the response cache (what the handler costs) and its CPU time (what it costs on
a machine busy with other work), the same request sent to the app's ASGI interface itself ("in the app": no HTTP
client and no test client, whose thread hops cost 2-4 ms a request, as much as most handlers: what the server spends
on it, middleware included), as a cache hit (the same request again: its CPU time is what the app and the test
client cost around any handler) and with its ETag (a 304), the bytes of the answer and the bytes of each study it
lists. "Uncached" keeps what the map derives once per version (the counts
among every study, the concept trees, the study cards already read): two more columns show what those cost, the
CPU time of a page not asked before (``offset`` moved on each time: its study cards are read from the store) and of
the first request after a write (``EvidenceMap.changed`` with an empty change: the facet index follows it, every
other derived structure is made again, median of 3). Then the growth of the uncached CPU time with the map: a
request that reads a fixed amount (one study, one page, a question's first page) should stay near 1x as the map
grows tenfold.

Part 2, over HTTP (``--http-size``, default 10,000; 0 skips it): the app under uvicorn as ``evidencemap serve`` runs
it, in one and in two processes (``--workers``), and ``oxigraph serve-read-only`` on the same data (``oxigraph
load`` into a folder first; the CLI comes with ``pip install oxigraph``: skipped with a note when it is missing),
each driven by ``--connections`` concurrent keep-alive clients for ``--seconds``: requests per second, median
latency and failures, for a REST list asked a different page each time (every request a cache miss), the same page
each time (cache hits), and, to ``oxigraph serve``, the SPARQL the list shows (its ``sparql`` field) with the same
LIMIT and OFFSET.

    python benchmarks/bench_rest.py [--sizes 1000,10000,100000] [--repeat 15] [--http-size 10000]
                                    [--connections 8,32] [--seconds 10] [--workers 1,2]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote, urlencode

import httpx

from evidencemap.graph.store import Delta, EvidenceMap
from evidencemap.resources import bundled_map_dir
from evidencemap.settings import Settings
from synthetic import write_map

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

QUESTION = "which online studies reported burnout"
# name -> path; {study} is the id of a study in the middle of the map. Those with a page of studies are also asked
# at an offset not asked before (PAGED: the parameter that moves the page on).
REQUESTS = {
    "study list, first page (limit=20)": "/api/studies?limit=20",
    "study list, online (limit=20)": "/api/studies?delivery=online&limit=20",
    "one study": "/api/studies/{study}",
    "question (first page of studies)": f"/api/ask?q={QUESTION}",
    "question, count": "/api/ask?q=how many studies used psychoeducation",
    "facets": "/api/facets",
}
PAGED = {"study list, first page (limit=20)": 20, "study list, online (limit=20)": 20,
         "question (first page of studies)": 50, "question, count": 50}
# The throughput part: REST lists, each request a different page ({offset}: real cache misses) or the same page
# (cache hits), and for `oxigraph serve` the SPARQL the list shows (its `sparql` field, which selects the same
# studies) with the same LIMIT and OFFSET.
PAGE = 20
THROUGHPUT = (
    "/api/studies?delivery=online&limit=20&offset={offset}",
    f"/api/ask?q={QUESTION}&limit=20&offset={{offset}}",
)


def at(template: str, offset: object) -> str:
    """A request of :data:`THROUGHPUT` (or its SPARQL) at an offset."""
    return template.replace("{offset}", str(offset))


def median_ms(work: Callable[[], object], repeat: int) -> float:
    return medians_ms(work, repeat)[0]


def medians_ms(work: Callable[[], object], repeat: int) -> tuple[float, float]:
    """The median wall-clock time and the median CPU time of this process (every thread: the test client runs
    the app in one) of ``work``; the CPU time is what a request costs whatever else the machine is running."""
    times, cpu = [], []
    for _ in range(repeat):
        started, started_cpu = time.perf_counter(), time.process_time()
        work()
        times.append(time.perf_counter() - started)
        cpu.append(time.process_time() - started_cpu)
    return statistics.median(times) * 1000, statistics.median(cpu) * 1000


def map_files(size: int) -> list[Path]:
    """The synthetic map's file, and the bundled map's vocabulary file when it has one (the map's own concepts)."""
    vocabulary = bundled_map_dir() / "vocabulary.ttl"
    return [write_map(size).path, *([vocabulary] if vocabulary.exists() else [])]


def asgi_get(app: Any, path: str, loop: asyncio.AbstractEventLoop) -> int:
    """One GET of ``path`` through the app's ASGI interface, in ``loop``, without any client; its status."""
    raw_path, _, query = path.partition("?")
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET", "scheme": "http",
             "path": unquote(raw_path), "raw_path": raw_path.encode(), "root_path": "",
             "query_string": urlencode(parse_qsl(query, keep_blank_values=True)).encode(),
             "headers": [(b"host", b"testserver"), (b"accept", b"application/json")],
             "client": ("127.0.0.1", 1), "server": ("testserver", 80)}
    status = 0

    async def receive() -> dict[str, object]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = int(message["status"])

    loop.run_until_complete(app(scope, receive, send))
    return status


@dataclass
class Measured:
    uncached_ms: float
    cpu_ms: float
    in_app_ms: float
    in_app_cpu_ms: float
    new_page_cpu_ms: float | None
    after_write_cpu_ms: float
    hit_ms: float
    hit_cpu_ms: float
    not_modified_ms: float
    size: int
    per_study: float | None


def in_process(size: int, repeat: int) -> dict[str, Measured]:
    from evidencemap.web.app import create_app
    from evidencemap.web.caching import response_cache

    started = time.perf_counter()
    evidence_map = EvidenceMap.load(Settings(data=map_files(size)))
    app = create_app(evidence_map.settings, evidence_map=evidence_map)
    print(f"### {size:,} studies (loaded and indexed in {time.perf_counter() - started:.1f} s)\n", flush=True)
    client = TestClient(app)  # no lifespan: no SPARQL workers
    cache = response_cache(app)
    study = client.get(f"/api/studies?limit=1&offset={size // 2}").json()["studies"][0]["id"]
    out: dict[str, Measured] = {}
    print("| request | median, uncached | its CPU | in the app (ASGI) | its CPU | CPU, a new page | "
          "CPU, first after a write | cache hit | its CPU | with its ETag (304) | bytes | bytes a study listed |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    loop = asyncio.new_event_loop()
    pages = iter(range(1, 1_000_000))
    for name, template in REQUESTS.items():
        path = template.format(study=study)
        first = client.get(path)
        assert first.status_code == 200, (path, first.text[:300])
        tag = first.headers["etag"]

        def uncached(p: str = path) -> None:
            cache.clear()  # the handler runs: what the request costs without the response cache
            client.get(p)

        cold, cpu = medians_ms(uncached, repeat)

        def in_app(p: str = path) -> None:
            cache.clear()
            assert asgi_get(app, p, loop) == 200, p

        in_app_ms, in_app_cpu = medians_ms(in_app, repeat)
        new_page = None
        if name in PAGED:
            # Offsets within the matching studies, each asked once (a page of a total of 5,000 and more).
            total = int(first.json()["total"])

            def fresh(p: str = path + ("&" if "?" in path else "?"), step: int = PAGED[name], n: int = total) -> None:
                cache.clear()
                client.get(f"{p}offset={next(pages) * step % max(1, n - step)}")

            new_page = medians_ms(fresh, repeat)[1]

        after = statistics.median(first_after_write(evidence_map, client, path) for _ in range(3))
        client.get(path)
        hit, hit_cpu = medians_ms(lambda p=path: client.get(p), repeat)
        warm = median_ms(lambda p=path, t=tag: client.get(p, headers={"If-None-Match": t}), repeat)
        listed = len(first.json().get("studies", [])) if "studies" in first.json() else 0
        per_study = len(json.dumps(first.json()["studies"], separators=(",", ":"))) / listed if listed else None
        out[name] = Measured(cold, cpu, in_app_ms, in_app_cpu, new_page, after, hit, hit_cpu, warm,
                             len(first.content), per_study)
        print(f"| {name} | {cold:.1f} ms | {cpu:.1f} ms | {in_app_ms:.1f} ms | {in_app_cpu:.1f} ms | "
              f"{f'{new_page:.1f} ms' if new_page is not None else '-'} | "
              f"{after:.0f} ms | {hit:.1f} ms | {hit_cpu:.1f} ms | {warm:.1f} ms | {len(first.content):,} | "
              f"{f'{per_study:,.0f}' if per_study else '-'} |", flush=True)
    loop.close()
    print()
    return out


def first_after_write(evidence_map: EvidenceMap, client: TestClient, path: str) -> float:
    """The CPU time (ms) of ``path`` right after a write: ``changed`` with an empty change (a new version all the
    same: the facet index follows it, which is the write's cost and is not timed), then the request."""
    evidence_map.changed(Delta())
    started = time.process_time()
    client.get(path)
    return (time.process_time() - started) * 1000


# -- over HTTP ------------------------------------------------------------------------------------------------------


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_ready(url: str, timeout: float = 600) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=5).status_code < 500:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise SystemExit(f"{url} did not answer in {timeout:.0f} s")


@contextmanager
def running(command: list[str], ready_url: str, env: dict[str, str] | None = None) -> Iterator[None]:
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               env={**os.environ, **(env or {})}, start_new_session=True)
    try:
        wait_ready(ready_url)
        yield
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


@dataclass
class Load:
    per_second: float
    median_ms: float
    failures: int


async def drive(request: Callable[[httpx.AsyncClient, int], Awaitable[httpx.Response]], connections: int,
                seconds: float) -> Load:
    """``connections`` clients each sending requests back to back for ``seconds`` (``request(client, i)`` for the
    i-th request of the run)."""
    latencies: list[float] = []
    failures = 0
    sent = 0
    deadline = time.perf_counter() + seconds

    async def client_loop() -> None:
        nonlocal failures, sent
        limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
        async with httpx.AsyncClient(timeout=120, limits=limits) as client:
            while time.perf_counter() < deadline:
                sent += 1
                started = time.perf_counter()
                try:
                    ok = (await request(client, sent)).status_code == 200
                except httpx.HTTPError:
                    ok = False
                latencies.append(time.perf_counter() - started)
                failures += not ok

    started = time.perf_counter()
    await asyncio.gather(*(client_loop() for _ in range(connections)))
    elapsed = time.perf_counter() - started
    return Load(len(latencies) / elapsed, statistics.median(latencies) * 1000 if latencies else 0, failures)


def over_http(size: int, connection_counts: list[int], seconds: float, workers: list[int]) -> None:
    files = map_files(size)
    print(f"### Over HTTP, {size:,} studies, {seconds:.0f} s a run\n", flush=True)
    rows: list[str] = []

    def record(server: str, what: str, n: int, result: Load) -> None:
        rows.append(f"| {server} | {what} | {n} | {result.per_second:.1f} | {result.median_ms:.1f} ms | "
                    f"{result.failures} |")
        print(rows[-1], flush=True)

    sparql: dict[str, tuple[str, int]] = {}  # REST template -> (the SPARQL it shows, how many studies match)
    for count in workers:
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        server = f"evidencemap, {count} process{'es' if count > 1 else ''}"
        # The app factory under uvicorn, as `evidencemap serve` runs it (which validates the map first: minutes at
        # 100,000 studies, and the data is generated), with --workers processes each holding the map.
        command = [sys.executable, "-m", "uvicorn", "--factory", "evidencemap.web.app:create_app", "--host",
                   "127.0.0.1", "--port", str(port), "--workers", str(count), "--log-level", "warning"]
        env = {"EVIDENCEMAP_DATA": os.pathsep.join(str(f) for f in files), "EVIDENCEMAP_SPARQL_WORKERS": "1"}
        with running(command, f"{base}/api/studies?limit=1", env):
            for template in THROUGHPUT:
                first = httpx.get(base + at(template, 0), timeout=120).json()
                sparql[template] = (first["sparql"], int(first["total"]))
                pages = max(1, int(first["total"]) - PAGE)
                for n in connection_counts:
                    misses = asyncio.run(drive(lambda c, i, u=base + template, k=pages: c.get(at(u, i % k)), n,
                                               seconds))
                    record(server, f"GET {at(template, 'N')}, a different page each time", n, misses)
                for n in connection_counts:
                    same = asyncio.run(drive(lambda c, i, u=base + template: c.get(at(u, 0)), n, seconds))
                    record(server, f"GET {at(template, 0)}, the same page each time", n, same)
    oxigraph = shutil.which("oxigraph") or str(Path(sys.executable).with_name("oxigraph"))
    if not Path(oxigraph).exists():
        print("(oxigraph serve skipped: the oxigraph CLI is not installed; pip install oxigraph)\n")
    else:
        with tempfile.TemporaryDirectory() as folder:
            store = Path(folder) / "store"
            inferred = Path(folder) / "map.nq"
            EvidenceMap.load(Settings(data=files)).store.dump(str(inferred), format=_nquads())
            subprocess.run([oxigraph, "load", "--location", str(store), "--file", str(inferred)], check=True,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            port = free_port()
            endpoint = f"http://127.0.0.1:{port}/query"
            with running([oxigraph, "serve-read-only", "--location", str(store), "--bind", f"127.0.0.1:{port}",
                          "--union-default-graph"], f"http://127.0.0.1:{port}/"):
                for template, (query, total) in sparql.items():
                    paged = query.rstrip() + f"\nLIMIT {PAGE} OFFSET {{offset}}"
                    pages = max(1, total - PAGE)
                    for n in connection_counts:
                        result = asyncio.run(drive(lambda c, i, q=paged, k=pages: c.get(
                            endpoint, params={"query": at(q, i % k)},
                            headers={"Accept": "application/sparql-results+json"}), n, seconds))
                        record("oxigraph serve", f"the SPARQL of {at(template, 'N')}, a different page each time",
                               n, result)
    print("\n| server | request | connections | requests/s | median | failures |\n|---|---|---:|---:|---:|---:|")
    print("\n".join(rows) + "\n")


def _nquads() -> object:
    import pyoxigraph as ox

    return ox.RdfFormat.N_QUADS


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1000,10000", help="comma-separated numbers of studies (in process)")
    parser.add_argument("--repeat", type=int, default=15, help="requests per measurement (the median is shown)")
    parser.add_argument("--http-size", type=int, default=10_000, help="studies for the HTTP part (0: skip it)")
    parser.add_argument("--connections", default="8,32", help="concurrent clients, comma-separated")
    parser.add_argument("--seconds", type=float, default=10, help="length of each HTTP run")
    parser.add_argument("--workers", default="1,2", help="app processes (uvicorn --workers) to compare")
    args = parser.parse_args(argv)
    print(f"Medians of {args.repeat} requests; Python {sys.version.split()[0]}; {os.cpu_count()} cores.\n")
    sizes = [int(s) for s in args.sizes.split(",") if s]
    results = {}
    for size in sizes:
        results[size] = in_process(size, args.repeat)
        gc.collect()  # the map of this size, before the next is loaded
    if len(sizes) > 1:
        print("Growth of the uncached CPU time with the map:\n")
        print("| request | " + " | ".join(f"{s:,} / {sizes[0]:,}" for s in sizes[1:]) + " |")
        print("|---|" + "---:|" * (len(sizes) - 1))
        for name in REQUESTS:
            base = results[sizes[0]][name].cpu_ms
            print(f"| {name} | " + " | ".join(f"{results[s][name].cpu_ms / base:.2f}x" for s in sizes[1:])
                  + " |")
        print()
    if args.http_size:
        over_http(args.http_size, [int(n) for n in args.connections.split(",")], args.seconds,
                  [int(w) for w in args.workers.split(",")])
    return 0


if __name__ == "__main__":
    sys.exit(main())
