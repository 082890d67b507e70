"""Helpers for the /sparql tests: the settings they run under, free ports and a real uvicorn server in a thread."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator

import httpx
import uvicorn
from fastapi import FastAPI

from app_support import TestClient
from evidencemap.settings import Settings

__all__ = ["TestClient", "free_port", "running_server", "wait_until_answering"]

# Short limits so that the time limit and the row cap can be seen in a test; the bundled map's named queries stay
# well within both (the largest, study-findings without parameters, has 147 rows and runs in milliseconds).
TEST_SETTINGS = Settings(query_timeout=1.0, max_rows=200, sparql_workers=2)

EVM = "https://w3id.org/evidencemap/ontology#"
PREFIX = f"PREFIX evm: <{EVM}>\n"
# Every triple with every triple with every triple: about 10^11 solutions on the bundled map, i.e. never done.
RUNAWAY = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@contextlib.contextmanager
def running_server(app: FastAPI, *, ready_query: str = "ASK {}") -> Iterator[str]:
    """Serve ``app`` with uvicorn on a free port in a thread; yield the /sparql URL once queries are answered."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}/sparql"
    try:
        wait_until_answering(url, ready_query)
        yield url
    finally:
        server.should_exit = True
        thread.join(timeout=15)


def wait_until_answering(url: str, query: str = "ASK {}", timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    last: object = None
    while time.monotonic() < deadline:
        try:
            response = httpx.get(url, params={"query": query}, timeout=5)
            if response.status_code == 200:
                return
            last = response.status_code
        except httpx.TransportError as exc:
            last = exc
        time.sleep(0.1)
    raise RuntimeError(f"{url} did not answer within {timeout} s (last: {last})")
