"""The app serving the bundled map, as pytest fixtures for any settings: ``app, client = app_fixtures(settings)``
in a test module (or conftest.py) defines its ``app`` (from the app factory) and ``client`` (a TestClient opened
with ``with``, so that the app's lifespan hooks run, e.g. the SPARQL worker pool)."""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterator
from typing import Any, Literal

import pytest
from fastapi import FastAPI

from evidencemap.settings import Settings
from evidencemap.web.app import create_app

with warnings.catch_warnings():
    # starlette warns at import time that it would prefer httpx2 to httpx; not ours to fix
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

__all__ = ["TestClient", "app_fixtures"]


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
