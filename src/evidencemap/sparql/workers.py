"""The pool of worker processes that run /sparql queries, seen from the server's event loop.

Neither pyoxigraph nor rdflib can cancel a running query, so a query runs in a worker process and the time limit
is enforced by killing that process (SIGKILL) and forking a fresh one from the zygote
(:mod:`evidencemap.sparql.zygote`). The event loop never blocks: the waits happen in threads, so other requests are
answered while a runaway query burns its worker. See docs/sparql.md for the design and the measurements.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import json
import logging
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import weakref
from collections.abc import Coroutine
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path

import pyoxigraph as ox

from evidencemap.errors import EvidenceMapError, QueryTimeout
from evidencemap.settings import Settings
from evidencemap.sparql.execution import OUT_OF_MEMORY, QueryFailed, QueryFailure, QueryOutcome, QueryRequest

log = logging.getLogger("evidencemap.sparql")

STARTUP_WAIT = 60.0  # seconds a query waits for the workers of a server that is still starting
# A worker whose resident memory grew, since it was ready, by more than the zygote's whole resident memory (at least
# 64 MiB) is replaced by a fresh fork after its answer is sent: that growth is what its queries allocated and kept
# (docs/sparql.md, "Memory"). The workers' hard limit is their address-space cap (sandbox.limit_memory).
RECYCLE_SHARE = 1.0
RECYCLE_MIN_BYTES = 64 * 1024 * 1024


ATTEMPTS = 3  # workers a query is offered to when the ones it is given turn out to have died while idle
# How a worker that ran out of its memory limit ends: Rust aborts on a failed allocation; the kernel's OOM killer
# sends SIGKILL.
MEMORY_DEATHS = {"signal 6", "signal 9"}
WORKER_DIED = "the worker died"  # the failure recorded when a worker's connection ended mid-query


class SparqlUnavailable(EvidenceMapError):
    """The workers cannot take the query now (still starting, all busy, or failed to start) (503)."""

    status = 503


class QueryTooBig(SparqlUnavailable):
    """The query needed more memory than a worker may take (503; its worker was replaced)."""


class WorkerGone(Exception):
    """The worker given a query had died before the query was sent (nothing ran): offer it to another."""


@dataclass
class Worker:
    pid: int
    conn: Connection
    # A thread is waiting on ``conn`` (WorkerPool.run): only that request may close it. Closed under a thread's
    # poll, its descriptor could be reused by a new socket at once, and the poll would wait on that one until the
    # time limit (a query failed as timed out after its zygote died, seen under load).
    busy: bool = False

    def close_unless_busy(self) -> None:
        if not self.busy:
            self.conn.close()

    def call(self, request: QueryRequest, deadline: float) -> QueryOutcome | QueryFailure | None:
        """Send one query and wait for its answer until ``deadline`` (``time.monotonic()``); None when it passed
        first. Runs in a thread.

        :raises WorkerGone: the worker had died while idle (an idle worker never writes, so a readable connection
            means end of file); nothing was sent.
        :raises EOFError: the worker died while running the query.
        """
        try:
            if self.conn.poll(0):
                raise WorkerGone(self.pid)
            self.conn.send(request)
        except OSError:
            raise WorkerGone(self.pid) from None
        if not self.conn.poll(max(0.0, deadline - time.monotonic())):
            return None
        answer: QueryOutcome | QueryFailure = self.conn.recv()
        return answer


class ZygoteClient:
    """The server's handle on the zygote process (:class:`evidencemap.sparql.zygote.Zygote`): start it, ask it to
    fork or kill a worker, stop it."""

    def __init__(self, store: ox.Store, settings: Settings | None = None, store_path: Path | None = None) -> None:
        self._store = store
        self._store_path = store_path
        self._settings = settings or Settings()
        self._lock = threading.Lock()
        self.process: subprocess.Popen[bytes] | None = None
        self.control: socket.socket | None = None
        self.info: dict[str, object] = {}

    def start(self) -> dict[str, object]:
        """Start the zygote on the on-disk store (its workers open it read-only), or on a dump of the store it loads
        into memory, and wait until it is ready. Blocking."""
        with tempfile.TemporaryDirectory(prefix="evidencemap-sparql-") as folder:
            if self._store_path is not None:
                source = ["--store", str(self._store_path)]
            else:
                dump = Path(folder) / "store.nq"
                self._store.dump(dump, format=ox.RdfFormat.N_QUADS)
                source = ["--data", str(dump)]
            ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
            with theirs:
                options = ["--memory-mib", str(self._settings.sparql_worker_memory_mib)]
                if not self._settings.sparql_network_namespace:
                    options.append("--no-network-namespace")
                self.process = subprocess.Popen(
                    [sys.executable, "-m", "evidencemap.sparql.zygote", "--control", str(theirs.fileno()),
                     *source, *options],
                    pass_fds=[theirs.fileno()],
                    stdin=subprocess.DEVNULL,
                )
            self.control = ours
            weakref.finalize(self, _terminate, self.process, ours)
            message = ours.recv(4096)  # the zygote's report once loaded; b"" when it died (or was stopped)
        self.info = json.loads(message) if message else {"error": "the process loading the store exited"}
        if "error" in self.info:
            raise SparqlUnavailable(f"The SPARQL workers could not start: {self.info['error']}")
        return self.info

    def spawn(self) -> Worker:
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            with theirs:
                reply = self._command({"op": "spawn"}, fds=[theirs.fileno()])
        except BaseException:
            # The zygote stopped under us (the server is shutting down while still starting, or it died): our end
            # of the pair would otherwise stay open until garbage collection.
            ours.close()
            raise
        pid = reply["pid"]
        assert isinstance(pid, int)  # the zygote answers a spawn with the worker's process id
        return Worker(pid, Connection(ours.detach()))

    def kill(self, worker: Worker, *, died: bool = False) -> str | None:
        """SIGKILL ``worker``; how it had ended by itself before (``"signal 6"``...), or None if it was running.
        ``died``: its connection ended mid-query, so it is ending by itself: the zygote waits for its end to say how
        (its socket closes a moment before the kernel reports how it ended)."""
        worker.conn.close()
        ended = self._command({"op": "kill", "pid": worker.pid, "wait": died}).get("ended")
        return ended if isinstance(ended, str) else None

    def stop(self, *, at_once: bool = False) -> None:
        """Stop the zygote and its workers; ``at_once`` kills it (used when it is still loading the store)."""
        if self.process is not None and self.control is not None:
            if at_once:
                self.process.kill()
            _terminate(self.process, self.control)

    def _command(self, payload: dict[str, object], fds: list[int] | None = None) -> dict[str, object]:
        if self.control is None:
            raise SparqlUnavailable("The SPARQL workers are not running.")
        with self._lock:
            socket.send_fds(self.control, [json.dumps(payload).encode()], fds or [])
            reply = self.control.recv(4096)
        if not reply:
            raise SparqlUnavailable("The SPARQL worker process manager stopped; restart the server.")
        answer: dict[str, object] = json.loads(reply)
        return answer


def _terminate(process: subprocess.Popen[bytes], control: socket.socket) -> None:
    """Close the control socket (the zygote then kills its workers and exits) and wait for it."""
    with contextlib.suppress(OSError):
        control.close()
    try:
        process.wait(timeout=5)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


class WorkerPool:
    """``settings.sparql_workers`` workers, each running one query at a time under ``settings.query_timeout``.

    With ``store_path`` (the map's on-disk store, graph/persistence.py) every worker opens that store read-only: the
    map is held once, in the operating system's page cache, and the workers are ready as soon as they are forked.
    Without it, the zygote loads a copy of ``store`` into memory and the workers share it copy-on-write.

    When the map changes (a write of the living map), :meth:`refresh` gives the pool workers that see the new
    version; no query is failed by it.
    """

    def __init__(self, store: ox.Store, settings: Settings, store_path: Path | None = None) -> None:
        self.settings = settings
        self._store = store
        self.store_path = store_path
        self.zygote = ZygoteClient(store, settings, store_path)
        # The threads that wait on workers: one per worker and some spare, so that a wait never queues behind
        # others (the default executor has min(32, CPUs + 4) threads: with more workers, a query's time limit
        # would start late).
        self._waiters = self._new_waiters()
        self.workers: dict[int, Worker] = {}
        self._idle: asyncio.Queue[Worker] | None = None
        self._ready: asyncio.Event | None = None
        self._startup: asyncio.Task[None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self.error: str | None = None
        self.started_at = 0.0
        self.ready_seconds: float | None = None
        self.recycled = 0
        self.restarts = 0
        self.refreshes = 0
        self._background: set[asyncio.Task[None]] = set()
        self._stopping = False

    # -- life cycle ---------------------------------------------------------------------------------------------

    def start(self) -> None:
        """Begin starting the workers in the background (the server answers other requests meanwhile)."""
        loop = asyncio.get_running_loop()
        if self._startup is not None and self._loop is loop:
            return
        if self._startup is not None:
            # Another event loop: the app is served without its lifespan (a TestClient outside ``with`` runs each
            # request in a loop of its own). The old loop's workers cannot be awaited from here; start over.
            for worker in self.workers.values():
                worker.conn.close()
            self.workers.clear()
            self.zygote.stop(at_once=True)
            self.zygote = ZygoteClient(self._store, self.settings, self.store_path)
        self._loop = loop
        self._stopping = False
        self._waiters.shutdown(wait=False)
        self._waiters = self._new_waiters()
        self._idle = asyncio.Queue()
        self._ready = asyncio.Event()
        self.started_at = time.perf_counter()
        self._startup = loop.create_task(self._start())

    async def _start(self) -> None:
        assert self._idle is not None and self._ready is not None
        zygote = self.zygote
        try:
            await asyncio.to_thread(zygote.start)
            self._check_isolation(zygote.info)
            for _ in range(max(1, self.settings.sparql_workers)):
                worker = await asyncio.to_thread(zygote.spawn)
                self.workers[worker.pid] = worker
                self._idle.put_nowait(worker)
            self.ready_seconds = time.perf_counter() - self.started_at
            log.info("SPARQL workers ready in %.2f s: %s", self.ready_seconds, zygote.info)
            self._watch(zygote)
        except SparqlUnavailable as exc:
            self.error = exc.message
            log.warning("%s", exc.message)
            await asyncio.to_thread(zygote.stop, at_once=True)
        except Exception as exc:
            self.error = str(exc)
            log.exception("SPARQL workers failed to start")
        finally:
            self._ready.set()

    def _check_isolation(self, info: dict[str, object]) -> None:
        """Fail closed: without the seccomp filter and without a network namespace /sparql does not start, unless
        ``sparql_allow_unisolated``; a missing defence is logged at WARNING either way."""
        seccomp, namespace = bool(info.get("seccomp")), bool(info.get("isolated"))
        if seccomp and namespace:
            return
        missing = " and ".join(name for name, on in (("the seccomp filter", seccomp),
                                                        ("a network namespace", namespace)) if not on)
        if seccomp or namespace:
            log.warning("SPARQL workers run without %s (isolated: %s, seccomp: %s); the other defence keeps them "
                        "off the network.", missing, namespace, seccomp)
            return
        if self.settings.sparql_allow_unisolated:
            log.warning("SPARQL workers are NOT isolated from the network (no seccomp filter, no network "
                        "namespace); serving /sparql anyway because sparql_allow_unisolated is set.")
            return
        raise SparqlUnavailable(
            "The SPARQL workers could not be kept off the network (no seccomp filter on this platform, no network "
            "namespace allowed), so /sparql is off. Set EVIDENCEMAP_SPARQL_ALLOW_UNISOLATED=true to serve it anyway."
        )

    def _watch(self, zygote: ZygoteClient) -> None:
        """Start a new zygote as soon as this one dies (killed by hand, out of memory), not at the next query. The
        wait runs in a daemon thread of its own: an event loop's executor would keep that loop from closing."""
        process = zygote.process
        if process is None:
            return
        loop = asyncio.get_running_loop()

        def wait() -> None:
            process.wait()
            if zygote is self.zygote and not self._stopping and not loop.is_closed():
                with contextlib.suppress(RuntimeError):  # the loop closed meanwhile
                    loop.call_soon_threadsafe(self._zygote_died, zygote)

        threading.Thread(target=wait, name=f"sparql-zygote-{process.pid}", daemon=True).start()

    def _zygote_died(self, zygote: ZygoteClient) -> None:
        if zygote is self.zygote and not self._stopping:
            process = zygote.process
            log.warning("the SPARQL worker process manager (pid %s) ended (%s); starting a new one",
                        process.pid if process else "?", process.returncode if process else "?")
            self._schedule_restart(zygote)

    async def stop(self) -> None:
        self._stopping = True
        for task in list(self._background):  # forks, recycling, a restart: none is needed any more
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        starting = self._startup is not None and not self._startup.done()
        if starting:  # do not make the server wait for a load it no longer needs
            assert self._startup is not None
            self._startup.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._startup
        for worker in self.workers.values():
            worker.conn.close()
        self.workers.clear()
        await asyncio.to_thread(self.zygote.stop, at_once=starting)
        self._waiters.shutdown(wait=False, cancel_futures=True)

    def _new_waiters(self) -> concurrent.futures.ThreadPoolExecutor:
        return concurrent.futures.ThreadPoolExecutor(max(1, self.settings.sparql_workers) + 4,
                                                     thread_name_prefix="sparql-wait")

    def worker_pids(self) -> list[int]:
        return sorted(self.workers)

    # -- queries ------------------------------------------------------------------------------------------------

    async def run(self, request: QueryRequest) -> QueryOutcome:
        """Run one query in a worker, within the time limit.

        :raises QueryTimeout: when the query ran past ``settings.query_timeout`` (its worker was killed).
        :raises QueryTooBig: when the query needed more than the worker's memory limit (its worker was replaced).
        :raises SparqlUnavailable: when no worker could take the query.
        :raises EvidenceMapError: the error the query itself raised (syntax, refused, not acceptable...).
        """
        self.start()
        limit = self.settings.query_timeout
        for _ in range(ATTEMPTS):
            worker = await self._take_worker()
            started = time.perf_counter()
            deadline = time.monotonic() + limit  # set before the wait is handed to a thread: it cannot start late
            answer: QueryOutcome | QueryFailure | None = None
            healthy = False
            died = False
            ended: str | None = None
            worker.busy = True
            try:
                answer = await asyncio.get_running_loop().run_in_executor(self._waiters, worker.call, request,
                                                                          deadline)
                healthy = answer is not None
            except WorkerGone:
                continue  # died while idle (the finally below retires it): nothing ran; take another
            except (EOFError, OSError):
                answer = QueryFailure("QueryFailed", WORKER_DIED)
                died = True
            finally:
                worker.busy = False
                if healthy and self._bloated(answer):
                    self.recycled += 1
                    self._in_background(self._replace(worker))
                elif healthy and worker.pid in self.workers:
                    assert self._idle is not None
                    self._idle.put_nowait(worker)
                elif healthy:  # its zygote was replaced while it answered (a restart or a refresh): dropped
                    worker.conn.close()
                elif not healthy:  # timed out, died, or the request was cancelled while the worker was busy
                    ended = await self._retire(worker, died=died)
            if answer is None:
                raise QueryTimeout(
                    f"The query ran longer than the {limit:g} s limit and was stopped "
                    f"after {time.perf_counter() - started:.1f} s.",
                    hint="Make the query more selective (add LIMIT, bind more variables), or start the server with "
                    "a longer limit: evidencemap serve --query-timeout SECONDS (or EVIDENCEMAP_QUERY_TIMEOUT).",
                )
            if isinstance(answer, QueryFailure):
                if answer.message == WORKER_DIED and ended == "gone":
                    continue  # the worker died with its zygote, not of this query: the new workers will run it
                if answer.message == OUT_OF_MEMORY or (answer.message == WORKER_DIED and ended in MEMORY_DEATHS):
                    raise self._too_big()
                if answer.message == WORKER_DIED:
                    raise SparqlUnavailable(
                        f"The worker running this query stopped unexpectedly ({ended or 'cause unknown'}); it has "
                        "been replaced.", hint="Try again; if it happens again, the query is what stops it.")
                raise answer.exception()
            return answer
        raise SparqlUnavailable("The SPARQL workers are being replaced; try again shortly.")

    def _too_big(self) -> QueryTooBig:
        mib = self.settings.sparql_worker_memory_mib
        return QueryTooBig(
            f"The query needed more than {mib:,} MiB of memory and was stopped; its worker was replaced.",
            hint="Make the query more selective (fewer solutions to sort or group, a LIMIT), or raise "
            "EVIDENCEMAP_SPARQL_WORKER_MEMORY_MIB.",
        )

    async def _take_worker(self) -> Worker:
        """An idle worker of the current zygote, waiting for one up to ``query_timeout`` seconds (longer while the
        workers are being started or replaced: a request waits for them rather than failing)."""
        assert self._ready is not None and self._idle is not None
        loop = asyncio.get_running_loop()
        limit = self.settings.query_timeout
        deadline = loop.time() + limit
        while True:
            if not self._ready.is_set():
                try:
                    await asyncio.wait_for(self._ready.wait(), STARTUP_WAIT)
                except TimeoutError:
                    raise SparqlUnavailable("The SPARQL workers are still loading the map; try again shortly.") \
                        from None
                deadline = max(deadline, loop.time() + limit)
            if self.error is not None:
                raise SparqlUnavailable(f"The SPARQL workers could not start: {self.error}")
            try:
                worker = await asyncio.wait_for(self._idle.get(), max(0.0, deadline - loop.time()))
            except TimeoutError:
                if not self._ready.is_set():
                    continue
                raise SparqlUnavailable(
                    f"Every SPARQL worker ({self.settings.sparql_workers}) stayed busy for {limit:g} s; "
                    "try again shortly."
                ) from None
            if worker.pid in self.workers:
                return worker
            worker.conn.close()  # a worker of a zygote that has been replaced: it died with it

    def _bloated(self, answer: QueryOutcome | QueryFailure | None) -> bool:
        if not isinstance(answer, QueryOutcome) or not answer.private_bytes:
            return False
        rss = self.zygote.info.get("rss_bytes", 0)
        zygote_bytes = rss if isinstance(rss, int) else 0
        return answer.private_bytes >= max(RECYCLE_MIN_BYTES, RECYCLE_SHARE * zygote_bytes)

    async def _replace(self, worker: Worker) -> None:
        """Kill ``worker`` and fork a fresh one in its place."""
        if await self._retire(worker, refill=False) != "gone":
            await self._refill(self.zygote)

    async def _retire(self, worker: Worker, *, refill: bool = True, died: bool = False) -> str | None:
        """SIGKILL ``worker`` (its work stops at once) and, if ``refill``, fork its successor in the background, so
        that the client is answered without waiting for the fork. Returns how the worker had ended by itself
        (``"signal 6"``...), ``"gone"`` when the zygote is gone (restarting), None when it was still running."""
        if self.workers.pop(worker.pid, None) is None:
            worker.conn.close()
            return "gone"  # already gone with a restart
        zygote = self.zygote
        try:
            ended = await asyncio.to_thread(zygote.kill, worker, died=died)
        except (OSError, EvidenceMapError) as exc:
            log.error("could not stop SPARQL worker %s: %s", worker.pid, exc)
            self._schedule_restart(zygote)
            return "gone"
        if refill:
            self._in_background(self._refill(zygote))
        return ended

    async def _refill(self, zygote: ZygoteClient) -> None:
        assert self._idle is not None
        try:
            fresh = await asyncio.to_thread(zygote.spawn)
        except (OSError, EvidenceMapError) as exc:
            log.error("could not start a SPARQL worker: %s", exc)
            self._schedule_restart(zygote)
            return
        if zygote is not self.zygote:  # a restart happened meanwhile; the worker died with its zygote
            fresh.conn.close()
            return
        self.workers[fresh.pid] = fresh
        self._idle.put_nowait(fresh)

    def _schedule_restart(self, failed: ZygoteClient) -> None:
        if failed is self.zygote and self._ready is not None and self._ready.is_set():
            self._ready.clear()  # queries wait for the new workers instead of failing
            self._in_background(self._restart(failed))

    async def _restart(self, failed: ZygoteClient) -> None:
        """Start over with a new zygote (the old one died: out of memory, killed by hand...)."""
        self.restarts += 1
        for worker in self.workers.values():
            worker.close_unless_busy()
        self.workers.clear()
        await asyncio.to_thread(failed.stop, at_once=True)
        # The idle queue stays: requests already waiting on it get the new workers (they skip the dead ones).
        self.zygote = ZygoteClient(self._store, self.settings, self.store_path)
        self.error = None
        assert self._ready is not None
        self.started_at = time.perf_counter()
        self._startup = asyncio.get_running_loop().create_task(self._start())
        await self._startup

    # -- a new version of the map -----------------------------------------------------------------------------

    async def refresh(self) -> None:
        """Give the pool workers that see the map as it is now; call it after every change to the store.

        With an on-disk store, the store is flushed (so that what was written is in its files) and a new zygote
        forks workers that open it afresh; with an in-memory copy, a new zygote loads a new dump of the store. The
        old workers answer until the new ones are ready; then queries go to the new ones, a query running on an
        old worker finishes there (its worker is stopped after the time limit at the latest), and a query waiting
        for a worker waits for a new one: no query is failed by a refresh. Returns when the new workers are ready
        (or have failed to start: then :attr:`error` says why, and queries get 503 as at a failed start).
        """
        if self._startup is None or self._ready is None or self._idle is None:
            return  # never started: the workers started later see the store as it is then
        if self.store_path is not None:
            await asyncio.to_thread(self._store.flush)
        await self._ready.wait()
        old, old_workers = self.zygote, dict(self.workers)
        fresh = ZygoteClient(self._store, self.settings, self.store_path)
        try:
            await asyncio.to_thread(fresh.start)
            self._check_isolation(fresh.info)
            spawned = [await asyncio.to_thread(fresh.spawn) for _ in range(max(1, self.settings.sparql_workers))]
        except (OSError, EvidenceMapError) as exc:
            await asyncio.to_thread(fresh.stop, at_once=True)
            self.error = exc.message if isinstance(exc, EvidenceMapError) else str(exc)
            log.error("the SPARQL workers could not be refreshed: %s", self.error)
            return
        self.zygote = fresh
        self.workers = {worker.pid: worker for worker in spawned}
        for worker in spawned:
            self._idle.put_nowait(worker)  # old idle workers still queued are skipped and closed by _take_worker
        self.refreshes += 1
        self._watch(fresh)
        self._in_background(self._stop_later(old, old_workers))

    async def _stop_later(self, zygote: ZygoteClient, workers: dict[int, Worker]) -> None:
        """Stop a replaced zygote once the queries its workers were running are done (the time limit at most)."""
        try:
            await asyncio.sleep(self.settings.query_timeout + 1)
        finally:  # also when the pool stops meanwhile: the old zygote and its workers end with it
            for worker in workers.values():
                worker.close_unless_busy()
            zygote.stop()

    def _in_background(self, work: Coroutine[object, object, None]) -> None:
        task = asyncio.get_running_loop().create_task(work)
        self._background.add(task)
        task.add_done_callback(self._background.discard)


def process_alive(pid: int) -> bool:
    """Whether a process with this id exists (and is not a zombie); for tests and diagnostics."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (FileNotFoundError, ProcessLookupError):
        return False
    except OSError:
        return os.path.exists(f"/proc/{pid}")


__all__ = ["QueryFailed", "QueryTooBig", "SparqlUnavailable", "WorkerPool", "process_alive"]
