"""The ``fidus`` command line."""

import argparse
import asyncio
import contextlib
import getpass
import json
import os
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from beanie import PydanticObjectId
from pydantic import ValidationError

from app import mt5_feed, mt5_files, schema_check
from app.factory import SHUTDOWN_GRACE, create_app, open_runtime, run_worker
from app.logs import configure_logging
from app.mt5_bridge import Bridge, BridgeUnavailable, load_terminal
from app.mt5_feed import Deliver, DeliverSnapshot
from app.settings import Settings
from models.errors import FidusError
from models.tenants import Tenant
from resolvers import persisted_queries
from resolvers.ingest import ingest_ticks
from resolvers.mt5_accounts import ingest_snapshot
from resolvers.service_tokens import ServiceCaller
from resolvers.tenants import NewTenant, create_tenant
from schema import build_schema
from schema.persisted import document_errors


def _announce(message: str) -> None:
    print(f"\n*** {message}\n", flush=True)


def _load_settings(**overrides: object) -> Settings:
    try:
        settings = Settings()
    except ValidationError as exc:
        sys.exit(f"fidus: invalid configuration:\n{exc}")
    values = {k: v for k, v in overrides.items() if v is not None}
    return settings.model_copy(update=values) if values else settings


def cmd_serve(args: argparse.Namespace) -> int:
    settings = _load_settings(host=args.host, port=args.port)
    configure_logging(settings.log_level, settings.log_format)
    app = create_app(settings, announce=_announce)
    print(
        f"Fidus on http://{settings.host}:{settings.port}/graphql"
        f" (GraphiQL {'on' if settings.graphiql_enabled else 'off'},"
        f" database {'embedded SecantusDB' if settings.embedded else 'MONGODB_URL'},"
        f" broker {'Redis' if settings.redis_url else 'in-process memory'})",
        flush=True,
    )
    uvicorn.run(
        app,
        host=settings.host,
        port=settings.port,
        log_config=None,
        access_log=settings.access_log,
        proxy_headers=False,  # X-Forwarded-For: app.client_address, trusted proxies only
        server_header=False,
        ws_per_message_deflate=settings.ws_compression,
    )
    return 0


def _admin_password() -> str:
    from_env = os.environ.get("FIDUS_ADMIN_PASSWORD")
    if from_env:
        return from_env
    if not sys.stdin.isatty():
        sys.exit("fidus: set FIDUS_ADMIN_PASSWORD or run in a terminal to be prompted")
    first = getpass.getpass("Admin password: ")
    if first != getpass.getpass("Repeat: "):
        sys.exit("fidus: passwords differ")
    return first


def cmd_tenant_create(args: argparse.Namespace) -> int:
    settings = _load_settings()
    configure_logging("WARNING", settings.log_format)
    new = NewTenant(
        slug=args.slug,
        admin_email=args.admin_email,
        admin_password=_admin_password(),
        name=args.name,
    )

    async def run() -> str:
        async with open_runtime(settings) as runtime:
            tenant, admin = await create_tenant(runtime.services, new)
            return f"Created tenant '{tenant.slug}' with ADMIN {admin.email}"

    try:
        print(asyncio.run(run()))
    except FidusError as exc:
        print(f"fidus: {exc.message}", file=sys.stderr)
        return 1
    return 0


def cmd_worker(args: argparse.Namespace) -> int:
    """Standalone valuation worker; with REDIS_URL, one active instance holds the lease."""
    settings = _load_settings()
    configure_logging(settings.log_level, settings.log_format)
    if settings.redis_url is None:
        print(
            "fidus: `fidus worker` serves multi-process deployments: set REDIS_URL "
            "(the embedded `fidus serve` runs its worker in-process)",
            file=sys.stderr,
        )
        return 2

    async def run() -> None:
        async with open_runtime(settings) as runtime:
            await run_worker(runtime)

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(run())
    return 0


@dataclass(frozen=True)
class FeedTarget:
    """Where a feed sends ticks and account snapshots."""

    ticks: Deliver
    snapshot: DeliverSnapshot


def _run_feed(args: argparse.Namespace, feed: Callable[[FeedTarget], Awaitable[int]]) -> int:
    """Post to --url with --token, or (without --url) ingest through this deployment's
    broker for --tenant, exactly as POST /mt5/ticks and /mt5/accounts would."""
    if args.url:
        if not args.token:
            sys.exit("fidus: --url needs --token (a service token with scope mt5:ingest)")

        async def over_http() -> int:
            async with httpx.AsyncClient(timeout=30) as client:
                return await feed(
                    FeedTarget(
                        mt5_feed.http_delivery(client, args.url, args.token),
                        mt5_feed.http_snapshot_delivery(client, args.url, args.token),
                    )
                )

        return asyncio.run(over_http())
    if not args.tenant:
        sys.exit("fidus: give --url and --token, or --tenant to publish through REDIS_URL")
    settings = _load_settings()

    async def direct() -> int:
        async with open_runtime(settings) as runtime:
            tenant = await Tenant.find_one({"slug": args.tenant})
            if tenant is None or tenant.id is None:
                sys.exit(f"fidus: no tenant '{args.tenant}'")
            caller = ServiceCaller(tenant.id, PydanticObjectId(), frozenset({"mt5:ingest"}))
            services = runtime.services

            async def ticks(batch: list[dict[str, Any]]) -> int:
                now_ms = int(time.time() * 1000)
                return len((await ingest_ticks(services, caller, batch, now_ms)).accepted)

            async def snapshot(body: dict[str, Any]) -> None:
                await ingest_snapshot(services, caller, body)

            try:
                return await feed(FeedTarget(ticks, snapshot))
            finally:  # a mark being retried after a Redis hiccup, as `fidus serve` would
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(services.background.drain(), SHUTDOWN_GRACE)

    return asyncio.run(direct())


def _symbols(raw: str | None) -> list[str] | None:
    return [s.strip() for s in raw.split(",") if s.strip()] if raw else None


def cmd_mt5_replay(args: argparse.Namespace) -> int:
    path = Path(args.file)
    if not path.is_file():
        sys.exit(f"fidus: no such file {path}")
    wanted = _symbols(args.symbols)
    ticks = [
        t
        for t in mt5_files.read_ticks(path, args.symbol)
        if wanted is None or t["symbol"] in wanted
    ]
    accepted = _run_feed(
        args,
        lambda target: mt5_feed.replay(
            ticks, target.ticks, args.speed, args.keep_time, progress=not args.no_progress
        ),
    )
    print(f"Replayed {len(ticks)} ticks from {path.name}: {accepted} accepted")
    return 0


def cmd_mt5_simulate(args: argparse.Namespace) -> int:
    symbols = _symbols(args.symbols) or ["EURUSD", "XAUUSD"]
    walk = mt5_files.random_walk(symbols, args.seed)
    with contextlib.suppress(KeyboardInterrupt):
        accepted = _run_feed(
            args, lambda target: mt5_feed.simulate(walk, target.ticks, args.rate, args.count)
        )
        print(f"Simulated ticks for {', '.join(symbols)}: {accepted} accepted")
    return 0


def cmd_mt5_bridge(args: argparse.Namespace) -> int:
    try:
        terminal = load_terminal()
    except BridgeUnavailable as exc:
        print(f"fidus: {exc}", file=sys.stderr)
        return 2
    symbols = _symbols(args.symbols) or ["EURUSD", "XAUUSD"]

    async def run(target: FeedTarget) -> int:
        bridge = Bridge(
            terminal,
            symbols,
            target.ticks,
            target.snapshot,
            server_utc_offset_hours=args.server_utc_offset,
            interval=args.interval,
            accounts_every=args.accounts_every,
        )
        bridge.open()
        try:
            with contextlib.suppress(asyncio.CancelledError):
                await bridge.run(args.polls)
        finally:
            bridge.close()
            print(
                f"Bridged {', '.join(symbols)}: {bridge.sent} ticks sent, {bridge.accepted} "
                f"accepted, {bridge.snapshots} account snapshots"
            )
        return bridge.accepted

    try:
        with contextlib.suppress(KeyboardInterrupt):
            _run_feed(args, run)
    except BridgeUnavailable as exc:
        print(f"fidus: {exc}", file=sys.stderr)
        return 2
    return 0


def _add_target(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--url", default=None, help="post to this server's /mt5/ticks")
    parser.add_argument("--token", default=None, help="service token with scope mt5:ingest")
    parser.add_argument(
        "--tenant", default=None, help="without --url: ingest for this tenant through REDIS_URL"
    )


def cmd_register_persisted(args: argparse.Namespace) -> int:
    """Load a client build's persisted-query manifest into the registry: all of it, or
    nothing when one operation is too long or does not validate against the schema."""
    path = Path(args.manifest)
    try:
        entries = persisted_queries.manifest_entries(json.loads(path.read_text()))
    except (OSError, ValueError, FidusError) as exc:
        print(f"fidus: {path}: {exc}", file=sys.stderr)
        return 2
    settings = _load_settings()
    limits, schema = settings.persisted_query_limits(), build_schema(settings.schema_limits())
    for sha, query, name in entries:
        problems = document_errors(schema, settings.schema_limits(), query)
        if len(query) > limits.max_chars:
            problems.append(f"longer than {limits.max_chars} characters")
        if problems:
            print(f"fidus: {path}: {name or sha[:16]}: {problems[0]}", file=sys.stderr)
            return 2

    async def run() -> None:
        async with open_runtime(settings):
            for _sha, query, name in entries:
                await persisted_queries.register_manifest_entry(query, name, limits)

    asyncio.run(run())
    print(f"Registered {len(entries)} persisted queries from {path.name}")
    return 0


def cmd_schema_check(args: argparse.Namespace) -> int:
    """Breaking changes against the published schema, and drift of schema.graphql."""
    current = schema_check.code_sdl()
    stale = schema_check.drift(current)
    if args.accept:
        if stale:
            print(f"schema-check: {stale}", file=sys.stderr)
            return 1
        schema_check.PREVIOUS_FILE.write_text(current)
        print(f"Wrote {schema_check.PREVIOUS_FILE.name}")
        return 0
    try:
        previous = (
            schema_check.previous_at(args.against)
            if args.against
            else schema_check.PREVIOUS_FILE.read_text()
        )
    except schema_check.SchemaCheckError as exc:
        sys.exit(f"schema-check: {exc}")
    report = schema_check.compare(previous, current)
    for change in report.dangerous:
        print(f"dangerous: {change}")
    for change in report.breaking:
        print(f"BREAKING: {change}")
    if stale:
        print(f"DRIFT: {stale}")
    if report.breaking or stale:
        return 1
    against = args.against or schema_check.PREVIOUS_FILE.name
    print(f"schema-check: no breaking change against {against}, schema.graphql up to date")
    return 0


def cmd_export_schema(args: argparse.Namespace) -> int:
    sdl = build_schema().as_str() + "\n"
    if args.path:
        Path(args.path).write_text(sdl)
        print(f"Wrote {args.path}")
    else:
        sys.stdout.write(sdl)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="fidus", description="Fidus GraphQL API server")
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="serve the API (embedded default without URLs)")
    serve.add_argument("--host", default=None, help="default FIDUS_HOST or 127.0.0.1")
    serve.add_argument("--port", type=int, default=None, help="default FIDUS_PORT or 8000")
    serve.set_defaults(handler=cmd_serve)

    tenant = commands.add_parser("tenant", help="manage tenants").add_subparsers(
        dest="tenant_command", required=True
    )
    create = tenant.add_parser("create", help="create a tenant with its first ADMIN")
    create.add_argument("--slug", required=True)
    create.add_argument("--admin-email", required=True)
    create.add_argument("--name", default=None, help="display name (default: the slug)")
    create.set_defaults(handler=cmd_tenant_create)

    worker = commands.add_parser("worker", help="valuation worker for multi-process deployments")
    worker.set_defaults(handler=cmd_worker)

    mt5 = commands.add_parser("mt5", help="MetaTrader 5 feeds").add_subparsers(
        dest="mt5_command", required=True
    )
    replay = mt5.add_parser("replay", help="replay a terminal or Python-API tick export")
    replay.add_argument("file")
    replay.add_argument("--speed", type=float, default=1.0, help="time factor (10 = 10x faster)")
    replay.add_argument("--symbols", default=None, help="only these symbols, comma separated")
    replay.add_argument("--symbol", default=None, help="symbol of the file (default: its name)")
    replay.add_argument("--keep-time", action="store_true", help="keep the original times")
    replay.add_argument("--no-progress", action="store_true")
    _add_target(replay)
    replay.set_defaults(handler=cmd_mt5_replay)
    simulate = mt5.add_parser("simulate", help="random-walk ticks")
    simulate.add_argument("--symbols", default=None, help="comma separated")
    simulate.add_argument("--rate", type=float, default=10.0, help="ticks per second")
    simulate.add_argument("--count", type=int, default=None, help="stop after this many")
    simulate.add_argument("--seed", type=int, default=None)
    _add_target(simulate)
    simulate.set_defaults(handler=cmd_mt5_simulate)

    bridge = mt5.add_parser("bridge", help="poll a MetaTrader 5 terminal (MetaTrader5 package)")
    bridge.add_argument("--symbols", default=None, help="comma separated (default EURUSD,XAUUSD)")
    bridge.add_argument("--interval", type=float, default=0.25, help="seconds between polls")
    bridge.add_argument(
        "--accounts-every", type=float, default=10.0, help="seconds between account snapshots"
    )
    bridge.add_argument(
        "--server-utc-offset",
        type=float,
        default=0.0,
        help="hours the trade server's clock is ahead of UTC (its tick times are shifted back)",
    )
    bridge.add_argument("--polls", type=int, default=None, help="stop after this many polls")
    _add_target(bridge)
    bridge.set_defaults(handler=cmd_mt5_bridge)

    persisted = commands.add_parser(
        "persisted-queries", help="the persisted-query registry"
    ).add_subparsers(dest="persisted_command", required=True)
    register = persisted.add_parser("register", help="load a persisted-query manifest (JSON)")
    register.add_argument("manifest")
    register.set_defaults(handler=cmd_register_persisted)

    check = commands.add_parser("schema-check", help="breaking changes and schema.graphql drift")
    check.add_argument("--against", metavar="REF", help="git ref whose schema.graphql to use")
    check.add_argument("--accept", action="store_true", help="publish schema.graphql as previous")
    check.set_defaults(handler=cmd_schema_check)

    export = commands.add_parser("export-schema", help="write the GraphQL SDL")
    export.add_argument("path", nargs="?", default=None)
    export.set_defaults(handler=cmd_export_schema)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.handler(args))


if __name__ == "__main__":
    sys.exit(main())
