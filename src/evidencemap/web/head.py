"""HEAD answered as the GET of the same resource without its body (RFC 9110, section 9.3.2).

FastAPI routes are declared for GET only, so link checkers, ``curl -I`` and caches that probe with HEAD got 405.
This middleware runs the GET (through every inner middleware, so the status, ETag, Content-Length and security
headers are exactly the GET's) and drops the body on its way out.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send


class HeadAsGetMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "HEAD":
            await self.app(scope, receive, send)
            return

        async def headers_only(message: Message) -> None:
            if message["type"] != "http.response.body":
                await send(message)
            elif not message.get("more_body", False):
                await send({"type": "http.response.body", "body": b"", "more_body": False})

        await self.app({**scope, "method": "GET"}, receive, headers_only)
