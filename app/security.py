"""HTTP hardening: security headers on every response, a request body limit, CORS from an
allow-list (see Settings), and a client that leaves mid-body treated as the end of its
request rather than a server error."""

import logging

from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.http_errors import error_response
from app.settings import Settings

logger = logging.getLogger("fidus.http")
# nginx's "client closed request": no one reads it, but metrics and logs say what happened
CLIENT_CLOSED_REQUEST = 499
BASE_HEADERS = (
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=()"),
)
API_CSP = (b"content-security-policy", b"default-src 'none'; frame-ancestors 'none'")
HSTS = (b"strict-transport-security", b"max-age=31536000; includeSubDomains")


class SecurityHeadersMiddleware:
    """Adds the headers a response does not set itself; JSON and text responses get a
    deny-all Content-Security-Policy (HTML pages such as GraphiQL set their own)."""

    def __init__(self, app: ASGIApp, hsts: bool = False) -> None:
        self.app = app
        self.hsts = hsts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                wanted = list(BASE_HEADERS) + ([HSTS] if self.hsts else [])
                content_type = dict(headers).get(b"content-type", b"")
                if not content_type.startswith(b"text/html"):
                    wanted.append(API_CSP)
                headers += [(name, value) for name, value in wanted if name not in present]
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, with_headers)


class BodyTooLarge(Exception):
    pass


def bounded(receive: Receive, limit: int) -> Receive:
    """``receive`` that fails once the body exceeds ``limit`` bytes (chunked bodies too)."""
    seen = 0

    async def receive_bounded() -> Message:
        nonlocal seen
        message = await receive()
        if message["type"] == "http.request":
            seen += len(message.get("body", b""))
            if seen > limit:
                raise BodyTooLarge
        return message

    return receive_bounded


class BodyLimitMiddleware:
    """Refuses request bodies above ``limit`` bytes (``multipart_limit`` for multipart
    uploads) with 413, by Content-Length up front or while a chunked body streams in."""

    def __init__(self, app: ASGIApp, limit: int, multipart_limit: int) -> None:
        self.app = app
        self.limit = limit
        self.multipart_limit = multipart_limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        multipart = headers.get(b"content-type", b"").startswith(b"multipart/")
        limit = self.multipart_limit if multipart else self.limit
        declared = headers.get(b"content-length")
        too_large = error_response(413, "BAD_USER_INPUT", f"request body above {limit} bytes")
        if declared is not None and (not declared.isdigit() or int(declared) > limit):
            await too_large(scope, receive, send)
            return
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, bounded(receive, limit), tracking_send)
        except BodyTooLarge:
            if not started:
                await too_large(scope, receive, send)


def middleware(settings: Settings) -> list[Middleware]:
    """Outermost first: CORS answers preflights before anything else runs."""
    stack = []
    if settings.cors_origins:
        stack.append(
            Middleware(
                CORSMiddleware,
                allow_origins=settings.cors_origins,
                allow_credentials=settings.cors_allow_credentials,
                allow_methods=["GET", "POST", "OPTIONS"],
                allow_headers=[
                    "authorization",
                    "content-type",
                    "x-request-id",
                    "apollo-require-preflight",
                    "x-apollo-operation-name",
                ],
                expose_headers=["x-request-id"],
                max_age=600,
            )
        )
    stack += [
        Middleware(SecurityHeadersMiddleware, hsts=settings.hsts),
        Middleware(
            BodyLimitMiddleware,
            limit=settings.max_request_bytes,
            multipart_limit=settings.max_multipart_bytes,
        ),
    ]
    return stack


async def client_gone(request: Request, exc: Exception) -> Response:
    """Starlette exception handler for ``ClientDisconnect``: the client closed its connection
    before sending the whole body (a killed feed, a dropped network), so nothing ran."""
    logger.info("client closed the request before its body ended", extra={"path": request.url.path})
    return Response(status_code=CLIENT_CLOSED_REQUEST)


EXCEPTION_HANDLERS = {ClientDisconnect: client_gone}
