"""One error shape for the whole HTTP surface: ``{"ok": false, "error": ..., "status": ..., "hint": ...,
"allowed": [...]}`` for JSON clients (``hint`` when there is advice, ``allowed`` when the error is about a choice:
the valid facets, values, formats or media types), a plain page for browsers. Unexpected exceptions become a 500
whose traceback goes only to the log. docs/api.md documents the shape and the statuses."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from evidencemap.errors import EvidenceMapError
from evidencemap.web.inputs import HTML, JSON, hinted
from evidencemap.web.negotiation import preferred

log = logging.getLogger("evidencemap")



def wants_html(request: Request) -> bool:
    """Whether the error should be a page: outside /api, when ``Accept`` rates HTML above JSON (a tie, ``*/*`` or
    no header gets JSON)."""
    if request.url.path.removeprefix(str(request.scope.get("root_path", ""))).startswith("/api"):
        return False  # (the path within the site: a map's site is served under /maps/{slug})
    return preferred(request.headers.get("accept"), (JSON, HTML)) == HTML


def error_body(status: int, message: str, hint: str | None = None, allowed: Sequence[str] = ()) -> dict[str, object]:
    """The JSON of an error (the OpenAPI ``ErrorBody``)."""
    body: dict[str, object] = {"ok": False, "error": message, "status": status}
    if hint:
        body["hint"] = hint
    if allowed:
        body["allowed"] = list(allowed)
    return body


def error_response(
    request: Request, status: int, message: str, hint: str | None = None, allowed: Sequence[str] = ()
) -> Response:
    """The error as JSON, or as the error page when the client prefers HTML (outside /api)."""
    body = error_body(status, message, hint, allowed)
    renderer = getattr(request.app.state, "render_error", None)
    if renderer is not None and wants_html(request):
        return renderer(request, status, message, hint)  # type: ignore[no-any-return]
    return JSONResponse(body, status_code=status)


def install_error_handlers(app: FastAPI) -> None:
    async def on_evidencemap_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, EvidenceMapError)
        return error_response(request, exc.status, exc.message, exc.hint, exc.allowed or hinted(exc.hint))

    async def on_validation_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        problems = []
        for err in exc.errors():
            where = ".".join(str(p) for p in err.get("loc", ()) if p not in ("query", "path", "body"))
            problems.append(f"{where}: {err.get('msg')}" if where else str(err.get("msg")))
        return error_response(request, 422, "Invalid parameter: " + "; ".join(problems))

    async def on_http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        message = exc.detail if isinstance(exc.detail, str) else "HTTP error"
        if exc.status_code == 404 and message == "Not Found":
            message = f"Nothing at {request.url.path}."
        response = error_response(request, exc.status_code, message)
        for k, v in (exc.headers or {}).items():
            response.headers[k] = v
        return response

    async def on_unexpected(request: Request, exc: Exception) -> Response:
        log.exception("unexpected error on %s %s", request.method, request.url.path)
        return error_response(request, 500, "Internal error; it has been logged.")

    app.add_exception_handler(EvidenceMapError, on_evidencemap_error)
    app.add_exception_handler(RequestValidationError, on_validation_error)
    app.add_exception_handler(StarletteHTTPException, on_http_error)
    app.add_exception_handler(Exception, on_unexpected)


__all__ = ["HTMLResponse", "error_response", "install_error_handlers", "wants_html"]
