"""``fidus persisted-queries register``, ``fidus schema-check`` and ``fidus
export-schema``: the schema as published, checked and registered for clients."""

import argparse
import asyncio
import json
import sys
from pathlib import Path

from app import schema_check
from app.cli.common import Commands, command, load_settings
from app.runtime import open_runtime
from models.errors import FidusError
from resolvers.core import persisted_queries
from schema import build_schema
from schema.core.persisted import document_errors


def cmd_register_persisted(args: argparse.Namespace) -> int:
    """Load a client build's persisted-query manifest into the registry: all of it, or
    nothing when one operation is too long or does not validate against the schema."""
    path = Path(args.manifest)
    try:
        entries = persisted_queries.manifest_entries(json.loads(path.read_text()))
    except (OSError, ValueError, FidusError) as exc:
        print(f"fidus: {path}: {exc}", file=sys.stderr)
        return 2
    settings = load_settings()
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


def add_persisted_queries(commands: Commands) -> None:
    persisted = command(
        commands, "persisted-queries", "the persisted-query registry"
    ).add_subparsers(dest="persisted_command", required=True)
    register = command(persisted, "register", "load a persisted-query manifest (JSON)")
    register.add_argument("manifest", help="the client build's manifest file")
    register.set_defaults(handler=cmd_register_persisted)


def add_schema_check(commands: Commands) -> None:
    check = command(commands, "schema-check", "breaking changes and schema.graphql drift")
    check.add_argument(
        "--against",
        metavar="REF",
        help="git ref whose schema.graphql to use (default: schema.previous.graphql)",
    )
    check.add_argument("--accept", action="store_true", help="publish schema.graphql as previous")
    check.set_defaults(handler=cmd_schema_check)


def add_export_schema(commands: Commands) -> None:
    export = command(commands, "export-schema", "write the GraphQL SDL")
    export.add_argument(
        "path", nargs="?", default=None, help="file to write (default: standard output)"
    )
    export.set_defaults(handler=cmd_export_schema)
