"""The process's collaborators, opened and closed together: the database (embedded or
MONGODB_URL), Beanie, the broker, the signing secret and everything derived from it
(``Services``); and the valuation worker that runs on them. Used by the server's
lifespan (app.factory) and by CLI commands that need the data layer without HTTP."""

import asyncio
import contextlib
import functools
import logging
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import timedelta

from beanie import init_beanie
from pymongo import AsyncMongoClient
from pymongo.monitoring import CommandListener

from app import pymongo_compat
from app.auth import AccessTokens, Argon2Hasher, load_or_create_signing_secret
from app.connections import Connections
from app.embedded import EmbeddedMongo
from app.sanctions import load_sanctions
from app.settings import Settings
from models import ALL_DOCUMENTS
from models.sanctions import SanctionsList
from resolvers.core.context import Services
from resolvers.core.signed_tokens import TokenKeys, derive_key
from resolvers.portfolios.valuation_worker import ValuationWorker
from subscriptions.broker import Broker
from subscriptions.portfolios import PORTFOLIO_TOPIC_PREFIX, revalue_after_gap
from subscriptions.sinks import BufferLimits

log = logging.getLogger(__name__)


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
