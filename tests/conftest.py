"""Shared fixtures: the app serving the bundled map, built once per session by the app factory, and a client
opened with ``with`` so that the app's lifespan hooks run. Modules may define fixtures of the same names for
their own variants (those take precedence in their module)."""

from __future__ import annotations

import warnings
from collections.abc import Iterator

import pytest
from fastapi import FastAPI

from evidencemap.settings import Settings
from evidencemap.web.app import create_app

with warnings.catch_warnings():
    # starlette warns at import time that it would prefer httpx2 to httpx; not ours to fix
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient


@pytest.fixture(scope="session")
def app() -> FastAPI:
    """The app serving the bundled map with default settings."""
    return create_app(Settings())


@pytest.fixture(scope="session")
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app) as test_client:
        yield test_client
