"""Shared fixtures: the app serving the bundled map, built once per session by the app factory, and a client
opened with ``with`` so that the app's lifespan hooks run. Modules may define fixtures of the same names for
their own variants (those take precedence in their module), with the same factory: ``app_support.app_fixtures``."""

from __future__ import annotations

from app_support import app_fixtures
from evidencemap.settings import Settings

# The app serving the bundled map with default settings, and its client.
app, client = app_fixtures(Settings(), scope="session")
