"""``fidus serve``, ``fidus demo`` and ``fidus worker``: the processes that run the API and
its valuation worker."""

import argparse
import asyncio
import contextlib
import functools
import sys
from collections.abc import Awaitable, Callable

import uvicorn

from app.bootstrap import DEMO_TENANT
from app.cli.common import Commands, announce, command, load_settings, symbols
from app.cli.mt5_feeds import add_market
from app.demo import DemoOptions, run_demo
from app.demo_data import SYMBOLS as DEMO_SYMBOLS
from app.factory import create_app
from app.logs import configure_logging
from app.runtime import Runtime, open_runtime, run_worker
from app.settings import Settings
from models.tenants import is_valid_slug


def cmd_serve(args: argparse.Namespace) -> int:
    serve(load_settings(host=args.host, port=args.port), announce)
    return 0


def serve(
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
    settings = load_settings(host=args.host, port=args.port)
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
        symbols=symbols(args.symbols) or DEMO_SYMBOLS,
        rate=args.rate,
        prices=args.prices or {},
        seed=args.seed,
    )

    def announce_other(message: str) -> None:  # the demo prints a new password for that ADMIN
        if slug != DEMO_TENANT:
            announce(message)

    def show(text: str) -> None:
        print(text, flush=True)

    serve(settings, announce_other, functools.partial(run_demo, options, show))
    return 0


def cmd_worker(args: argparse.Namespace) -> int:
    """Standalone valuation worker; with REDIS_URL, one active instance holds the lease."""
    settings = load_settings()
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


def _add_listen(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default=None, help="(default: FIDUS_HOST or 127.0.0.1)")
    parser.add_argument("--port", type=int, default=None, help="(default: FIDUS_PORT or 8000)")


def add_serve(commands: Commands) -> None:
    serve_parser = command(commands, "serve", "serve the API (embedded default without URLs)")
    _add_listen(serve_parser)
    serve_parser.set_defaults(handler=cmd_serve)


def add_demo(commands: Commands) -> None:
    demo = command(
        commands,
        "demo",
        "serve the API with a sample tenant and a simulated market feed (embedded only)",
    )
    _add_listen(demo)
    demo.add_argument("--tenant", default=DEMO_TENANT, help="tenant to create or fill")
    add_market(demo, DEMO_SYMBOLS, 5.0)
    demo.set_defaults(handler=cmd_demo)


def add_worker(commands: Commands) -> None:
    worker = command(commands, "worker", "valuation worker for multi-process deployments")
    worker.set_defaults(handler=cmd_worker)
