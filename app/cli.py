"""The ``fidus`` command line."""

import argparse
import asyncio
import contextlib
import getpass
import os
import sys
from pathlib import Path

import uvicorn
from pydantic import ValidationError

from app.factory import create_app, open_runtime, run_worker
from app.logs import configure_logging
from app.settings import Settings
from models.errors import FidusError
from resolvers.tenants import NewTenant, create_tenant
from schema import build_schema


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
    configure_logging(settings.log_level, settings.log_json)
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
        proxy_headers=True,
        server_header=False,
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
    configure_logging("WARNING", settings.log_json)
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
    configure_logging(settings.log_level, settings.log_json)
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

    export = commands.add_parser("export-schema", help="write the GraphQL SDL")
    export.add_argument("path", nargs="?", default=None)
    export.set_defaults(handler=cmd_export_schema)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.handler(args))


if __name__ == "__main__":
    sys.exit(main())
