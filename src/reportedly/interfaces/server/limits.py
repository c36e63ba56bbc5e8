"""The request body cap, enforced before a body is read whole.

A declared ``Content-Length`` over the cap is refused before the application sees the request;
a body without one (chunked) is counted as it streams in and refused at the first chunk that
crosses the cap. Either way no more than the cap is ever held in memory.
"""

from __future__ import annotations

import json
from html import escape

from starlette.types import ASGIApp, Message, Receive, Scope, Send


class BodyTooLarge(Exception):
    def __init__(self, limit: int) -> None:
        super().__init__(f"request body is over the {limit:,}-byte limit")
        self.limit = limit


def wants_json(path: str) -> bool:
    """API paths answer errors in JSON; the web pages answer with a page a person can read."""
    return not (path == "/" or path.startswith(("/analyze", "/corpus", "/api-docs", "/stories", "/claims", "/events")))


def error_page(status: int, message: str) -> str:
    return (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'><title>reportedly: error</title>"
        "<link rel='stylesheet' href='/static/style.css'></head><body><main class='page narrow'>"
        f"<h1>Error {status}</h1><p class='error'>{escape(message)}</p><p><a href='/'>Back to the start page</a></p>"
        "</main></body></html>"
    )


async def send_error(scope: Scope, send: Send, status: int, message: str) -> None:
    if wants_json(scope.get("path", "")):
        body, media = json.dumps({"error": message}).encode(), b"application/json"
    else:
        body, media = error_page(status, message).encode(), b"text/html; charset=utf-8"
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", media), (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})


class BodyLimitMiddleware:
    """Pure ASGI middleware: it must sit below the body parsers, so no BaseHTTPMiddleware."""

    def __init__(self, app: ASGIApp, max_body: int) -> None:
        self.app = app
        self.max_body = max_body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_body:
            await send_error(scope, send, 413, str(BodyTooLarge(self.max_body)))
            return
        received = 0
        started = False

        async def counted_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_body:
                    raise BodyTooLarge(self.max_body)
            return message

        async def tracked_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counted_receive, tracked_send)
        except BodyTooLarge as exc:
            if started:  # too late for a status line; let the server drop the connection
                raise
            await send_error(scope, send, 413, str(exc))
