"""The app serving the bundled map, for tests: as pytest fixtures for any settings (``app, client =
app_fixtures(settings)`` in a test module or conftest.py defines its ``app``, from the app factory, and ``client``, a
TestClient opened with ``with`` so that the app's lifespan hooks run, e.g. the SPARQL worker pool), and served by a
real uvicorn server on a free port (:func:`serving`)."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
import warnings
from collections.abc import Callable, Iterator
from typing import Any, Literal

import pytest
import uvicorn
from fastapi import FastAPI

from evidencemap.settings import Settings
from evidencemap.web.app import create_app

with warnings.catch_warnings():
    # starlette warns at import time that it would prefer httpx2 to httpx; not ours to fix
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

__all__ = ["TestClient", "app_fixtures", "free_port", "serving"]


def app_fixtures(
    settings: Settings, *, scope: Literal["session", "module"] = "module"
) -> tuple[Callable[..., Any], Callable[..., Any]]:
    """The ``app`` and ``client`` fixtures of an app built with ``settings``; assign both to module names."""

    @pytest.fixture(scope=scope, name="app")
    def app_fixture() -> FastAPI:
        """The app serving the bundled map with this module's (or the session's) settings."""
        return create_app(settings)

    @pytest.fixture(scope=scope, name="client")
    def client_fixture(app: FastAPI) -> Iterator[TestClient]:
        """A client of ``app``, opened with ``with`` (lifespan on)."""
        with TestClient(app) as test_client:
            yield test_client

    return app_fixture, client_fixture


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@contextlib.contextmanager
def serving(app: FastAPI, *, timeout: float = 30.0) -> Iterator[str]:
    """Serve ``app`` with uvicorn (lifespan on) on a free port in a thread; yield its base URL once uvicorn has
    started, and stop it afterwards."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + timeout
        while not server.started:
            if not thread.is_alive():
                raise RuntimeError("uvicorn stopped before it started serving")
            if time.monotonic() > deadline:
                raise RuntimeError(f"uvicorn did not start within {timeout} s")
            time.sleep(0.05)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=15)
