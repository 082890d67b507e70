"""``/sparql``: the SPARQL 1.1 Protocol endpoint for analysts (read-only), its service description and its editor.

GET and POST delegate to one function. A request is read strictly (the W3C protocol tests expect a 4xx for every
malformed request), negotiated here (:mod:`.negotiation`), and run in a worker process
(:mod:`evidencemap.sparql.workers`) that parses the query, refuses updates, ``LOAD`` and ``SERVICE`` before
executing anything, and is killed at the time limit. Issue 2.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from typing import Any, cast
from urllib.parse import parse_qsl

import pyoxigraph as ox
from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse, Response
from starlette.types import Lifespan

from evidencemap.errors import BadRequest, EvidenceMapError, NotAcceptable, QueryRefused, UnsupportedMediaType
from evidencemap.graph.remote import EngineUnavailable, RemoteEngine
from evidencemap.namespaces import PREFIXES
from evidencemap.settings import Settings
from evidencemap.sparql.execution import FORM_KINDS, QueryRequest
from evidencemap.sparql.fairness import ClientGate, QueueFull, TooManyRequests
from evidencemap.sparql.guard import READ_ONLY_HINT, SparqlSyntaxError
from evidencemap.sparql.proxy import RemoteProxy
from evidencemap.sparql.results import WRITABLE
from evidencemap.sparql.workers import SparqlUnavailable, WorkerPool
from evidencemap.web.context import AppContext
from evidencemap.web.errors import error_body, error_response, wants_html
from evidencemap.web.negotiation import HTML_PAGE, Offer, negotiate
from evidencemap.web.sparql_editor import render_editor, render_results
from evidencemap.web.sparql_service import service_description

router = APIRouter(tags=["SPARQL"])

FORM = "application/x-www-form-urlencoded"
DIRECT = "application/sparql-query"
UPDATE = "application/sparql-update"
UPDATE_PARAMS = ("update", "using-graph-uri", "using-named-graph-uri")
# the format a worker writes when the client wants the editor page; the page is rendered from it here
HTML_SOURCES = {"tabular": "json", "boolean": "json", "graph": "nt"}
CORS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Expose-Headers": "Evidencemap-Truncated, Evidencemap-Row-Limit, Evidencemap-Rows, Retry-After",
}


class MethodNotAllowed(EvidenceMapError):
    status = 405


class QueryTooLong(EvidenceMapError):
    status = 413


@dataclass(frozen=True)
class ProtocolRequest:
    """What a /sparql request asks for, once read: the query (None: service description or editor) and dataset."""

    query: str | None
    default_graphs: tuple[str, ...] | None
    named_graphs: tuple[str, ...] | None
    format: str | None


# -- reading the request ---------------------------------------------------------------------------------------


async def read_protocol_request(request: Request, settings: Settings) -> ProtocolRequest:
    """The SPARQL 1.1 Protocol request carried by ``request`` (query by GET, form POST or direct POST).

    :raises QueryRefused: for any update request.
    :raises BadRequest: for malformed requests (two queries, a query in the wrong place, a body on GET...).
    :raises UnsupportedMediaType: for a POST body that is neither a form nor ``application/sparql-query``.
    """
    url_params = request.query_params.multi_items()
    _refuse_updates(url_params)
    limit = settings.max_query_length
    cap = body_cap(settings)
    declared = request.headers.get("content-length", "0")
    if declared.isdigit() and int(declared) > cap:
        raise _too_long(int(declared), limit, "The request body")
    body = await read_capped_body(request, cap, limit)
    if request.method == "GET":
        if body:
            raise BadRequest("A GET request must not have a body.", hint="Put the query in the URL, or POST it.")
        params, query_values = url_params, _values(url_params, "query")
    else:
        media, charset = _content_type(request.headers.get("content-type"))
        text = _decode(body)
        if media == UPDATE:
            raise QueryRefused("SPARQL Update is refused.", hint=READ_ONLY_HINT)
        if _values(url_params, "query"):
            raise BadRequest("A POST request carries its query in the body, not in the URL.")
        if media == FORM:
            body_params = _form(text)
            _refuse_updates(body_params)
            params, query_values = url_params + body_params, _values(body_params, "query")
        elif media == DIRECT:
            params, query_values = url_params, [text]
        else:
            raise UnsupportedMediaType(
                f"POST /sparql does not read {media or 'a body without Content-Type'}.",
                hint=f"Send Content-Type: {FORM} (query=...) or {DIRECT} (the query itself).",
            )
        if charset not in {None, "utf-8", "utf8"}:
            raise UnsupportedMediaType(f"Only UTF-8 is read, not charset={charset}.", hint="Encode the query in UTF-8.")
    if len(query_values) > 1:
        raise BadRequest(f"{len(query_values)} queries were sent; send exactly one query parameter.")
    query = query_values[0] if query_values else None
    if query is None and request.method == "POST":
        raise BadRequest("No query was sent.", hint="Send query=... in the form body, or the query as the body.")
    if query is not None and not query.strip():
        raise BadRequest("The query is empty.")
    if query is not None and len(query) > limit:
        raise _too_long(len(query), limit, "The query")
    formats = _values(params, "format")
    return ProtocolRequest(
        query=query,
        default_graphs=_graphs(params, "default-graph-uri"),
        named_graphs=_graphs(params, "named-graph-uri"),
        format=formats[-1] if formats else None,
    )


def body_cap(settings: Settings) -> int:
    """The most bytes of body /sparql reads: a form-encoded query of the longest length takes up to 3 bytes per
    character, plus the other parameters."""
    return 4 * settings.max_query_length + 10_000


async def read_capped_body(request: Request, cap: int, limit: int) -> bytes:
    """The body, read as it streams in (chunked bodies have no Content-Length): 413 as soon as it passes ``cap``
    bytes, before it fills the server's memory."""
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > cap:
            raise QueryTooLong(
                f"The request body is longer than {cap:,} bytes; a query may have {limit:,} characters.",
                hint="Shorten the query, or raise the limit with EVIDENCEMAP_MAX_QUERY_LENGTH.",
            )
        chunks.append(chunk)
    return b"".join(chunks)


def _values(params: list[tuple[str, str]], name: str) -> list[str]:
    return [v for k, v in params if k == name]


def _refuse_updates(params: list[tuple[str, str]]) -> None:
    names = sorted({k for k, _ in params if k in UPDATE_PARAMS})
    if names:
        raise QueryRefused(f"SPARQL Update is refused (the request has {', '.join(names)}).", hint=READ_ONLY_HINT)


def _content_type(header: str | None) -> tuple[str | None, str | None]:
    if not header:
        return None, None
    media, *params = (p.strip() for p in header.split(";"))
    charset = None
    for param in params:
        name, _, value = param.partition("=")
        if name.strip().lower() == "charset":
            charset = value.strip().strip('"').lower()
    return media.lower(), charset


def _decode(body: bytes) -> str:
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        raise UnsupportedMediaType("The request body is not UTF-8.", hint="Encode the query in UTF-8.") from None


def _form(text: str) -> list[tuple[str, str]]:
    try:
        return parse_qsl(text, keep_blank_values=True, encoding="utf-8", errors="strict")
    except (UnicodeDecodeError, ValueError):
        raise BadRequest("The form body is not valid UTF-8 URL-encoded data.") from None


def _graphs(params: list[tuple[str, str]], name: str) -> tuple[str, ...] | None:
    values = _values(params, name)
    if not values:
        return None
    for value in values:
        try:
            ox.NamedNode(value)
        except ValueError:
            raise BadRequest(f"{name}={value!r} is not an absolute IRI.") from None
    return tuple(values)


def _too_long(length: int, limit: int, what: str) -> QueryTooLong:
    return QueryTooLong(
        f"{what} is {length:,} characters long; the limit is {limit:,}.",
        hint="Shorten it, or raise the limit with EVIDENCEMAP_MAX_QUERY_LENGTH.",
    )


# -- answering ------------------------------------------------------------------------------------------------


# One function, two routes: a route serving several methods gets one operation id for all of them, derived from
# whichever method its set yields first (which changes with Python's hash seed).
@router.post("/sparql", summary="SPARQL 1.1 query endpoint (read-only)", operation_id="sparql_sparql_post")
@router.get("/sparql", summary="SPARQL 1.1 query endpoint (read-only)", operation_id="sparql_sparql_get")
async def sparql(request: Request) -> Response:
    """Query by GET (``?query=``), by form POST or by POST of ``application/sparql-query``; without a query, the
    service description (Turtle by default) or, for browsers, the query editor."""
    context: AppContext = request.app.state.context
    protocol: ProtocolRequest | None = None
    try:
        protocol = await read_protocol_request(request, context.settings)
        offers = negotiate(request.headers.get("accept"), protocol.format)
        if protocol.query is None:
            return await _without_query(request, context, offers)
        return await _answer(request, context, protocol, offers)
    except EvidenceMapError as exc:
        if protocol is not None and _editor_wanted(request, protocol):
            return await render_editor(request, context, protocol.query or "", protocol.format, error=exc)
        return _error(request, exc)


async def _without_query(request: Request, context: AppContext, offers: dict[str, Offer]) -> Response:
    offer = offers.get("graph")
    if offer is None:
        offered = [f.media_type for f in WRITABLE["graph"]]
        raise NotAcceptable(
            "The service description is RDF and the request accepts no RDF type.",
            hint=f"Use one of: {', '.join(offered)}.", allowed=offered,
        )
    if offer.format is HTML_PAGE:
        return await render_editor(request, context, "", None)
    body = service_description(context, _endpoint(request), offer.serialiser)
    return Response(body, media_type=_content_type_header(offer), headers={**CORS, "Vary": "Accept"})


async def _answer(
    request: Request, context: AppContext, protocol: ProtocolRequest, offers: dict[str, Offer]
) -> Response:
    settings = context.settings
    assert protocol.query is not None
    query_request = QueryRequest(
        text=protocol.query,
        serialisers={k: HTML_SOURCES[k] if o.format is HTML_PAGE else o.serialiser for k, o in offers.items()},
        default_graphs=protocol.default_graphs,
        named_graphs=protocol.named_graphs,
        union_default_graph=settings.union_default_graph,
        max_rows=settings.max_rows,
        base_iri=_endpoint(request),
        prefixes={k: context.evidence_map.iri(v) for k, v in PREFIXES.items()},
        accept=request.headers.get("accept", ""),
    )
    async with gate_of(request.app).slot(client_of(request)):
        outcome = await pool_of(request.app).run(query_request)
    offer = offers[FORM_KINDS[outcome.form]]
    headers = {
        **CORS,
        "Vary": "Accept",
        "Evidencemap-Truncated": "true" if outcome.truncated else "false",
        "Evidencemap-Row-Limit": str(settings.max_rows),
        "Evidencemap-Rows": str(outcome.rows),
    }
    if offer.format is HTML_PAGE:
        response = await render_results(request, context, protocol.query, protocol.format, outcome)
        response.headers.update(headers)
        return response
    return Response(outcome.body, media_type=_content_type_header(offer), headers=headers)


def _editor_wanted(request: Request, protocol: ProtocolRequest) -> bool:
    if protocol.format is not None:
        return protocol.format.strip().lower() in {HTML_PAGE.name, HTML_PAGE.media_type}
    return wants_html(request)


def _content_type_header(offer: Offer) -> str:
    textual = offer.media_type.startswith("text/") or offer.media_type.endswith(("json", "xml", "n-triples"))
    return f"{offer.media_type}; charset=utf-8" if textual else offer.media_type


def _endpoint(request: Request) -> str:
    return str(request.url.replace(query="", fragment=""))


def _error(request: Request, exc: EvidenceMapError) -> Response:
    headers = dict(CORS)
    if isinstance(exc, SparqlUnavailable | EngineUnavailable):
        headers["Retry-After"] = "2"
    if isinstance(exc, TooManyRequests | QueueFull):
        headers["Retry-After"] = str(exc.retry_after)
    if isinstance(exc, QueryTooLong):
        headers["Connection"] = "close"  # the rest of an oversized body is not read
    if wants_html(request):
        response = error_response(request, exc.status, exc.message, exc.hint, exc.allowed)
        response.headers.update(headers)
        return response
    body = error_body(exc.status, exc.message, exc.hint, exc.allowed)
    if isinstance(exc, SparqlSyntaxError) and exc.line:
        body.update(line=exc.line, column=exc.column, excerpt=exc.excerpt)
    return JSONResponse(body, status_code=exc.status, headers=headers)


@router.options("/sparql", include_in_schema=False)
async def sparql_preflight(request: Request) -> Response:
    """CORS preflight: any origin may GET or POST queries (the endpoint is read-only and holds no credentials)."""
    requested = request.headers.get("access-control-request-headers")
    return Response(status_code=204, headers={
        **CORS,
        "Access-Control-Allow-Methods": "GET, POST, OPTIONS",
        "Access-Control-Allow-Headers": requested or "Accept, Content-Type",
        "Access-Control-Max-Age": "86400",
        "Allow": "GET, POST, OPTIONS",
    })


@router.api_route("/sparql", methods=["PUT", "DELETE", "PATCH"], include_in_schema=False)
async def sparql_other_methods(request: Request) -> Response:
    error = MethodNotAllowed(f"{request.method} is not part of the SPARQL query protocol.",
                             hint="Use GET or POST; this endpoint is read-only.")
    response = _error(request, error)
    response.headers["Allow"] = "GET, POST, OPTIONS"
    return response


# -- wiring -----------------------------------------------------------------------------------------------------


def pool_of(app: FastAPI) -> WorkerPool | RemoteProxy:
    pool: WorkerPool | RemoteProxy = app.state.sparql_pool
    return pool


def gate_of(app: FastAPI) -> ClientGate:
    gate: ClientGate = app.state.sparql_gate
    return gate


def client_of(request: Request) -> str:
    """Who is asking, for fair sharing: the client's address (behind a trusted proxy, the address it forwarded:
    uvicorn's ``--forwarded-allow-ips``; docs/security.md)."""
    return request.client.host if request.client else "unknown"


def install_sparql(app: FastAPI, context: AppContext) -> None:
    """Give ``app`` what /sparql needs besides its router (which web/app.py registers): the worker pool (started
    and stopped with the app's lifespan) and the per-client gate."""
    settings = context.settings
    # The workers open the map's on-disk store read-only, unless told to hold a copy in memory (or it has none).
    store_path = None if settings.sparql_in_memory else context.evidence_map.store_path
    engine = context.evidence_map.engine
    # serve --endpoint: guarded queries go to the remote engine, and no worker is started (sparql/proxy.py).
    app.state.sparql_pool = RemoteProxy(engine) if isinstance(engine, RemoteEngine) else \
        WorkerPool(context.evidence_map.store, settings, store_path)
    app.state.sparql_gate = ClientGate(
        concurrency=settings.sparql_client_concurrency,
        queue=settings.sparql_client_queue,
        total=max(1, settings.sparql_workers) + settings.sparql_queue_limit,
        retry_seconds=settings.query_timeout,
    )
    previous = app.router.lifespan_context

    @contextlib.asynccontextmanager
    async def lifespan(app_: FastAPI) -> AsyncIterator[Mapping[str, Any] | None]:
        async with previous(app_) as state:
            pool_of(app_).start()
            try:
                yield state
            finally:
                await pool_of(app_).stop()

    # It yields what the lifespan it wraps yields: the app's state, or None when that one keeps none.
    app.router.lifespan_context = cast("Lifespan[FastAPI]", lifespan)
