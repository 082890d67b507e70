"""Settings, declared once: each has a type, a default and help text, and can be set from the environment
with the ``EVIDENCEMAP_`` prefix (``EVIDENCEMAP_QUERY_TIMEOUT=10``) or from the command line."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from evidencemap.errors import InvalidParameter
from evidencemap.namespaces import CANONICAL_BASE

ENV_PREFIX = "EVIDENCEMAP_"


def _setting(default: Any, help: str) -> Any:
    if isinstance(default, list):
        return field(default_factory=lambda: list(default), metadata={"help": help})
    return field(default=default, metadata={"help": help})


@dataclass(frozen=True)
class Settings:
    """Everything a running evidencemap can be told. ``docs/settings.md`` lists the same fields."""

    data: list[Path] = _setting([], "Map files or folders to serve; the bundled Dufour et al. 2025 map when empty.")
    base_iri: str = _setting(
        CANONICAL_BASE,
        "Base of the data and vocabulary IRIs; IRIs under it are resolved by this server. Data written with the "
        "canonical base https://w3id.org/evidencemap/ is rewritten to this base when it differs.",
    )
    union_default_graph: bool = _setting(
        True, "Let SPARQL queries see the union of all named graphs as their default graph."
    )
    query_timeout: float = _setting(
        30.0, "Seconds a /sparql query may run before it is stopped (sized so that the named queries answer at "
        "100,000 studies on the on-disk store: docs/settings.md)."
    )
    max_rows: int = _setting(
        50000, "Most result rows /sparql returns; a truncated result says so in its headers (sized for the named "
        "queries at 100,000 studies: docs/settings.md)."
    )
    sparql_workers: int = _setting(2, "Worker processes that run /sparql queries (each can be stopped at the limit).")
    max_query_length: int = _setting(100_000, "Longest SPARQL query text accepted, in characters.")
    sparql_worker_memory_mib: int = _setting(
        1024, "Memory (MiB of address space) a /sparql worker may add to what it shares with the store; a query "
        "needing more is stopped with a 503 and its worker replaced (0: no limit)."
    )
    sparql_client_concurrency: int = _setting(
        1, "Queries one client (by address) may have running at once on /sparql."
    )
    sparql_client_queue: int = _setting(
        4, "Queries one client may have waiting beyond those running; more get 429 Too Many Requests."
    )
    sparql_queue_limit: int = _setting(
        64, "Queries that may wait for a /sparql worker, all clients together; more get 503 with Retry-After."
    )
    sparql_network_namespace: bool = _setting(
        True, "Move the /sparql workers into empty user and network namespaces when the kernel allows it (off: "
        "rely on the seccomp filter alone, as where user namespaces are refused)."
    )
    sparql_allow_unisolated: bool = _setting(
        False, "Serve /sparql even when its workers could not be kept off the network (neither seccomp nor a "
        "network namespace could be set up); logged at WARNING. Off: /sparql answers 503 instead."
    )
    max_request_bytes: int = _setting(
        1_048_576, "Largest request body any route reads, in bytes (chunked bodies included); 413 beyond."
    )
    default_page_size: int = _setting(50, "Studies per page in /api/studies when no limit is given.")
    max_page_size: int = _setting(1000, "Largest page size /api/studies accepts.")
    allow_invalid: bool = _setting(
        False, "Serve a map that does not conform to the shapes (every page then says so); refused otherwise."
    )
    persistent_store: bool = _setting(
        True, "evidencemap serve keeps the loaded map in an on-disk store in store_cache, keyed by the content of "
        "its files, the vocabulary, the base IRI and the package version, and opens it at the next start instead of "
        "parsing the files again (off: load the files into memory at every start)."
    )
    store_cache: str = _setting(
        "", "Folder of the on-disk stores (and their validation results and facet indexes); empty: "
        "$XDG_CACHE_HOME/evidencemap, else ~/.cache/evidencemap. Keep it writable by the server's user only."
    )
    store_cache_keep: int = _setting(
        3, "Most on-disk stores kept in store_cache; the least recently opened ones beyond are removed."
    )
    processes: int = _setting(
        1, "App processes evidencemap serve runs on its port (uvicorn workers), each opening the same on-disk "
        "store (or remote engine); each has its own /sparql workers, per-client limits and response cache. More "
        "than 1 is refused with a living map (state) (docs/deploy.md, Several app processes)."
    )
    state: str = _setting(
        "", "Folder of the living map's state (its journal of changes and the write tokens); empty: the server is "
        "read-only and the write routes answer 405 (docs/living-map.md)."
    )
    sparql_in_memory: bool = _setting(
        False, "Give the /sparql workers an in-memory copy of the store (queries several times faster on large "
        "maps, at the cost of memory and of loading the copy at every start) instead of opening the on-disk store "
        "read-only (shared memory, ready at once). Without an on-disk store the copy is always in memory."
    )
    endpoint: str = _setting(
        "", "URL of a SPARQL 1.1 query endpoint that holds the map (loaded with evidencemap push): every feature "
        "reads it there instead of an embedded store, and /sparql forwards guarded queries to it (docs/deploy.md)."
    )
    update_endpoint: str = _setting(
        "", "URL of the same engine's SPARQL 1.1 Update endpoint, which evidencemap push writes to when the engine "
        "has no Graph Store Protocol endpoint, and where a living map on the engine (endpoint and state) sends each "
        "change (empty: the query endpoint's URL; docs/deploy.md)."
    )
    endpoint_max_rows: int = _setting(
        0, "The row limit the remote engine cuts results at without an error (Virtuoso's ResultSetMaxRows), when it "
        "does not say so in an X-SPARQL-MaxRows header: a result of exactly that many rows is reported as cut "
        "(0: none declared)."
    )
    endpoint_max_bytes: int = _setting(
        67_108_864, "Largest answer read from the remote engine, in bytes; beyond it the request fails with 413."
    )

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        """Settings from ``EVIDENCEMAP_*`` variables, then ``overrides`` (ignored when None).

        >>> settings = Settings.from_env({"EVIDENCEMAP_QUERY_TIMEOUT": "10"}, max_rows=500, sparql_workers=None)
        >>> settings.query_timeout, settings.max_rows, settings.sparql_workers
        (10.0, 500, 2)

        :raises InvalidParameter: naming the variable and its bad value.

        >>> Settings.from_env({"EVIDENCEMAP_MAX_ROWS": "many"})
        Traceback (most recent call last):
        ...
        evidencemap.errors.InvalidParameter: Setting EVIDENCEMAP_MAX_ROWS='many' is not a valid int.
        """
        env = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for f in fields(cls):
            key = ENV_PREFIX + f.name.upper()
            if key in env:
                values[f.name] = _parse(f, env[key], key)
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)

    def replace(self, **changes: Any) -> Settings:
        return dataclasses.replace(self, **changes)


def _parse(f: dataclasses.Field[Any], raw: str, key: str) -> Any:
    kind = f.type if isinstance(f.type, str) else getattr(f.type, "__name__", str(f.type))
    try:
        if kind == "bool":
            lowered = raw.strip().lower()
            if lowered in {"1", "true", "yes", "on"}:
                return True
            if lowered in {"0", "false", "no", "off"}:
                return False
            raise ValueError(raw)
        if kind == "int":
            return int(raw)
        if kind == "float":
            return float(raw)
        if kind.startswith("list"):
            return [Path(p) for p in raw.split(os.pathsep) if p]
        return raw
    except ValueError:
        raise InvalidParameter(f"Setting {key}={raw!r} is not a valid {kind}.") from None


def setting_help() -> list[tuple[str, str, str]]:
    """(name, default, help) for every setting, for the docs and the CLI."""
    rows = []
    for f in fields(Settings):
        default = f.default_factory() if f.default_factory is not dataclasses.MISSING else f.default
        rows.append((f.name, repr(default), f.metadata["help"]))
    return rows
