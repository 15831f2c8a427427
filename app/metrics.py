"""Prometheus metrics: GET /metrics, and the HTTP request metrics of the ASGI layer.
GraphQL operations, active subscriptions and broker reconnects are counted where they
happen (schema.core.observability, schema.core.streams, subscriptions.redis_backend)."""

import hmac
import time

from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, Counter, Histogram, generate_latest
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Mount, Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

HTTP_REQUESTS = Counter(
    "fidus_http_requests_total", "HTTP requests by route and status", ["method", "route", "status"]
)
HTTP_LATENCY = Histogram(
    "fidus_http_request_seconds",
    "HTTP request latency by route",
    ["route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
TICKS_INGESTED = Counter("fidus_ticks_ingested_total", "Ticks accepted by POST /mt5/ticks")
TICKS_REJECTED = Counter(
    "fidus_ticks_rejected_total", "Ticks rejected by POST /mt5/ticks, by reason", ["reason"]
)
LOOPBACK_ONLY = "metrics need FIDUS_METRICS_TOKEN when Fidus listens beyond loopback\n"
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


def route_label(scope: Scope) -> str:
    """The template of the route that took the request (``/documents/{id}/download``);
    ``other`` for anything no route matched, so random paths add no series."""
    route = scope.get("route")
    if isinstance(route, Route | Mount):
        return route.path_format
    return "other"


def method_label(method: str) -> str:
    return method if method in METHODS else "other"


def rejection_label(reason: str) -> str:
    """The reason's subject (``stale``, ``symbol``, ``bid``, ``time_msc``, ...)."""
    head = reason.split(" ", 1)[0].rstrip(":")
    return head if head.replace("_", "").isalpha() and len(head) <= 20 else "other"


class HttpMetricsMiddleware:
    """Counts and times HTTP requests (WebSockets are counted as GraphQL operations)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def observe(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, observe)
        finally:
            route = route_label(scope)
            HTTP_REQUESTS.labels(method_label(scope["method"]), route, str(status)).inc()
            HTTP_LATENCY.labels(route).observe(time.perf_counter() - started)


async def metrics(request: Request) -> Response:
    """Prometheus text format; with FIDUS_METRICS_TOKEN set, only for that bearer token.
    Without a token it is served only while Fidus listens on loopback (else 403).
    The text is rendered in a worker thread: a large registry never stalls the event loop."""
    settings = request.app.state.runtime.settings
    expected = settings.metrics_token
    if expected is None and not settings.listens_on_loopback:
        return Response(LOOPBACK_ONLY, status_code=403, media_type="text/plain")
    if expected is not None:
        given = request.headers.get("authorization", "").removeprefix("Bearer ").strip()
        if not hmac.compare_digest(given.encode(), expected.get_secret_value().encode()):
            return Response("unauthorized\n", status_code=401, media_type="text/plain")
    body = await run_in_threadpool(generate_latest, REGISTRY)
    return Response(body, media_type=CONTENT_TYPE_LATEST)
