"""``create_app(settings)``: the ASGI application, its routes and middleware, and its
lifespan (the runtime of app.runtime, the first admin, the tasks beside the server). No
import-time singletons: everything hangs off the app."""

import asyncio
import contextlib
import gc
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence

from pymongo.monitoring import CommandListener
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.routing import Route, WebSocketRoute

from app import (
    documents,
    events,
    graphiql,
    health,
    metrics,
    mt5,
    security,
    tracing,
)
from app.bootstrap import bootstrap_first_admin
from app.graphql_view import FidusGraphQL
from app.logs import RequestIdMiddleware
from app.metrics import HttpMetricsMiddleware
from app.runtime import Runtime, open_runtime, run_worker
from app.settings import Settings
from resolvers.portfolios.defaults import backfill_default_portfolios
from resolvers.webhooks.dispatcher import run_dispatcher
from schema import build_schema

log = logging.getLogger(__name__)
SHUTDOWN_GRACE = 10.0  # seconds background work may still take when the server stops


async def _run_companion(companion: Callable[[Runtime], Awaitable[None]], rt: Runtime) -> None:
    """A failing companion is logged; the server it runs beside keeps serving."""
    try:
        await companion(rt)
    except asyncio.CancelledError:
        raise
    except Exception:
        log.exception("the task beside the server stopped")


def tune_garbage_collector() -> None:
    """Everything loaded at start-up (modules, schema, settings) lives as long as the
    process: freeze it out of the collector's scans, and collect the young generation less
    often — a subscription fan-out allocates many short-lived objects per message."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(50_000, 20, 20)


def create_app(
    settings: Settings,
    announce: Callable[[str], None] | None = None,
    command_listeners: Sequence[CommandListener] = (),
    companion: Callable[[Runtime], Awaitable[None]] | None = None,
) -> Starlette:
    """``announce`` receives the one-time message with a generated admin password;
    ``command_listeners`` observe every MongoDB command (tests count round trips);
    ``companion`` runs beside the server from its start (``fidus demo``'s data and feed),
    cancelled when it stops."""
    state: dict[str, Runtime] = {}

    def runtime() -> Runtime:
        return state["runtime"]

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async with open_runtime(settings, command_listeners) as rt:
            state["runtime"] = rt
            app.state.runtime = rt
            await bootstrap_first_admin(settings, rt.services, announce)
            await backfill_default_portfolios()  # investors created before they came with one
            worker = (
                asyncio.create_task(run_worker(rt), name="valuation-worker")
                if settings.worker
                else None
            )
            dispatcher = (
                asyncio.create_task(run_dispatcher(rt.services), name="webhook-dispatcher")
                if settings.webhook_dispatcher
                else None
            )
            sockets = asyncio.create_task(
                rt.connections.run(rt.services.broker), name="connection-revocations"
            )
            transactions = asyncio.create_task(
                rt.services.transactions.run(), name="transaction-sessions"
            )
            beside = (
                asyncio.create_task(_run_companion(companion, rt), name="companion")
                if companion is not None
                else None
            )
            tune_garbage_collector()
            if settings.metrics_token is None and not settings.listens_on_loopback:
                log.warning("GET /metrics answers 403 until FIDUS_METRICS_TOKEN is set")
            log.info(
                "fidus ready",
                extra={"embedded": settings.embedded, "graphiql": settings.graphiql_enabled},
            )
            try:
                yield
            finally:
                for task in (beside, worker, dispatcher, sockets, transactions):
                    if task is not None:
                        task.cancel()
                        with contextlib.suppress(asyncio.CancelledError):
                            await task
                await rt.services.transactions.withdraw()
                # work requests started after answering (a reset mail, say) is not lost
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(rt.services.background.drain(), SHUTDOWN_GRACE)

    if settings.otel_enabled:
        tracing.configure(settings)
    graphql = FidusGraphQL(
        build_schema(settings.schema_limits(), tracing.schema_extensions(settings)),
        runtime,
        graphiql=settings.graphiql_enabled,
        # backstop for every in-flight operation; subscriptions are counted in schema.core.streams
        max_subscriptions_per_connection=settings.max_subscriptions_per_connection + 10,
        keepalive_seconds=settings.ws_keepalive_seconds,
    )
    return Starlette(
        routes=[
            Route("/health", health.live, methods=["GET"]),
            Route("/health/ready", health.ready, methods=["GET"]),
            Route("/metrics", metrics.metrics, methods=["GET"]),
            Route("/mt5/ticks", mt5.post_ticks, methods=["POST"]),
            Route("/mt5/accounts", mt5.post_account, methods=["POST"]),
            Route("/events/{event_id}.ics", events.ics, methods=["GET"]),
            Route("/events/{event_id}/join", events.join, methods=["GET"]),
            Route("/documents/{id}/download", documents.download, methods=["GET"]),
            Route("/graphql", graphql, methods=["GET", "POST"]),
            WebSocketRoute("/graphql", graphql),
            *graphiql.routes(settings.graphiql_enabled),
        ],
        middleware=[
            *tracing.middleware(settings),
            *security.middleware(settings),
            Middleware(RequestIdMiddleware),
            Middleware(HttpMetricsMiddleware),
        ],
        exception_handlers=security.EXCEPTION_HANDLERS,
        lifespan=lifespan,
    )
