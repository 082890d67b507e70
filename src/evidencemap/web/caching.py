"""Conditional GETs (issue 14): every successful GET carries a strong ETag keyed by the map's version, and a
request whose ``If-None-Match`` names the current ETag is answered 304 before any handler runs.

The ETag is a digest of everything a response can depend on:

- the map as it is now: :attr:`EvidenceMap.version` (bumped by every write through ``changed()``), the map
  edition's ``dcat:version``, the source files (path, size, modification time: a file edited between two starts
  changes it) and the settings (base IRI, limits);
- the software's version (a new release may render the same data differently);
- the representation asked for: the path (with the root path it is served under), the query string, the
  ``Accept`` header (which chooses JSON, JSON-LD, CSV, HTML, Turtle, ...) and the ``Host`` header (the SPARQL
  service description names the endpoint by it).

The ETag is computed *before* the handler runs, from the version the request sees; a write that lands while the
handler runs can only make the next request's ETag different, never make an old ETag match new content. A write
bumps the version, so no request after it is answered 304 for a response made before it.

The bodies of recent answers are kept by ETag (:class:`ResponseCache`, 64 MB, least recently used out, an answer
of more than 4 MB not kept): a repeated GET for the same representation of the same version is a cache hit, sent
without running the handler; the cache empties when the version changes. The per-request cost of a repeated
request is then the ETag's digest, whatever the size of the map.

Responses are ``Cache-Control: public, no-cache``: a cache may keep them but asks again each time, and the answer is
a 304 without a body while the map is unchanged (a living map can change at any moment, so no ``max-age``).
``Vary: Accept`` tells caches that the same URL has several representations. Only 200 responses are tagged;
errors, redirects, the static files (which have their own ETags) and a response whose route set its own
Cache-Control pass through untouched. A SPARQL query by GET
whose answer differs from run to run (``NOW()``, ``RAND()``, ``UUID()``, ``STRUUID()``, ``BNODE()``, or blank nodes
in a CONSTRUCT template, which get fresh labels each run) is sent ``no-store`` instead.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import parse_qsl

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from evidencemap import __version__
from evidencemap.graph.store import EvidenceMap
from evidencemap.publish.citations import map_edition

CACHE_CONTROL = "public, no-cache"
NOT_CACHEABLE = "no-store"
# Paths whose responses are not ours to tag: the static files carry StaticFiles' own ETag and Last-Modified.
UNTAGGED_PREFIXES = ("/static/",)
# A SPARQL query whose result changes from one run to the next, on the same data.
VOLATILE_QUERY = re.compile(r"\b(?:NOW|RAND|UUID|STRUUID|BNODE)\s*\(", re.IGNORECASE)
TEMPLATE_BLANK_NODE = re.compile(r"\bCONSTRUCT\b[^{]*\{[^}]*(?:_:|\[)", re.IGNORECASE | re.DOTALL)


def map_state(evidence_map: EvidenceMap) -> str:
    """What the responses of the map depend on besides the request: its version, its edition's ``dcat:version``,
    its files and the settings. Read once per version of the map (:meth:`EvidenceMap.derive`)."""

    def build() -> str:
        edition = map_edition(evidence_map)
        files = hashlib.sha256()
        for path in evidence_map.sources:
            try:
                stat = os.stat(path)
                files.update(f"{path}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode())
            except OSError:
                files.update(f"{path}\0missing\n".encode())
        files.update(repr(evidence_map.settings).encode())
        return f"{edition.version if edition else '-'}|{files.hexdigest()[:16]}"

    return f"{evidence_map.version}|{evidence_map.derive('web.caching.map_state', build)}"


def etag(evidence_map: EvidenceMap, representation: Iterable[str]) -> str:
    """The strong ETag of a representation of the map as it is now: readable parts (software version, map
    version, edition) and a digest of the rest."""
    state = map_state(evidence_map)
    version, edition = state.split("|")[:2]
    digest = hashlib.sha256("\0".join([__version__, state, *representation]).encode()).hexdigest()[:24]
    return f'"{__version__}-{version}-{edition}-{digest}"'


def matches(if_none_match: str, tag: str) -> bool:
    """Whether an ``If-None-Match`` header names ``tag`` (weak comparison, as RFC 9110 asks for this header)."""
    if if_none_match.strip() == "*":
        return True
    candidates = (c.strip() for c in if_none_match.split(","))
    return any((c[2:] if c.startswith("W/") else c) == tag for c in candidates)


def volatile_sparql(query_string: str) -> bool:
    """Whether a GET /sparql request's query gives a different answer from run to run on the same data."""
    for name, value in parse_qsl(query_string, keep_blank_values=True):
        if name == "query" and (VOLATILE_QUERY.search(value) or TEMPLATE_BLANK_NODE.search(value)):
            return True
    return False


@dataclass(frozen=True)
class Entry:
    """A kept response: status, headers, body, and the ASGI debug messages the route sent (the template and
    context of a page, which the test client reads), replayed with it."""

    status: int
    headers: list[tuple[bytes, bytes]]
    body: bytes
    debug: tuple[Message, ...] = ()


class ResponseCache:
    """The bodies of recent 200 responses by ETag, least recently used first out, within ``max_bytes`` (each at
    most ``max_entry``): a repeated request for the same representation of the same version of the map is a
    cache hit, answered without running its handler. Entries of an older version are dropped when the version
    changes (their ETags could never match again)."""

    def __init__(self, max_bytes: int = 64 << 20, max_entry: int = 4 << 20) -> None:
        self.max_bytes, self.max_entry = max_bytes, max_entry
        self.entries: OrderedDict[str, Entry] = OrderedDict()
        self.size = 0
        self.version: int | None = None
        self.hits = self.misses = 0

    def seen(self, version: int) -> None:
        """Forget everything when the map's version has changed since the last request."""
        if version != self.version:
            self.clear()
            self.version = version

    def get(self, tag: str) -> Entry | None:
        found = self.entries.get(tag)
        if found is None:
            self.misses += 1
            return None
        self.entries.move_to_end(tag)
        self.hits += 1
        return found

    def put(self, tag: str, entry: Entry) -> None:
        if len(entry.body) > self.max_entry or tag in self.entries:
            return
        self.entries[tag] = entry
        self.size += len(entry.body)
        while self.size > self.max_bytes and self.entries:
            _, dropped = self.entries.popitem(last=False)
            self.size -= len(dropped.body)

    def clear(self) -> None:
        self.entries.clear()
        self.size = 0


def response_cache(app: object) -> ResponseCache:
    """The response cache of an app (on its state, made on first use)."""
    state = app.state  # type: ignore[attr-defined]
    cache = getattr(state, "response_cache", None)
    if cache is None:
        cache = state.response_cache = ResponseCache()
    assert isinstance(cache, ResponseCache)
    return cache


class ConditionalGetMiddleware:
    """ETags, ``If-None-Match`` (304 without running the handler), ``Cache-Control`` and ``Vary: Accept`` on every
    GET and HEAD of the app's map (``scope["app"].state.context``), and the bodies of recent answers kept by ETag
    (:class:`ResponseCache`), so that a repeated GET costs a 304 or a cache hit. A request with credentials
    (``Authorization`` or ``Cookie``) is neither tagged nor cached."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = str(scope.get("path", ""))
        if scope["type"] != "http" or scope["method"] not in {"GET", "HEAD"} or path.startswith(UNTAGGED_PREFIXES):
            await self.app(scope, receive, send)
            return
        headers = {name.decode("latin-1").lower(): value.decode("latin-1") for name, value in scope["headers"]}
        has_body = headers.get("content-length", "0") != "0" or "transfer-encoding" in headers
        if "authorization" in headers or "cookie" in headers or has_body:
            # (a GET with a body is an error the handler reports, e.g. /sparql's 400: never a cached answer)
            await self.app(scope, receive, send)
            return
        query_string = scope.get("query_string", b"").decode("latin-1")
        if path.endswith("/sparql") and volatile_sparql(query_string):
            await self.app(scope, receive, _with_headers(send, {"cache-control": NOT_CACHEABLE}))
            return
        evidence_map: EvidenceMap = scope["app"].state.context.evidence_map
        tag = etag(evidence_map, (
            str(scope.get("root_path", "")), path, query_string,
            " ".join(headers.get("accept", "").lower().split()), headers.get("host", ""),
        ))
        if matches(headers.get("if-none-match", ""), tag):
            await send({"type": "http.response.start", "status": 304, "headers": [
                (b"etag", tag.encode()), (b"cache-control", CACHE_CONTROL.encode()), (b"vary", b"Accept"),
            ]})
            await send({"type": "http.response.body", "body": b""})
            return
        cache = response_cache(scope["app"])
        cache.seen(evidence_map.version)
        if scope["method"] == "GET":
            hit = cache.get(tag)
            if hit is not None:
                for message in hit.debug:
                    await send(message)
                await send({"type": "http.response.start", "status": hit.status, "headers": hit.headers})
                await send({"type": "http.response.body", "body": hit.body})
                return
        await self.app(scope, receive, _tagging(send, tag, cache if scope["method"] == "GET" else None))


def _with_headers(send: Send, extra: dict[str, str]) -> Send:
    async def wrapped(message: Message) -> None:
        if message["type"] == "http.response.start":
            headers = list(message.get("headers", []))
            present = {name.lower() for name, _ in headers}
            headers += [(k.encode(), v.encode()) for k, v in extra.items() if k.encode() not in present]
            message = {**message, "headers": headers}
        await send(message)

    return wrapped


def _tagging(send: Send, tag: str, cache: ResponseCache | None) -> Send:
    """``send`` adding the ETag, Cache-Control and ``Vary: Accept`` to a 200 response that has no ETag or
    Cache-Control of its own (a route that decides its own caching is left alone), and keeping its body in
    ``cache``."""
    tagged: list[tuple[bytes, bytes]] | None = None  # the headers sent, once the response is tagged
    chunks: list[bytes] = []
    debug: list[Message] = []
    size = 0
    keeping = cache

    async def wrapped(message: Message) -> None:
        nonlocal tagged, size, keeping
        if message["type"] == "http.response.debug":
            debug.append(message)
        elif message["type"] == "http.response.start" and message["status"] == 200:
            headers = list(message.get("headers", []))
            names = {name.lower() for name, _ in headers}
            if not names & {b"etag", b"cache-control"}:
                tagged = [(n, v) for n, v in headers if n.lower() != b"vary"] + [
                    (b"etag", tag.encode()), (b"cache-control", CACHE_CONTROL.encode()),
                    (b"vary", _vary(headers).encode()),
                ]
                message = {**message, "headers": tagged}
        elif message["type"] == "http.response.body" and tagged is not None and keeping is not None:
            body = bytes(message.get("body", b""))
            size += len(body)
            if size > keeping.max_entry:
                keeping = None  # too big to keep
                chunks.clear()
            else:
                chunks.append(body)
                if not message.get("more_body", False):
                    keeping.put(tag, Entry(200, tagged, b"".join(chunks), tuple(debug)))
        await send(message)

    return wrapped


def _vary(headers: list[tuple[bytes, bytes]]) -> str:
    """The response's Vary header with Accept in it (once)."""
    fields = [f.strip() for n, v in headers if n.lower() == b"vary" for f in v.decode("latin-1").split(",")]
    kept = [f for f in fields if f]
    if not any(f.lower() == "accept" for f in kept):
        kept.insert(0, "Accept")
    return ", ".join(dict.fromkeys(kept))
