"""Two ASGI middlewares every response passes through (issue 9): security headers, and a cap on request bodies.

- :class:`SecurityHeadersMiddleware` adds, unless the route set them: a Content-Security-Policy that allows no
  inline script or style and nothing from other origins (the pages have neither; the SPARQL editor's page, the one
  page with scripts, loads two same-origin files and sets its own policy: web/sparql_editor.py),
  ``X-Content-Type-Options: nosniff``, ``Referrer-Policy: no-referrer`` (query text in URLs never leaks to the
  sites a result links to) and framing refused (``frame-ancestors 'none'`` and ``X-Frame-Options: DENY``).
- :class:`BodyLimitMiddleware` refuses a body longer than ``max_bytes`` with 413: at once when Content-Length says
  so, else while it streams in (chunked bodies), before the route has buffered it.
"""

from __future__ import annotations

import json

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from evidencemap.errors import EvidenceMapError

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; object-src 'none'; "
    "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
SECURITY_HEADERS = {
    "content-security-policy": CONTENT_SECURITY_POLICY,
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "x-frame-options": "DENY",
}


class SecurityHeadersMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                headers += [(k.encode(), v.encode()) for k, v in SECURITY_HEADERS.items() if k.encode() not in present]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)


class RequestTooLarge(EvidenceMapError):
    """The request body is longer than the server reads (413)."""

    status = 413


class BodyLimitMiddleware:
    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers", [])).get(b"content-length", b"")
        if declared.isdigit() and int(declared) > self.max_bytes:
            await _too_large(send, self.max_bytes)
            return
        received = 0
        limit = self.max_bytes

        async def capped_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    # Raised inside the route that reads the body; the error handlers answer 413.
                    raise RequestTooLarge(f"The request body is longer than {limit:,} bytes.",
                                          hint="Send a smaller body (EVIDENCEMAP_MAX_REQUEST_BYTES).")
            return message

        await self.app(scope, capped_receive, send)


async def _too_large(send: Send, limit: int) -> None:
    body = json.dumps({"ok": False, "error": f"The request body is longer than {limit:,} bytes.", "status": 413,
                       "hint": "Send a smaller body (EVIDENCEMAP_MAX_REQUEST_BYTES)."}).encode()
    await send({"type": "http.response.start", "status": 413, "headers": [
        (b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
        (b"connection", b"close"),
    ]})
    await send({"type": "http.response.body", "body": body})
