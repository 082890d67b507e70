"""Several app processes on one port (``evidencemap serve --processes N``; docs/deploy.md, "Several app processes").

uvicorn runs N processes, each a fresh interpreter that calls :func:`app_from_environment`, the app factory: the
settings reach it as ``EVIDENCEMAP_*`` variables (:func:`settings_environment`), and it opens the map the way the
parent did: the on-disk store of the store cache (built and validated once, by the parent, before any process
starts; every process opens it, the second and later read-only), or the remote engine of ``--endpoint``. No process
parses the map's files again, unless ``persistent_store`` is off.

Each process is a whole app of its own: its /sparql worker pool and that pool's fairness limits (so one client may
have ``sparql_client_concurrency`` queries running in each process), its response cache and its facet index. That
is correct only while the map cannot change under them, so a living map (``--state``) is refused with more than one
process (:func:`check_processes`): its writes are applied by the process that receives them, and the others would
go on answering from the map as it was.
"""

from __future__ import annotations

import os
from dataclasses import fields

from fastapi import FastAPI

from evidencemap.errors import BadRequest
from evidencemap.graph.store import EvidenceMap
from evidencemap.settings import ENV_PREFIX, Settings
from evidencemap.web.app import create_app

FACTORY = "evidencemap.web.processes:app_from_environment"
# uvicorn's supervisor kills a process that does not answer its health check in time (5 s by default) and starts
# another: a process opening a large map on a busy machine (its facet index read, the GIL held by the store) missed
# it at 10,000 studies and was replaced again and again.
HEALTHCHECK_SECONDS = 120


def check_processes(settings: Settings) -> None:
    """Refuse a number of processes the server cannot run.

    >>> check_processes(Settings(processes=2))
    >>> try:
    ...     check_processes(Settings(processes=2, state="state"))
    ... except BadRequest as exc:
    ...     print(str(exc).split(":")[0])
    A living map (--state) is served by one process
    """
    if settings.processes < 1:
        raise BadRequest(f"--processes must be at least 1, not {settings.processes}.")
    if settings.processes > 1 and settings.state:
        raise BadRequest(
            f"A living map (--state) is served by one process: with --processes {settings.processes} a change "
            "written through one process would not be seen by the others, which keep answering from the map as "
            "it was.", hint="Serve the living map with --processes 1 (the default), or serve its published "
            "files read-only with several processes.")


def settings_environment(settings: Settings) -> dict[str, str]:
    """Every setting as the ``EVIDENCEMAP_*`` variable that :meth:`Settings.from_env` reads back to the same value.

    >>> from pathlib import Path
    >>> settings = Settings(data=[Path("a.ttl"), Path("b")], query_timeout=2.5, allow_invalid=True, processes=2)
    >>> Settings.from_env(settings_environment(settings)) == settings
    True
    """
    out = {}
    for f in fields(Settings):
        value = getattr(settings, f.name)
        if isinstance(value, bool):
            text = "1" if value else "0"
        elif isinstance(value, list):
            text = os.pathsep.join(str(p) for p in value)
        else:
            text = str(value)
        out[ENV_PREFIX + f.name.upper()] = text
    return out


def open_map(settings: Settings) -> EvidenceMap:
    """The map ``evidencemap serve`` serves: the remote engine's (``endpoint``), else the on-disk store of the store
    cache (``persistent_store``), else the files loaded into memory."""
    if settings.endpoint:
        from evidencemap.graph.remote import open_remote

        return open_remote(settings)
    return EvidenceMap.load(settings, persistent=settings.persistent_store)


def app_from_environment() -> FastAPI:
    """The app factory each process of ``serve --processes N`` calls (uvicorn's ``factory``), with the settings
    the parent put in the environment. The parent has validated the map (and refused one that does not conform
    unless allowed), so the result kept in the store cache is read here, not computed again."""
    settings = Settings.from_env()
    return create_app(settings, open_map(settings))


__all__ = ["FACTORY", "HEALTHCHECK_SECONDS", "app_from_environment", "check_processes", "open_map",
           "settings_environment"]
