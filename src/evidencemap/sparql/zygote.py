"""The process that forks the /sparql workers (see docs/sparql.md), each with the store to answer from.

Started by :class:`evidencemap.sparql.workers.WorkerPool` as a fresh interpreter, in one of two ways:

- ``--store PATH`` (the default when the map has an on-disk store, graph/persistence.py): each worker opens the
  on-disk store read-only itself, right after the fork (RocksDB starts threads when a store is opened, and a process
  with threads must not fork). The store's files are in the operating system's page cache, shared by every process
  that reads them, so no worker holds a copy of the map; a fork and an open take tens of milliseconds.
- ``--data DUMP``: the zygote loads an N-Quads dump into an in-memory store, and each worker is a copy-on-write child
  sharing it (queries several times faster than on disk; each worker that reads much tends towards a copy).

Either way the zygote stays single-threaded, so forking it is safe. rdflib's SPARQL parser, needed only to read a
query the engine rejected or the scan could not decide, is imported by a worker when it first needs it (about
0.25 s once, outside that reading's CPU budget), not by the zygote: /sparql is ready that much sooner at a start.
The server kills a worker that runs past the time limit (SIGKILL, through this process, which reaps
it) and asks for a new one; the work of the query really stops.

Control messages are JSON datagrams on a ``SOCK_SEQPACKET`` socket: ``{"op": "spawn"}`` carrying the worker's end
of a socket pair (SCM_RIGHTS) answered by ``{"pid": N}``; ``{"op": "kill", "pid": N}`` answered by
``{"killed": N, "ended": HOW}``, where HOW says how the worker had ended before it was killed (``"signal 6"``,
``"exit 1"``) or is null when it was still running. End of file on the control socket (the server stopped or
died) kills every worker and exits.

Defence in depth (:mod:`evidencemap.sparql.sandbox`): before loading anything the process moves into new, empty
user and network namespaces when the kernel allows it, and installs a seccomp filter that denies every network
socket, so neither it nor its workers can open a network connection even if a query got past the guard. Each
worker caps its own address space (``--memory-mib`` beyond its size once forked and its store opened).
"""

from __future__ import annotations

import argparse
import ctypes
import dataclasses
import json
import logging
import os
import select
import signal
import socket
import sys
import time
from multiprocessing.connection import Connection

import pyoxigraph as ox

from evidencemap.sparql.execution import QueryOutcome, run_query_safely
from evidencemap.sparql.sandbox import deny_network, isolate_network, limit_memory

log = logging.getLogger("evidencemap.sparql")

PR_SET_PDEATHSIG = 1


def _die_with_parent(parent: int) -> None:
    """Be killed when the zygote dies, even if it died before this was set (then the parent is already another)."""
    if sys.platform.startswith("linux"):
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:
        os._exit(1)


PAGE_SIZE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


def resident_bytes() -> int:
    """This process's resident memory, from ``/proc/self/statm``: one short read, whatever the size of the store
    (``/proc/self/smaps_rollup`` walks every mapping: 40-80 ms per answer at 100,000 studies); 0 if unknown."""
    try:
        with open("/proc/self/statm", "rb") as statm:
            return int(statm.read().split()[1]) * PAGE_SIZE
    except (OSError, ValueError, IndexError):
        return 0


def open_read_only(path: str) -> ox.Store:
    """The on-disk store at ``path``, read-only (a worker never writes)."""
    return ox.Store.read_only(path)


def _worker(fd: int, store: ox.Store | None, store_path: str | None, control: socket.socket, parent: int,
            memory_bytes_allowed: int) -> None:
    """The forked worker: open the on-disk store if it has none in memory, then answer queries on ``fd`` until the
    server closes it. Each answer carries how much the worker's resident memory grew since it was ready (its own
    growth: what queries allocated and kept), from which the server decides to replace it."""
    control.close()
    _die_with_parent(parent)
    if store is None:
        assert store_path is not None  # one of the two is given
        store = open_read_only(store_path)
    limit_memory(memory_bytes_allowed)  # after the store is open: the budget is what queries may add
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C in a terminal reaches the whole group; the server decides
    conn = Connection(fd)
    baseline = resident_bytes()
    while True:
        try:
            request = conn.recv()
        except (EOFError, OSError):
            os._exit(0)
        answer = run_query_safely(store, request)
        if isinstance(answer, QueryOutcome):
            answer = dataclasses.replace(answer, private_bytes=max(0, resident_bytes() - baseline))
        conn.send(answer)


class Zygote:
    """The zygote process itself: holds the store, forks a worker or kills one on the server's command (the server
    speaks to it through :class:`evidencemap.sparql.workers.ZygoteClient`)."""

    def __init__(self, control: socket.socket, store: ox.Store | None, memory_bytes_allowed: int = 0,
                 store_path: str | None = None) -> None:
        self.control = control
        self.store = store  # in memory, shared with every worker; None: each worker opens store_path
        self.store_path = store_path
        self.memory_bytes_allowed = memory_bytes_allowed
        self.children: set[int] = set()
        self.ended: dict[int, str] = {}  # how each reaped worker ended, until the server asks

    def serve(self) -> None:
        while True:
            readable, _, _ = select.select([self.control], [], [], 0.2 if self.children else 1.0)
            self._reap()
            if not readable:
                continue
            message, fds, _, _ = socket.recv_fds(self.control, 4096, 1)
            if not message:
                self._shutdown()
                return
            command = json.loads(message)
            if command["op"] == "spawn":
                self._reply({"pid": self._spawn(fds[0])})
            elif command["op"] == "kill":
                pid = int(command["pid"])
                self._reap()
                ended = self.ended.pop(pid, None)
                if ended is None and command.get("wait") and pid in self.children:
                    ended = self._end(pid)
                else:
                    self._kill(pid)
                self._reply({"killed": pid, "ended": ended})

    def _spawn(self, fd: int) -> int:
        parent = os.getpid()
        pid = os.fork()
        if pid == 0:
            try:
                _worker(fd, self.store, self.store_path, self.control, parent, self.memory_bytes_allowed)
            finally:
                os._exit(1)
        os.close(fd)
        self.children.add(pid)
        return pid

    def _kill(self, pid: int, *, wait: bool = False) -> None:
        """SIGKILL a worker: it computes no more from the moment the signal is delivered. Reaping it (the kernel
        tearing down a big process can take a while) happens in :meth:`_reap`, unless ``wait``."""
        if pid not in self.children:
            return
        try:
            os.kill(pid, signal.SIGKILL)
            if wait:
                os.waitpid(pid, 0)
                self.children.discard(pid)
        except (ProcessLookupError, ChildProcessError):
            self.children.discard(pid)

    def _end(self, pid: int) -> str | None:
        """SIGKILL a worker that was ending by itself and wait for it: how it ended (``"signal 6"`` when it aborted on
        its memory limit), or None when it was still running and the SIGKILL ended it."""
        try:
            os.kill(pid, signal.SIGKILL)
            _, status = os.waitpid(pid, 0)
        except (ProcessLookupError, ChildProcessError):
            return None
        finally:
            self.children.discard(pid)
        how = describe_status(status)
        return None if how == f"signal {signal.SIGKILL.value}" else how

    def _reap(self) -> None:
        for pid in list(self.children):
            try:
                done, status = os.waitpid(pid, os.WNOHANG)
            except ChildProcessError:
                done, status = pid, 0
            if done:
                self.children.discard(pid)
                self.ended[pid] = describe_status(status)
        while len(self.ended) > 1000:  # statuses the server never asked for (workers killed on its command)
            self.ended.pop(next(iter(self.ended)))

    def _shutdown(self) -> None:
        for pid in list(self.children):
            self._kill(pid, wait=True)

    def _reply(self, payload: dict[str, object]) -> None:
        self.control.send(json.dumps(payload).encode())


def describe_status(status: int) -> str:
    """A wait status as ``signal N`` or ``exit N``."""
    if os.WIFSIGNALED(status):
        return f"signal {os.WTERMSIG(status)}"
    return f"exit {os.waitstatus_to_exitcode(status)}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--control", type=int, required=True, help="inherited control socket (SOCK_SEQPACKET)")
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--data", help="N-Quads dump loaded into memory and shared with the workers")
    source.add_argument("--store", help="on-disk store each worker opens read-only")
    parser.add_argument("--memory-mib", type=int, default=0, help="address space each worker may add (0: no cap)")
    parser.add_argument("--no-network-namespace", action="store_true",
                        help="skip the network namespace (the seccomp filter still applies)")
    args = parser.parse_args(argv)
    control = socket.socket(fileno=args.control)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    isolated = False if args.no_network_namespace else isolate_network()
    seccomp = deny_network()
    started = time.perf_counter()
    report: dict[str, object]
    store: ox.Store | None = None
    try:
        if args.store:
            check_store(args.store)
        else:
            store = ox.Store()
            store.bulk_load(path=args.data, format=ox.RdfFormat.N_QUADS)
    except Exception as exc:  # reported to the server, which answers 503 with it
        report = {"error": f"{type(exc).__name__}: {exc}"}
    else:
        report = {"ready": True, "quads": len(store) if store is not None else None,
                  "store": "disk" if store is None else "memory", "seconds": time.perf_counter() - started,
                  "isolated": isolated, "seccomp": seccomp, "rss_bytes": resident_bytes(),
                  "memory_limit_mib": args.memory_mib}
    try:
        control.send(json.dumps(report).encode())
    except OSError:  # the server stopped while the store was loading
        return 1
    if "error" in report:
        return 1
    Zygote(control, store, args.memory_mib * 1024 * 1024, store_path=args.store).serve()
    return 0


def check_store(path: str) -> None:
    """Open the on-disk store read-only and run a query in a child process (the zygote itself must not open it: it
    would start RocksDB's threads here); raises OSError with the child's message when that fails."""
    reader, writer = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(reader)
        try:
            bool(open_read_only(path).query("ASK { ?s ?p ?o }"))
        except BaseException as exc:
            os.write(writer, f"{type(exc).__name__}: {exc}".encode()[:4000])
            os._exit(1)
        os._exit(0)
    os.close(writer)
    with os.fdopen(reader, "rb") as pipe:
        message = pipe.read().decode(errors="replace")
    _, status = os.waitpid(pid, 0)
    if status != 0:
        raise OSError(f"cannot open the store {path}: {message or describe_status(status)}")


if __name__ == "__main__":
    sys.exit(main())
