"""Fair sharing of the /sparql workers between clients (issue 9: one client's runaway queries held every worker).

Each client (the caller names it: the web layer uses the client's address) may have ``concurrency`` queries
running and ``queue`` more waiting for their turn; a request beyond that is refused at once with 429 Too Many
Requests and a ``Retry-After``, so a client's runaways cost the others at most ``concurrency`` workers. All clients
together may have ``total`` requests admitted (running or waiting); beyond that the answer is 503 with
``Retry-After``. Waiting is first come, first served within a client.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from evidencemap.errors import EvidenceMapError


class TooManyRequests(EvidenceMapError):
    """This client already has its share of queries running and waiting (429)."""

    status = 429

    def __init__(self, message: str, *, retry_after: int, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.retry_after = retry_after


class QueueFull(EvidenceMapError):
    """Too many queries are waiting, all clients together (503)."""

    status = 503

    def __init__(self, message: str, *, retry_after: int, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.retry_after = retry_after


@dataclass
class _Client:
    semaphore: asyncio.Semaphore
    admitted: int = 0  # running or waiting
    waiting: int = 0


@dataclass
class ClientGate:
    """Admission to the workers, per client. ``retry_seconds`` is what ``Retry-After`` says (the time limit)."""

    concurrency: int
    queue: int
    total: int
    retry_seconds: float = 5.0
    _clients: dict[str, _Client] = field(default_factory=dict)
    admitted: int = 0

    @contextlib.asynccontextmanager
    async def slot(self, client: str) -> AsyncIterator[None]:
        """Hold one of ``client``'s slots for the duration of the block (waiting for it if the client's queue has
        room).

        :raises TooManyRequests: the client has ``concurrency`` queries running and ``queue`` waiting.
        :raises QueueFull: ``total`` queries are admitted already.
        """
        retry = max(1, math.ceil(self.retry_seconds))
        state = self._clients.get(client)
        if state is None:
            state = self._clients[client] = _Client(asyncio.Semaphore(max(1, self.concurrency)))
        if state.semaphore.locked() and state.waiting >= self.queue:
            self._forget_if_idle(client, state)
            raise TooManyRequests(
                f"Too many queries from {client}: {self.concurrency} running and {state.waiting} waiting is this "
                "client's share of the endpoint.", retry_after=retry,
                hint="Wait for your queries to finish (each is stopped at the time limit) before sending more.",
            )
        if self.admitted >= self.total:
            self._forget_if_idle(client, state)
            raise QueueFull(f"The endpoint has {self.admitted} queries running or waiting; try again shortly.",
                            retry_after=retry)
        state.admitted += 1
        self.admitted += 1
        try:
            state.waiting += 1
            try:
                await state.semaphore.acquire()
            finally:
                state.waiting -= 1
            try:
                yield
            finally:
                state.semaphore.release()
        finally:
            state.admitted -= 1
            self.admitted -= 1
            self._forget_if_idle(client, state)

    def _forget_if_idle(self, client: str, state: _Client) -> None:
        if state.admitted == 0 and self._clients.get(client) is state:
            del self._clients[client]
