"""``create_app(settings)``: the ASGI application and its lifespan (database, broker,
secrets, first admin). No import-time singletons: everything hangs off the app."""

import asyncio
import contextlib
import functools
import gc
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta

from beanie import init_beanie
from pymongo import AsyncMongoClient
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
    pymongo_compat,
    security,
    tracing,
)
from app.auth import AccessTokens, Argon2Hasher, load_or_create_signing_secret
from app.bootstrap import bootstrap_first_admin
from app.connections import Connections
from app.embedded import EmbeddedMongo
from app.graphql_view import FidusGraphQL
from app.logs import RequestIdMiddleware
from app.metrics import HttpMetricsMiddleware
from app.sanctions import load_sanctions
from app.settings import Settings
from models import ALL_DOCUMENTS
from models.sanctions import SanctionsList
from resolvers.core.context import Services
from resolvers.core.signed_tokens import TokenKeys, derive_key
from resolvers.portfolios.defaults import backfill_default_portfolios
from resolvers.portfolios.valuation_worker import ValuationWorker
from resolvers.webhooks.dispatcher import run_dispatcher
from schema import build_schema
from subscriptions.broker import Broker
from subscriptions.portfolios import PORTFOLIO_TOPIC_PREFIX, revalue_after_gap
from subscriptions.sinks import BufferLimits

log = logging.getLogger(__name__)
SHUTDOWN_GRACE = 10.0  # seconds background work may still take when the server stops


@dataclass
class Runtime:
    """What the lifespan set up; routes reach it through ``app.state.runtime``."""

    settings: Settings
    mongo: AsyncMongoClient[dict[str, object]]
    services: Services
    access_tokens: AccessTokens
    connections: Connections
    embedded: EmbeddedMongo | None = None
    worker: ValuationWorker | None = None  # the current one, when this process runs it


def sanctions_from(settings: Settings) -> SanctionsList | None:
    if settings.sanctions_file is None:
        log.warning("FIDUS_SANCTIONS_FILE is not set: prospects are not screened automatically")
        return None
    return load_sanctions(
        settings.sanctions_file, settings.aml_hit_threshold, settings.aml_review_threshold
    )


@contextlib.asynccontextmanager
async def open_runtime(
    settings: Settings, command_listeners: Sequence[CommandListener] = ()
) -> AsyncIterator[Runtime]:
    """Database (embedded or MONGODB_URL), Beanie, broker and signing secret; closed on exit.
    Also used by CLI commands that need the data layer without serving HTTP."""
    embedded: EmbeddedMongo | None = None
    url = settings.mongodb_url
    if url is None:
        embedded = EmbeddedMongo(settings.data_dir, sync_on_commit=settings.embedded_sync_on_commit)
        url = await asyncio.to_thread(embedded.start)
    pymongo_compat.install()
    mongo: AsyncMongoClient[dict[str, object]] = AsyncMongoClient(
        url,
        tz_aware=True,
        event_listeners=list(command_listeners),
        serverSelectionTimeoutMS=settings.mongo_timeout_ms,
        connectTimeoutMS=settings.mongo_timeout_ms,
    )
    broker = open_broker(settings)
    try:
        await init_beanie(database=mongo[settings.db_name], document_models=ALL_DOCUMENTS)
        secret = (
            settings.jwt_secret.get_secret_value()
            if settings.jwt_secret
            else await load_or_create_signing_secret()
        )
        tokens = AccessTokens(
            derive_key(secret, "access-token").hex(),
            timedelta(minutes=settings.access_token_minutes),
        )
        await broker.connect()
        services = Services(
            passwords=Argon2Hasher(
                settings.argon2_time_cost, settings.argon2_memory_kib, settings.argon2_parallelism
            ),
            access_tokens=tokens,
            token_keys=TokenKeys.derived_from(secret),
            broker=broker,
            policy=settings.identity_policy(),
            max_page_size=settings.max_page_size,
            max_subscriptions_per_connection=settings.max_subscriptions_per_connection,
            write_limits=settings.write_limits(),
            persisted_queries=settings.persisted_queries,
            persisted_query_limits=settings.persisted_query_limits(),
            event_join_ttl=timedelta(minutes=settings.event_join_link_minutes),
            max_upload_bytes=settings.max_upload_bytes,
            download_ttl=timedelta(seconds=settings.download_url_seconds),
            sanctions=sanctions_from(settings),
            investor_backdate_days=settings.investor_backdate_days,
            webhooks=settings.webhook_config(
                derive_key(
                    settings.webhook_secret_key.get_secret_value()
                    if settings.webhook_secret_key
                    else secret,
                    "webhook-secrets",
                )
            ),
        )
        connections = Connections(
            tokens,
            services.clock,
            settings.max_connections_per_user,
            settings.ws_session_recheck_seconds,
        )
        yield Runtime(settings, mongo, services, tokens, connections, embedded)
    finally:
        await broker.disconnect()
        await mongo.close()
        if embedded is not None:
            await asyncio.to_thread(embedded.stop)


def open_broker(settings: Settings) -> Broker:
    """The process's broker. After a lost Redis connection, ticks are filled in by the
    broker itself and portfolio subscribers get the current valuation again (hook below);
    the other streams' consumers re-read by themselves (``listen(gaps=True)``)."""
    broker = Broker(
        settings.redis_url,
        namespace=settings.db_name,
        buffer_limits=BufferLimits(
            messages=settings.subscriber_buffer_messages, bytes=settings.subscriber_buffer_bytes
        ),
        tick_log_seconds=settings.tick_log_seconds,
    )
    broker.on_gap(PORTFOLIO_TOPIC_PREFIX, functools.partial(revalue_after_gap, broker))
    return broker


async def run_worker(runtime: Runtime) -> None:
    """The valuation worker, restarted if it fails or loses its lease."""
    window = runtime.settings.valuation_window_ms / 1000
    while True:
        runtime.worker = ValuationWorker(
            runtime.services.broker, window, runtime.settings.worker_lease_ms
        )
        try:
            await runtime.worker.run()
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("valuation worker stopped; restarting")
            await asyncio.sleep(1.0)


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
