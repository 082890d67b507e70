"""The map served from a remote engine (``serve --endpoint``) against the embedded store, on the same synthetic map
(issue 14): push time, start-up, and the median of each request without the response cache, in process (FastAPI's
test client: the app's own work plus, for the remote mode, its HTTP round trips to the engine).

For each size, ``oxigraph serve`` (in memory; the CLI from ``pip install oxigraph``) is started on a free port, the
map pushed with the Graph Store Protocol, and two apps are built over the same files: the embedded one (the on-disk
store in a store cache of this run) and ``--endpoint``'s. The first start of either validates the files (pySHACL),
which is the same work for both: the figures are of the second start, with the validation in the cache.
``/sparql`` is timed for the named query "online studies that reported burnout" through the proxy, and sent
directly to ``oxigraph serve`` with the same dataset (the proxy's overhead is the difference).

    python benchmarks/bench_remote.py [--sizes 1000,10000] [--repeat 15] [--store-cache DIR]
"""

from __future__ import annotations

import argparse
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from evidencemap.graph.push import push_map
from evidencemap.graph.remote import open_remote
from evidencemap.graph.store import EvidenceMap
from evidencemap.graph.validation import validation_report
from evidencemap.model.queries import get_named_query
from evidencemap.settings import Settings
from evidencemap.web.app import create_app
from evidencemap.web.caching import response_cache
from synthetic import write_map

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

REQUESTS = {
    "/api/studies?limit=20": "/api/studies?limit=20",
    "/api/studies?delivery=online": "/api/studies?delivery=online&limit=20",
    "/api/studies/{id}": "/api/studies/{study}",
    "/api/ask (online, burnout)": "/api/ask?q=which+online+studies+reported+burnout",
    "/api/gapmap": "/api/gapmap",
    "/api/facets": "/api/facets",
}
ACCEPT = {"Accept": "application/sparql-results+json"}


def median_ms(work: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        work()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


@contextmanager
def oxigraph_serve() -> Iterator[str]:
    binary = shutil.which("oxigraph") or str(Path(sys.executable).parent / "oxigraph")
    with tempfile.TemporaryDirectory() as folder:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        process = subprocess.Popen([binary, "serve", "--bind", f"127.0.0.1:{port}"], cwd=folder,
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        base = f"http://127.0.0.1:{port}"
        try:
            for _ in range(200):
                try:
                    httpx.get(f"{base}/query", params={"query": "ASK {}"}, timeout=1)
                    break
                except httpx.TransportError:
                    time.sleep(0.05)
            yield base
        finally:
            process.terminate()
            process.wait(10)


def one_size(size: int, repeat: int, cache: Path) -> None:
    files = [write_map(size).path]
    print(f"### {size:,} studies\n", flush=True)
    with oxigraph_serve() as base:
        _, push_seconds = push_map(files, Settings().base_iri, graph_store=f"{base}/store", update_endpoint=None)
        embedded_settings = Settings(data=files, store_cache=str(cache), allow_invalid=True)
        remote_settings = embedded_settings.replace(endpoint=f"{base}/query")
        validation_report(EvidenceMap.load(embedded_settings, persistent=True))  # the first start's validation
        started = time.perf_counter()
        embedded_map = EvidenceMap.load(embedded_settings, persistent=True)
        validation_report(embedded_map)
        embedded = create_app(embedded_settings, embedded_map)
        embedded_start = time.perf_counter() - started
        started = time.perf_counter()
        remote_map = open_remote(remote_settings)
        remote = create_app(remote_settings, remote_map)
        remote_start = time.perf_counter() - started
        print(f"push (Graph Store Protocol, build included) {push_seconds:.1f} s; second start to a ready app: "
              f"embedded {embedded_start:.1f} s, --endpoint {remote_start:.1f} s\n")
        print("| request | embedded, uncached | --endpoint, uncached | ratio |")
        print("|---|---:|---:|---:|")
        clients = {"embedded": TestClient(embedded), "remote": TestClient(remote)}
        study = clients["embedded"].get(f"/api/studies?limit=1&offset={size // 2}").json()["studies"][0]["id"]
        for name, template in REQUESTS.items():
            path = template.format(study=study)
            figures = []
            for kind, client in clients.items():
                assert client.get(path).status_code == 200, (kind, path)
                app_cache = response_cache(client.app)  # type: ignore[arg-type]

                def uncached(c: TestClient = client, p: str = path, k: object = app_cache) -> None:
                    k.clear()  # type: ignore[attr-defined]
                    c.get(p)

                figures.append(median_ms(uncached, repeat))
            print(f"| {name} | {figures[0]:.1f} ms | {figures[1]:.1f} ms | {figures[1] / figures[0]:.2f}x |",
                  flush=True)
        query = get_named_query("online-studies-burnout").text
        with TestClient(remote) as proxied, httpx.Client() as direct:
            graphs = remote_map.engine.graph_names()  # type: ignore[attr-defined]
            through = median_ms(lambda: proxied.post("/sparql", data={"query": query}, headers=ACCEPT), repeat)
            form = {"query": query, "default-graph-uri": graphs, "named-graph-uri": graphs}
            alone = median_ms(lambda: direct.post(f"{base}/query", data=form, headers=ACCEPT), repeat)
            rows = len(direct.post(f"{base}/query", data=form, headers=ACCEPT).json()["results"]["bindings"])
        print(f"\n/sparql, online studies that reported burnout ({rows:,} rows): through the proxy {through:.1f} ms, "
              f"oxigraph serve directly {alone:.1f} ms ({through / alone:.2f}x)\n", flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1000,10000")
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--store-cache", type=Path, help="a store cache to reuse (the first start's validation of a "
                        "10,000-study map takes minutes); default: a new one for this run")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as fresh:
        for size in (int(s) for s in args.sizes.split(",")):
            one_size(size, args.repeat, args.store_cache or Path(fresh))
    return 0


if __name__ == "__main__":
    sys.exit(main())
