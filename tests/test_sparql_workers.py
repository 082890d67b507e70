"""The worker pool on its own (no HTTP): answers (from an in-memory copy and from the on-disk store opened
read-only), recycling of workers whose memory grew, a refresh after the map changed, recovery when the zygote dies,
a clean stop, the memory limit and the network isolation of the worker processes."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pyoxigraph as ox
import pytest

from evidencemap.settings import Settings
from evidencemap.sparql import workers as sparql_workers
from evidencemap.sparql import zygote as sparql_zygote
from evidencemap.sparql.execution import QueryRequest
from evidencemap.sparql.guard import SparqlSyntaxError
from evidencemap.sparql.workers import WorkerPool, process_alive

SERIALISERS = {"tabular": "json", "boolean": "json", "graph": "turtle"}
ASK = QueryRequest("ASK { ?s ?p ?o }", SERIALISERS)


def _store(path: Path | None = None) -> ox.Store:
    store = ox.Store(str(path)) if path is not None else ox.Store()
    for i in range(50):
        store.add(ox.Quad(ox.NamedNode(f"http://example.org/s{i}"), ox.NamedNode("http://example.org/p"),
                          ox.Literal(str(i)), ox.NamedNode("http://example.org/g")))
    return store


async def _started(pool: WorkerPool) -> WorkerPool:
    pool.start()
    assert pool._startup is not None
    await pool._startup
    return pool


@contextlib.asynccontextmanager
async def running_pool(
    workers: int = 1, store_path: Path | None = None, query_timeout: float = 2.0
) -> AsyncIterator[WorkerPool]:
    store = _store(store_path)
    if store_path is not None:
        store.flush()
    settings = Settings(sparql_workers=workers, query_timeout=query_timeout)
    pool = await _started(WorkerPool(store, settings, store_path))
    try:
        yield pool
    finally:
        await pool.stop()


def test_pool_answers_and_raises_query_errors() -> None:
    async def body() -> None:
        async with running_pool() as pool:
            outcome = await pool.run(ASK)
            assert json.loads(outcome.body) == {"head": {}, "boolean": True}
            assert pool.zygote.info["store"] == "memory" and pool.zygote.info["quads"] == 50
            with pytest.raises(SparqlSyntaxError):
                await pool.run(QueryRequest("ASK {", SERIALISERS))
            assert (await pool.run(ASK)).form == "ASK"

    asyncio.run(body())


def test_resident_memory_is_read_in_constant_time() -> None:
    """The per-answer measure reads /proc/self/statm (a few bytes), not smaps_rollup (every mapping)."""
    resident = sparql_zygote.resident_bytes()
    assert resident > 10 * 1024 * 1024  # an interpreter with pyoxigraph loaded
    with open("/proc/self/status") as status:
        rss_kib = next(int(line.split()[1]) for line in status if line.startswith("VmRSS:"))
    assert abs(resident - rss_kib * 1024) < 16 * 1024 * 1024


def _store_files_open(pid: int, store_path: Path) -> bool:
    folder = str(store_path.resolve())
    for fd in os.listdir(f"/proc/{pid}/fd"):
        with contextlib.suppress(OSError):
            if os.readlink(f"/proc/{pid}/fd/{fd}").startswith(folder):
                return True
    return False


def test_workers_answer_from_the_on_disk_store_opened_read_only(tmp_path: Path) -> None:
    """With the map's on-disk store, each worker opens it read-only (the zygote never does: it must stay
    single-threaded to fork safely) and holds no copy of the map; the answers are those of the store."""
    store_path = tmp_path / "store"

    async def body() -> None:
        async with running_pool(workers=2, store_path=store_path) as pool:
            assert pool.zygote.info["store"] == "disk"
            outcome = await pool.run(QueryRequest("SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }",
                                                  SERIALISERS))
            assert json.loads(outcome.body)["results"]["bindings"][0]["n"]["value"] == "50"
            assert pool.zygote.process is not None
            assert not _store_files_open(pool.zygote.process.pid, store_path)
            assert all(_store_files_open(pid, store_path) for pid in pool.worker_pids())
            with pytest.raises(SparqlSyntaxError):
                await pool.run(QueryRequest("ASK {", SERIALISERS))

    asyncio.run(body())


def test_refresh_shows_the_new_version_without_failing_queries(tmp_path: Path) -> None:
    """A write to the map, then ``refresh()``: the workers see it, and queries sent meanwhile are all answered."""
    store_path = tmp_path / "store"
    count = QueryRequest("SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }", SERIALISERS)

    def counted(outcome: sparql_workers.QueryOutcome) -> int:
        return int(json.loads(outcome.body)["results"]["bindings"][0]["n"]["value"])

    async def body(in_memory: bool) -> None:
        async with running_pool(workers=2, store_path=None if in_memory else store_path) as pool:
            before = pool.worker_pids()
            assert counted(await pool.run(count)) == 50
            pool._store.add(ox.Quad(ox.NamedNode("http://example.org/new"), ox.NamedNode("http://example.org/p"),
                                    ox.Literal("new"), ox.NamedNode("http://example.org/g")))
            meanwhile = [asyncio.ensure_future(pool.run(count)) for _ in range(4)]
            await pool.refresh()
            answers = await asyncio.gather(*meanwhile)
            assert all(counted(a) in {50, 51} for a in answers)
            assert counted(await pool.run(count)) == 51
            assert pool.refreshes == 1 and not set(pool.worker_pids()) & set(before)

    asyncio.run(body(in_memory=False))
    asyncio.run(body(in_memory=True))


def test_pool_recycles_a_worker_whose_memory_grew(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sparql_workers, "RECYCLE_MIN_BYTES", 0)  # every worker counts as bloated after a query
    monkeypatch.setattr(sparql_workers, "RECYCLE_SHARE", 0.0)

    async def body() -> None:
        async with running_pool() as pool:
            before = pool.worker_pids()
            await pool.run(ASK)
            for _ in range(100):
                if pool.worker_pids() and pool.worker_pids() != before:
                    break
                await asyncio.sleep(0.02)
            assert pool.recycled == 1 and len(pool.worker_pids()) == 1 and pool.worker_pids() != before
            await asyncio.sleep(0.1)
            assert not process_alive(before[0])
            assert (await pool.run(ASK)).form == "ASK"

    asyncio.run(body())


def test_pool_recovers_when_the_zygote_dies_without_failing_queries() -> None:
    """Issue 9: queries sent after the zygote died (its workers die with it) wait for the new workers; none fails.
    The limit is generous: on a loaded machine the new zygote and its workers can take seconds to start, and what
    is tested is that no query fails, not how fast they come back."""

    async def body() -> None:
        async with running_pool(workers=2, query_timeout=15.0) as pool:
            assert pool.zygote.process is not None
            os.kill(pool.zygote.process.pid, signal.SIGKILL)
            outcomes = await asyncio.gather(*(pool.run(ASK) for _ in range(6)))
            assert [o.form for o in outcomes] == ["ASK"] * 6 and pool.restarts == 1

    asyncio.run(body())


def test_pool_replaces_a_worker_killed_while_idle_without_failing_the_next_query() -> None:
    async def body() -> None:
        async with running_pool(workers=1) as pool:
            (pid,) = pool.worker_pids()
            os.kill(pid, signal.SIGKILL)
            while process_alive(pid):
                await asyncio.sleep(0.01)
            assert (await pool.run(ASK)).form == "ASK"
            assert pool.worker_pids() != [pid]

    asyncio.run(body())


@pytest.mark.parametrize("on_disk", [False, True], ids=["in-memory", "on-disk"])
def test_pool_answers_a_query_that_outgrows_the_memory_limit_with_503(on_disk: bool, tmp_path: Path) -> None:
    """A worker may add ``sparql_worker_memory_mib`` to its address space; a query needing more gets QueryTooBig
    (503) naming the limit, the worker is replaced and the next query is answered."""
    store_path = tmp_path / "store" if on_disk else None
    settings = Settings(sparql_workers=1, query_timeout=30.0, sparql_worker_memory_mib=64)
    big = QueryRequest(
        "SELECT ?x WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l BIND(CONCAT(STR(?a), STR(?d), STR(?g), STR(?j), "
        "STR(?c), STR(?f), STR(?i), STR(?l)) AS ?x) } ORDER BY ?x", SERIALISERS)  # 50^4 rows sorted: ~0.5 GB

    async def body() -> None:
        pool = await _started(WorkerPool(_store(store_path), settings, store_path))
        try:
            (pid,) = pool.worker_pids()
            with pytest.raises(sparql_workers.QueryTooBig, match="more than 64 MiB"):
                await pool.run(big)
            assert not process_alive(pid) or pid not in pool.worker_pids()
            assert (await pool.run(ASK)).form == "ASK"
        finally:
            await pool.stop()

    asyncio.run(body())

    asyncio.run(body())


def test_pool_stop_leaves_no_process() -> None:
    async def body() -> list[int]:
        pool = await _started(WorkerPool(_store(), Settings(sparql_workers=2)))
        assert pool.zygote.process is not None
        pids = [pool.zygote.process.pid, *pool.worker_pids()]
        await pool.stop()
        return pids

    pids = asyncio.run(body())
    deadline = time.monotonic() + 5
    while any(process_alive(pid) for pid in pids) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not any(process_alive(pid) for pid in pids)


def test_pool_stop_while_loading_does_not_wait() -> None:
    """Stopping a server whose workers are still loading kills the loader instead of waiting for the load."""

    async def body() -> WorkerPool:
        pool = WorkerPool(_store(), Settings())
        pool.start()
        while pool.zygote.process is None:  # the loader has been started, and is loading
            await asyncio.sleep(0.01)
        await pool.stop()
        return pool

    pool = asyncio.run(body())
    assert pool.ready_seconds is None and not pool.workers
    assert pool.zygote.process is not None and pool.zygote.process.returncode == -signal.SIGKILL


def _open_descriptors() -> set[str]:
    return set(os.listdir("/proc/self/fd"))


@pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="counts descriptors through /proc")
def test_spawn_on_a_stopped_zygote_leaves_no_socket_open() -> None:
    """A server stopped while its workers are still being forked: the fork request fails and closes its socket pair
    (a leaked end used to surface later as an 'unclosed socket' ResourceWarning in whatever ran at the next GC)."""
    zygote = sparql_workers.ZygoteClient(_store())
    zygote.start()
    zygote.stop()
    before = _open_descriptors()
    with pytest.raises((OSError, sparql_workers.SparqlUnavailable)):
        zygote.spawn()
    assert _open_descriptors() == before


def test_zygote_network_isolation_blocks_connections() -> None:
    """Defence in depth: a process isolated as the zygote isolates itself cannot reach even a local server."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        probe = (
            "import socket, sys\n"
            "from evidencemap.sparql.zygote import isolate_network\n"
            "if not isolate_network(): sys.exit(3)\n"
            f"try: socket.create_connection(('127.0.0.1', {port}), timeout=2)\n"
            "except OSError: sys.exit(0)\n"
            "sys.exit(1)\n"
        )
        code = subprocess.run([sys.executable, "-c", probe], timeout=30).returncode
    if code == 3:
        pytest.skip("this kernel does not let unprivileged processes create namespaces")
    assert code == 0
