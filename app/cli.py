"""The ``fidus`` command line."""

import argparse
import asyncio
import contextlib
import functools
import getpass
import json
import os
import secrets
import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeAlias

import httpx
import uvicorn
from beanie import PydanticObjectId
from pydantic import ValidationError

from app import mt5_feed, mt5_files, schema_check
from app.bootstrap import DEMO_TENANT
from app.demo import DemoOptions, run_demo
from app.demo_data import SYMBOLS as DEMO_SYMBOLS
from app.factory import SHUTDOWN_GRACE, Runtime, create_app, open_runtime, run_worker
from app.logs import configure_logging
from app.mt5_bridge import Bridge, BridgeUnavailable, load_terminal
from app.mt5_feed import Deliver, DeliverSnapshot
from app.mt5_simulator import Market, parse_prices
from app.settings import Settings
from models.errors import FidusError
from models.tenants import Tenant, is_valid_slug
from resolvers.core import persisted_queries
from resolvers.core.context import RequestContext
from resolvers.identity.service_tokens import ServiceCaller
from resolvers.identity.sign_in import reset_password_by_operator
from resolvers.identity.tenants import NewTenant, create_tenant
from resolvers.mt5.accounts import ingest_snapshot
from schema import build_schema
from schema.core.persisted import document_errors


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
    _serve(_load_settings(host=args.host, port=args.port), _announce)
    return 0


def _serve(
    settings: Settings,
    announce: Callable[[str], None],
    companion: Callable[[Runtime], Awaitable[None]] | None = None,
) -> None:
    configure_logging(settings.log_level, settings.log_format)
    app = create_app(settings, announce=announce, companion=companion)
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


def cmd_demo(args: argparse.Namespace) -> int:
    """`fidus serve` plus a seeded tenant and the simulated feed (app.demo)."""
    settings = _load_settings(host=args.host, port=args.port)
    if not settings.embedded:
        print(
            "fidus: `fidus demo` adds sample data and sets new passwords: it runs on the "
            "embedded database only (unset MONGODB_URL)",
            file=sys.stderr,
        )
        return 2
    slug = args.tenant.strip().lower()
    if not is_valid_slug(slug):
        sys.exit(f"fidus: '{args.tenant}' is not a valid tenant slug")
    options = DemoOptions(
        tenant=slug,
        url=f"http://{settings.host}:{settings.port}",
        symbols=_symbols(args.symbols) or DEMO_SYMBOLS,
        rate=args.rate,
        prices=args.prices or {},
        seed=args.seed,
    )

    def announce(message: str) -> None:  # the demo prints a new password for that ADMIN
        if slug != DEMO_TENANT:
            _announce(message)

    _serve(settings, announce, functools.partial(run_demo, options))
    return 0


def cmd_user_reset_password(args: argparse.Namespace) -> int:
    """A new password for a user (the one-time ADMIN password was missed, say): generated
    and shown once, or typed at a prompt; the user's sessions end."""
    settings = _load_settings()
    configure_logging("WARNING", settings.log_format)
    password = _typed_password("New password: ") if args.prompt else secrets.token_urlsafe(18)

    async def run() -> str:
        async with open_runtime(settings) as runtime:
            ctx = RequestContext(runtime.services, request_id="cli", user_agent="fidus cli")
            user = await reset_password_by_operator(ctx, args.tenant, args.email, password)
            return user.email

    try:
        email = asyncio.run(run())
    except FidusError as exc:
        print(f"fidus: {exc.message}", file=sys.stderr)
        return 1
    if args.prompt:
        print(f"Password of {email} in tenant '{args.tenant}' changed; their sessions ended")
    else:
        print(
            f"New password of {email} in tenant '{args.tenant}': {password}  "
            "(shown once: store it now; their sessions ended)"
        )
    return 0


def _admin_password() -> str:
    from_env = os.environ.get("FIDUS_ADMIN_PASSWORD")
    if from_env:
        return from_env
    if not sys.stdin.isatty():
        sys.exit("fidus: set FIDUS_ADMIN_PASSWORD or run in a terminal to be prompted")
    return _typed_password("Admin password: ")


def _typed_password(prompt: str) -> str:
    if not sys.stdin.isatty():
        sys.exit("fidus: run in a terminal to be prompted for the password")
    first = getpass.getpass(prompt)
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

            async def snapshot(body: dict[str, Any]) -> None:
                await ingest_snapshot(services, caller, body)

            try:
                return await feed(
                    FeedTarget(mt5_feed.ingest_delivery(services, tenant.id), snapshot)
                )
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
    """Until --count, or until Ctrl+C, which ends it as successfully (exit 0) with the
    same summary."""
    symbols = _symbols(args.symbols) or ["EURUSD", "XAUUSD"]
    ticks = Market(symbols, args.seed, args.prices).ticks()
    stats = mt5_feed.FeedStats()

    async def feed(target: FeedTarget) -> int:
        await mt5_feed.simulate(ticks, target.ticks, args.rate, args.count, stats)
        return stats.accepted

    ending = ""
    try:
        _run_feed(args, feed)
    except KeyboardInterrupt:
        ending = " (interrupted)"
    print(stats.summary(f"Simulated {', '.join(symbols)}") + ending, flush=True)
    return 0


def _prices(raw: str) -> dict[str, float]:
    try:
        return parse_prices(raw)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from exc


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


class _Help(argparse.ArgumentDefaultsHelpFormatter):
    """Every option's default in --help, except where there is none to show."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        nothing = action.default is None or action.default is False  # (0.0 is a default)
        if nothing or "default" in (action.help or ""):
            return action.help
        return super()._get_help_string(action)


Commands: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"


def _command(commands: Commands, name: str, summary: str) -> argparse.ArgumentParser:
    return commands.add_parser(name, help=summary, description=summary, formatter_class=_Help)


def _add_listen(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default=None, help="(default: FIDUS_HOST or 127.0.0.1)")
    parser.add_argument("--port", type=int, default=None, help="(default: FIDUS_PORT or 8000)")


def _add_market(parser: argparse.ArgumentParser, symbols: list[str], rate: float) -> None:
    parser.add_argument(
        "--symbols", default=",".join(symbols), help="comma separated broker symbols"
    )
    parser.add_argument("--rate", type=float, default=rate, help="ticks per second, all symbols")
    parser.add_argument(
        "--prices",
        type=_prices,
        default=None,
        metavar="SYMBOL=PRICE,...",
        help="start prices, e.g. EURUSD=1.09,XAUUSD=2350 (default: a plausible price per "
        "known symbol, 100 for unknown ones)",
    )
    parser.add_argument("--seed", type=int, default=None, help="random seed (repeatable runs)")


def _add_target(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--url", default=None, help="post to this server's /mt5/ticks")
    parser.add_argument("--token", default=None, help="service token with scope mt5:ingest")
    parser.add_argument(
        "--tenant", default=None, help="without --url: ingest for this tenant through REDIS_URL"
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="fidus", description="Fidus GraphQL API server", formatter_class=_Help
    )
    commands = parser.add_subparsers(dest="command", required=True)

    serve = _command(commands, "serve", "serve the API (embedded default without URLs)")
    _add_listen(serve)
    serve.set_defaults(handler=cmd_serve)

    demo = _command(
        commands,
        "demo",
        "serve the API with a sample tenant and a simulated market feed (embedded only)",
    )
    _add_listen(demo)
    demo.add_argument("--tenant", default=DEMO_TENANT, help="tenant to create or fill")
    _add_market(demo, DEMO_SYMBOLS, 5.0)
    demo.set_defaults(handler=cmd_demo)

    tenant = _command(commands, "tenant", "manage tenants").add_subparsers(
        dest="tenant_command", required=True
    )
    create = _command(tenant, "create", "create a tenant with its first ADMIN")
    create.add_argument("--slug", required=True, help="lower-case letters, digits, hyphens")
    create.add_argument("--admin-email", required=True, help="the first ADMIN's email")
    create.add_argument("--name", default=None, help="display name (default: the slug)")
    create.set_defaults(handler=cmd_tenant_create)

    user = _command(commands, "user", "manage users").add_subparsers(
        dest="user_command", required=True
    )
    reset = _command(
        user,
        "reset-password",
        "set a new password for a user (a missed one-time ADMIN password, a lost one); "
        "their sessions end",
    )
    reset.add_argument("--tenant", required=True, help="tenant slug, e.g. demo")
    reset.add_argument("--email", required=True, help="the user's email")
    reset.add_argument(
        "--prompt",
        action="store_true",
        help="type the new password (default: generate one and show it once)",
    )
    reset.set_defaults(handler=cmd_user_reset_password)

    worker = _command(commands, "worker", "valuation worker for multi-process deployments")
    worker.set_defaults(handler=cmd_worker)

    mt5 = _command(commands, "mt5", "MetaTrader 5 feeds").add_subparsers(
        dest="mt5_command", required=True
    )
    replay = _command(mt5, "replay", "replay a terminal or Python-API tick export")
    replay.add_argument("file", help="the export (tab-separated terminal export or CSV)")
    replay.add_argument("--speed", type=float, default=1.0, help="time factor (10 = 10x faster)")
    replay.add_argument("--symbols", default=None, help="only these symbols, comma separated")
    replay.add_argument("--symbol", default=None, help="symbol of the file (default: its name)")
    replay.add_argument("--keep-time", action="store_true", help="keep the original times")
    replay.add_argument("--no-progress", action="store_true", help="no progress bar")
    _add_target(replay)
    replay.set_defaults(handler=cmd_mt5_replay)

    simulate = _command(
        mt5, "simulate", "simulated ticks at plausible prices until --count or Ctrl+C"
    )
    _add_market(simulate, ["EURUSD", "XAUUSD"], 10.0)
    simulate.add_argument(
        "--count", type=int, default=None, help="stop after this many (default: run until Ctrl+C)"
    )
    _add_target(simulate)
    simulate.set_defaults(handler=cmd_mt5_simulate)

    bridge = _command(mt5, "bridge", "poll a MetaTrader 5 terminal (MetaTrader5 package)")
    bridge.add_argument("--symbols", default="EURUSD,XAUUSD", help="comma separated")
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
    bridge.add_argument(
        "--polls", type=int, default=None, help="stop after this many polls (default: never)"
    )
    _add_target(bridge)
    bridge.set_defaults(handler=cmd_mt5_bridge)

    persisted = _command(
        commands, "persisted-queries", "the persisted-query registry"
    ).add_subparsers(dest="persisted_command", required=True)
    register = _command(persisted, "register", "load a persisted-query manifest (JSON)")
    register.add_argument("manifest", help="the client build's manifest file")
    register.set_defaults(handler=cmd_register_persisted)

    check = _command(commands, "schema-check", "breaking changes and schema.graphql drift")
    check.add_argument(
        "--against",
        metavar="REF",
        help="git ref whose schema.graphql to use (default: schema.previous.graphql)",
    )
    check.add_argument("--accept", action="store_true", help="publish schema.graphql as previous")
    check.set_defaults(handler=cmd_schema_check)

    export = _command(commands, "export-schema", "write the GraphQL SDL")
    export.add_argument(
        "path", nargs="?", default=None, help="file to write (default: standard output)"
    )
    export.set_defaults(handler=cmd_export_schema)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.handler(args))


if __name__ == "__main__":
    sys.exit(main())
