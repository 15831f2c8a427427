"""The ``fidus`` command line: one module per command group (serving, accounts, MT5
feeds, schema tools); this one assembles the parser and runs the chosen command."""

import argparse

from app.cli import accounts, mt5_feeds, schema_tools, serving
from app.cli.common import root_parser


def build_parser() -> argparse.ArgumentParser:
    parser = root_parser()
    commands = parser.add_subparsers(dest="command", required=True)
    serving.add_serve(commands)
    serving.add_demo(commands)
    accounts.add_tenant(commands)
    accounts.add_user(commands)
    serving.add_worker(commands)
    mt5_feeds.add_mt5(commands)
    schema_tools.add_persisted_queries(commands)
    schema_tools.add_schema_check(commands)
    schema_tools.add_export_schema(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.handler(args))
