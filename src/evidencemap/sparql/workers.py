"""The pool of worker processes that run /sparql queries, seen from the server's event loop.

Neither pyoxigraph nor rdflib can cancel a running query, so a query runs in a worker process and the time limit
is enforced by killing that process (SIGKILL) and forking a fresh one from the zygote
(:mod:`evidencemap.sparql.zygote`). The event loop never blocks: the waits happen in threads, so other requests are
answered while a runaway query burns its worker. See docs/sparql.md for the design and the measurements.
"""

from __future__ import annotations

import asyncio
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
from evidencemap.sparql.execution import QueryFailed, QueryFailure, QueryOutcome, QueryRequest

log = logging.getLogger("evidencemap.sparql")

STARTUP_WAIT = 60.0  # seconds a query waits for the workers of a server that is still starting
# A worker whose private memory passes the zygote's whole resident memory (at least 64 MiB) is replaced by a fresh
# fork after its answer is sent. Reading un-shares the pages of the store a query touches (so a busy worker tends
# towards one private copy of the store, and keeping it is what keeps it fast); more than that is the worker's
# own growth (docs/sparql.md, "Memory").
RECYCLE_SHARE = 1.0
RECYCLE_MIN_BYTES = 64 * 1024 * 1024


class SparqlUnavailable(EvidenceMapError):
    """The workers cannot take the query now (still starting, all busy, or failed to start) (503)."""

    status = 503


@dataclass
class Worker:
    pid: int
    conn: Connection

    def call(self, request: QueryRequest, timeout: float) -> QueryOutcome | QueryFailure | None:
        """Send one query and wait for its answer; None when ``timeout`` passed first. Runs in a thread."""
        self.conn.send(request)
        if not self.conn.poll(timeout):
            return None
        answer: QueryOutcome | QueryFailure = self.conn.recv()
        return answer


class ZygoteClient:
    """The server's handle on the zygote process (:class:`evidencemap.sparql.zygote.Zygote`): start it, ask it to
    fork or kill a worker, stop it."""

    def __init__(self, store: ox.Store) -> None:
        self._store = store
        self._lock = threading.Lock()
        self.process: subprocess.Popen[bytes] | None = None
        self.control: socket.socket | None = None
        self.info: dict[str, object] = {}

    def start(self) -> dict[str, object]:
        """Dump the store, start the zygote on the dump and wait until it has loaded it. Blocking."""
        with tempfile.TemporaryDirectory(prefix="evidencemap-sparql-") as folder:
            dump = Path(folder) / "store.nq"
            self._store.dump(dump, format=ox.RdfFormat.N_QUADS)
            ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
            with theirs:
                self.process = subprocess.Popen(
                    [sys.executable, "-m", "evidencemap.sparql.zygote", "--control", str(theirs.fileno()),
                     "--data", str(dump)],
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

    def kill(self, worker: Worker) -> None:
        worker.conn.close()
        self._command({"op": "kill", "pid": worker.pid})

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
    """``settings.sparql_workers`` workers, each running one query at a time under ``settings.query_timeout``."""

    def __init__(self, store: ox.Store, settings: Settings) -> None:
        self.settings = settings
        self._store = store
        self.zygote = ZygoteClient(store)
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
        self._background: set[asyncio.Task[None]] = set()

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
            self.zygote = ZygoteClient(self._store)
        self._loop = loop
        self._idle = asyncio.Queue()
        self._ready = asyncio.Event()
        self.started_at = time.perf_counter()
        self._startup = loop.create_task(self._start())

    async def _start(self) -> None:
        assert self._idle is not None and self._ready is not None
        try:
            await asyncio.to_thread(self.zygote.start)
            for _ in range(max(1, self.settings.sparql_workers)):
                worker = await asyncio.to_thread(self.zygote.spawn)
                self.workers[worker.pid] = worker
                self._idle.put_nowait(worker)
            self.ready_seconds = time.perf_counter() - self.started_at
            log.info("SPARQL workers ready in %.2f s: %s", self.ready_seconds, self.zygote.info)
        except Exception as exc:
            self.error = str(exc)
            log.exception("SPARQL workers failed to start")
        finally:
            self._ready.set()

    async def stop(self) -> None:
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

    def worker_pids(self) -> list[int]:
        return sorted(self.workers)

    # -- queries ------------------------------------------------------------------------------------------------

    async def run(self, request: QueryRequest) -> QueryOutcome:
        """Run one query in a worker, within the time limit.

        :raises QueryTimeout: when the query ran past ``settings.query_timeout`` (its worker was killed).
        :raises SparqlUnavailable: when no worker could take the query.
        :raises EvidenceMapError: the error the query itself raised (syntax, refused, not acceptable...).
        """
        self.start()
        assert self._ready is not None and self._idle is not None
        try:
            await asyncio.wait_for(self._ready.wait(), STARTUP_WAIT)
        except TimeoutError:
            raise SparqlUnavailable("The SPARQL workers are still loading the map; try again shortly.") from None
        if self.error is not None:
            raise SparqlUnavailable(f"The SPARQL workers could not start: {self.error}")
        limit = self.settings.query_timeout
        try:
            worker = await asyncio.wait_for(self._idle.get(), limit)
        except TimeoutError:
            raise SparqlUnavailable(
                f"All {len(self.workers)} SPARQL workers stayed busy for {limit:g} s; try again shortly."
            ) from None
        started = time.perf_counter()
        answer: QueryOutcome | QueryFailure | None = None
        healthy = False
        try:
            answer = await asyncio.to_thread(worker.call, request, limit)
            healthy = answer is not None
        except (EOFError, OSError):
            answer = QueryFailure("QueryFailed", "The worker running this query stopped unexpectedly "
                                  "(it may have run out of memory).")
        finally:
            if healthy and self._bloated(answer):
                self.recycled += 1
                self._in_background(self._replace(worker))
            elif healthy and worker.pid in self.workers:
                self._idle.put_nowait(worker)
            else:  # timed out, died, or the request was cancelled while the worker was busy: kill it now
                await self._retire(worker)
        if answer is None:
            raise QueryTimeout(
                f"The query ran longer than the {limit:g} s limit and was stopped "
                f"after {time.perf_counter() - started:.1f} s.",
                hint="Make the query more selective (add LIMIT, bind more variables), or start the server with a "
                "longer limit: evidencemap serve --query-timeout SECONDS (or EVIDENCEMAP_QUERY_TIMEOUT).",
            )
        if isinstance(answer, QueryFailure):
            raise answer.exception()
        return answer

    def _bloated(self, answer: QueryOutcome | QueryFailure | None) -> bool:
        if not isinstance(answer, QueryOutcome) or not answer.private_bytes:
            return False
        rss = self.zygote.info.get("rss_bytes", 0)
        zygote_bytes = rss if isinstance(rss, int) else 0
        return answer.private_bytes > max(RECYCLE_MIN_BYTES, RECYCLE_SHARE * zygote_bytes)

    async def _replace(self, worker: Worker) -> None:
        """Kill ``worker`` and fork a fresh one in its place."""
        if await self._retire(worker, refill=False):
            await self._refill(self.zygote)

    async def _retire(self, worker: Worker, *, refill: bool = True) -> bool:
        """SIGKILL ``worker`` (its work stops at once) and, if ``refill``, fork its successor in the background, so
        that the client is answered without waiting for the fork. False when the zygote is gone (restarting)."""
        if self.workers.pop(worker.pid, None) is None:
            return False  # already gone with a restart
        zygote = self.zygote
        try:
            await asyncio.to_thread(zygote.kill, worker)
        except (OSError, EvidenceMapError) as exc:
            log.error("could not stop SPARQL worker %s: %s", worker.pid, exc)
            self._schedule_restart(zygote)
            return False
        if refill:
            self._in_background(self._refill(zygote))
        return True

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
            worker.conn.close()
        self.workers.clear()
        await asyncio.to_thread(failed.stop, at_once=True)
        self.zygote = ZygoteClient(self._store)
        self._idle = asyncio.Queue()
        self.error = None
        assert self._ready is not None
        self.started_at = time.perf_counter()
        self._startup = asyncio.get_running_loop().create_task(self._start())
        await self._startup

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


__all__ = ["QueryFailed", "SparqlUnavailable", "WorkerPool", "process_alive"]
