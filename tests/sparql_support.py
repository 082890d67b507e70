"""Helpers for the /sparql tests: the settings they run under and a real uvicorn server whose /sparql answers."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator

import httpx
from fastapi import FastAPI

from app_support import TestClient, serving
from evidencemap.settings import Settings

__all__ = ["TestClient", "running_server", "wait_until_answering"]

# Short limits so that the time limit and the row cap can be seen in a test; the bundled map's named queries stay
# well within both (the largest, study-findings without parameters, has 156 rows and runs in milliseconds).
TEST_SETTINGS = Settings(query_timeout=1.0, max_rows=200, sparql_workers=2)

EVM = "https://w3id.org/evidencemap/ontology#"
PREFIX = f"PREFIX evm: <{EVM}>\n"
# Every triple with every triple with every triple: about 10^11 solutions on the bundled map, i.e. never done.
RUNAWAY = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"


@contextlib.contextmanager
def running_server(app: FastAPI, *, ready_query: str = "ASK {}") -> Iterator[str]:
    """Serve ``app`` with uvicorn on a free port in a thread; yield the /sparql URL once queries are answered."""
    with serving(app) as base:
        url = f"{base}/sparql"
        wait_until_answering(url, ready_query)
        yield url


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
