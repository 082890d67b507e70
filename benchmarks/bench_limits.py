"""Issue 9's resource limits measured against a real `evidencemap serve` (figures in docs/benchmarks.md).

Starts the server on a free port, then:

1. streams a large chunked POST body (no Content-Length) to /sparql and reports the status and how much the
   server process's resident memory grew (the body must be refused with 413 before it is held in memory);
2. sends a cross-product ``ORDER BY`` that needs far more memory than a worker may use, and reports its status and
   time, the largest resident memory seen in any worker while it ran, and the process tree's memory before and
   after (the worker is replaced and the tree returns to its baseline).

Only 127.0.0.1 is contacted; the server is stopped at the end.
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx

CROSS_PRODUCT = "SELECT * WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i } ORDER BY ?a ?d ?g"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def rss_mib(pid: int) -> float:
    """Resident memory of one process in MiB (0 when it is gone)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def tree(pid: int) -> list[int]:
    """``pid`` and all its descendants."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry.name))
    out, todo = [], [pid]
    while todo:
        current = todo.pop()
        out.append(current)
        todo.extend(children.get(current, []))
    return out


def tree_rss(pid: int) -> float:
    return sum(rss_mib(p) for p in tree(pid))


def chunks(total_mib: int) -> Iterator[bytes]:
    block = b"query=" + b"x" * (1024 * 1024 - 6)
    yield block
    for _ in range(total_mib - 1):
        yield b"x" * (1024 * 1024)


def wait_ready(url: str, timeout: float = 120.0) -> None:
    """Return once ``url`` (a /sparql endpoint) answers ``ASK {}``; exit the benchmark if it never does."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, params={"query": "ASK {}"}, timeout=5).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise SystemExit("the server did not start")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--body-mib", type=int, default=300, help="size of the chunked body (MiB)")
    parser.add_argument("--worker-memory-mib", type=int, default=1024, help="EVIDENCEMAP_SPARQL_WORKER_MEMORY_MIB")
    parser.add_argument("--query-timeout", type=float, default=5.0, help="EVIDENCEMAP_QUERY_TIMEOUT (s)")
    args = parser.parse_args()
    port = free_port()
    env = {**os.environ, "EVIDENCEMAP_SPARQL_WORKER_MEMORY_MIB": str(args.worker_memory_mib),
           "EVIDENCEMAP_QUERY_TIMEOUT": str(args.query_timeout)}
    server = subprocess.Popen([sys.executable, "-m", "evidencemap.cli", "serve", "--port", str(port)], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}/sparql"
    try:
        wait_ready(url)
        time.sleep(1.0)
        before = rss_mib(server.pid)
        started = time.perf_counter()
        try:
            response = httpx.post(url, content=chunks(args.body_mib), timeout=120,
                                  headers={"Content-Type": "application/x-www-form-urlencoded"})
            status = str(response.status_code)
        except httpx.HTTPError as error:  # the server may close the connection after its 413
            status = f"connection closed ({type(error).__name__})"
        after = rss_mib(server.pid)
        print(f"chunked body of {args.body_mib} MiB: {status} after {time.perf_counter() - started:.2f} s; "
              f"server RSS {before:.0f} -> {after:.0f} MiB (growth {after - before:.1f} MiB)")

        baseline = tree_rss(server.pid)
        peak = {"worker": 0.0}
        done = threading.Event()

        def watch() -> None:
            while not done.is_set():
                for pid in tree(server.pid)[1:]:
                    peak["worker"] = max(peak["worker"], rss_mib(pid))
                time.sleep(0.05)

        watcher = threading.Thread(target=watch)
        watcher.start()
        started = time.perf_counter()
        response = httpx.post(url, data={"query": CROSS_PRODUCT}, timeout=60)
        elapsed = time.perf_counter() - started
        done.set()
        watcher.join()
        print(f"cross-product ORDER BY: {response.status_code} after {elapsed:.2f} s "
              f"(limit {args.query_timeout} s, worker cap {args.worker_memory_mib} MiB): {response.text[:120]!r}")
        print(f"largest process of the tree while it ran: {peak['worker']:.0f} MiB")
        time.sleep(3.0)
        print(f"process tree RSS: {baseline:.0f} MiB before, {tree_rss(server.pid):.0f} MiB 3 s after")
    finally:
        server.terminate()
        server.wait(timeout=30)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
