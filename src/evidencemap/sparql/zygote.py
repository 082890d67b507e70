"""The process that owns a copy of the store and forks the /sparql workers from it (see docs/sparql.md).

Started by :class:`evidencemap.sparql.workers.WorkerPool` as a fresh interpreter
(``python -m evidencemap.sparql.zygote --control FD --data DUMP``), it stays single-threaded, so forking it is safe:
each worker is a copy-on-write child that shares the loaded store and the warmed-up SPARQL parser, and starts in
milliseconds. The server kills a worker that runs past the time limit (SIGKILL, through this process, which reaps
it) and asks for a new one; the work of the query really stops.

Control messages are JSON datagrams on a ``SOCK_SEQPACKET`` socket: ``{"op": "spawn"}`` carrying the worker's end
of a socket pair (SCM_RIGHTS) answered by ``{"pid": N}``; ``{"op": "kill", "pid": N}`` answered by
``{"killed": N, "ended": HOW}``, where HOW says how the worker had ended before it was killed (``"signal 6"``,
``"exit 1"``) or is null when it was still running. End of file on the control socket (the server stopped or
died) kills every worker and exits.

Defence in depth (:mod:`evidencemap.sparql.sandbox`): before loading anything the process moves into new, empty
user and network namespaces when the kernel allows it, and installs a seccomp filter that denies every network
socket, so neither it nor its workers can open a network connection even if a query got past the guard. Each
worker caps its own address space (``--memory-mib`` beyond its size when forked).
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
from evidencemap.sparql.guard import inspect_query
from evidencemap.sparql.sandbox import deny_network, isolate_network, limit_memory

log = logging.getLogger("evidencemap.sparql")

PR_SET_PDEATHSIG = 1


def _die_with_parent(parent: int) -> None:
    """Be killed when the zygote dies, even if it died before this was set (then the parent is already another)."""
    if sys.platform.startswith("linux"):
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:
        os._exit(1)


def memory_bytes(kind: str) -> int:
    """This process's resident (``Rss``) or private (``Private``: not shared with the zygote) memory; 0 if unknown.

    Reading pyoxigraph's in-memory store updates reference counts next to the data, so the pages a query touches
    stop being shared with the zygote; the server replaces a worker whose private memory has grown too much.
    """
    total = 0
    try:
        with open("/proc/self/smaps_rollup") as rollup:
            for line in rollup:
                name, _, rest = line.partition(":")
                if name == kind or (kind == "Private" and name in {"Private_Clean", "Private_Dirty"}):
                    total += int(rest.split()[0]) * 1024
    except OSError:
        return 0
    return total


def _worker(fd: int, store: ox.Store, control: socket.socket, parent: int, memory_bytes_allowed: int) -> None:
    """The forked worker: answer queries on ``fd`` until the server closes it."""
    control.close()
    _die_with_parent(parent)
    limit_memory(memory_bytes_allowed)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C in a terminal reaches the whole group; the server decides
    conn = Connection(fd)
    while True:
        try:
            request = conn.recv()
        except (EOFError, OSError):
            os._exit(0)
        answer = run_query_safely(store, request)
        if isinstance(answer, QueryOutcome):
            answer = dataclasses.replace(answer, private_bytes=memory_bytes("Private"))
        conn.send(answer)


class Zygote:
    """The zygote process itself: holds the store, forks a worker or kills one on the server's command (the server
    speaks to it through :class:`evidencemap.sparql.workers.ZygoteClient`)."""

    def __init__(self, control: socket.socket, store: ox.Store, memory_bytes_allowed: int = 0) -> None:
        self.control = control
        self.store = store
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
                self._kill(pid)
                self._reply({"killed": pid, "ended": ended})

    def _spawn(self, fd: int) -> int:
        parent = os.getpid()
        pid = os.fork()
        if pid == 0:
            try:
                _worker(fd, self.store, self.control, parent, self.memory_bytes_allowed)
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
    parser.add_argument("--data", required=True, help="N-Quads dump of the store to serve")
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
    try:
        store = ox.Store()
        store.bulk_load(path=args.data, format=ox.RdfFormat.N_QUADS)
        inspect_query("SELECT * WHERE { ?s ?p ?o OPTIONAL { ?o ?q ?r } FILTER(?s != ?o) }")  # warm the parser
    except Exception as exc:  # reported to the server, which answers 503 with it
        report = {"error": f"{type(exc).__name__}: {exc}"}
    else:
        report = {"ready": True, "quads": len(store), "seconds": time.perf_counter() - started, "isolated": isolated,
                  "seccomp": seccomp, "rss_bytes": memory_bytes("Rss"), "memory_limit_mib": args.memory_mib}
    try:
        control.send(json.dumps(report).encode())
    except OSError:  # the server stopped while the store was loading
        return 1
    if "error" in report:
        return 1
    Zygote(control, store, args.memory_mib * 1024 * 1024).serve()
    return 0


if __name__ == "__main__":
    sys.exit(main())
