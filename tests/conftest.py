"""Fixtures every test module can use without importing them.

- ``bundled`` and ``vocabulary``: the bundled map loaded with default settings, and its vocabulary, once per session.
  Read them, never change them; a test that edits a map loads its own (``visuals_fixtures.copy_map``).
- ``app`` and ``client``: the app serving the bundled map, built once per session by the app factory, and a client
  opened with ``with`` so that the app's lifespan hooks run. A module may define fixtures of the same names for its
  own variant (those take precedence in the module), with the same factory: ``app_support.app_fixtures``.
- ``server``, ``browser`` and ``screenshots`` (defined in browser_support.py, next to the browser tests' marks and
  helpers): the base URL of the app serving the bundled map under a real uvicorn server (once per session), headless
  Chromium driven by Playwright (once per module), and the folder a test writes its screenshots into.
- ``listener``: a server on 127.0.0.1 recording every connection (the /sparql isolation and guard tests), per module.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator

import pytest

from app_support import app_fixtures
from browser_support import browser, screenshots, server
from evidencemap.graph.store import EvidenceMap
from evidencemap.model.vocabulary import Vocabulary, load_vocabulary
from evidencemap.settings import Settings

__all__ = ["app", "browser", "bundled", "client", "screenshots", "server", "vocabulary"]

@pytest.fixture(scope="session", autouse=True)
def store_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """``evidencemap serve``'s on-disk store cache (graph/persistence.py) in a folder of the test run, not the user's
    own cache: $XDG_CACHE_HOME for this process and the servers it starts."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("XDG_CACHE_HOME", str(tmp_path_factory.mktemp("xdg-cache")))
        yield


# The app serving the bundled map with default settings, and its client.
app, client = app_fixtures(Settings(), scope="session")


@pytest.fixture(scope="session")
def bundled() -> EvidenceMap:
    """The bundled map with default settings."""
    return EvidenceMap.load(Settings())


@pytest.fixture(scope="session")
def vocabulary(bundled: EvidenceMap) -> Vocabulary:
    """The vocabulary of the bundled map."""
    return load_vocabulary(bundled)


@pytest.fixture(scope="module")
def listener() -> Iterator[tuple[int, list[bytes]]]:
    """A server on 127.0.0.1 that records every connection it accepts (what it was sent) and answers with an error
    body a leaky endpoint would echo: the proof that a query reached (or did not reach) the network."""
    arrived: list[bytes] = []
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    server.settimeout(0.1)
    stop = threading.Event()

    def accept() -> None:
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except OSError:
                continue
            with conn:
                conn.settimeout(1)
                try:
                    arrived.append(conn.recv(4096))
                    conn.sendall(b"HTTP/1.1 500 Internal\r\nContent-Length: 6\r\n\r\nsecret")
                except OSError:
                    arrived.append(b"")

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield server.getsockname()[1], arrived
    stop.set()
    thread.join()
    server.close()
