"""``fidus mt5 replay | simulate | bridge``: tick and account feeds, posted to a server
over HTTP or ingested through this deployment's broker."""

import argparse
import asyncio
import contextlib
import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from beanie import PydanticObjectId

from app import mt5_feed, mt5_files
from app.cli.common import Commands, command, load_settings, symbols
from app.factory import SHUTDOWN_GRACE
from app.mt5_bridge import Bridge, BridgeUnavailable, load_terminal
from app.mt5_feed import Deliver, DeliverSnapshot
from app.mt5_simulator import Market, parse_prices
from app.runtime import open_runtime
from models.tenants import Tenant
from resolvers.identity.service_tokens import ServiceCaller
from resolvers.mt5.accounts import ingest_snapshot


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
    settings = load_settings()

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


def cmd_mt5_replay(args: argparse.Namespace) -> int:
    path = Path(args.file)
    if not path.is_file():
        sys.exit(f"fidus: no such file {path}")
    wanted = symbols(args.symbols)
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
    simulated = symbols(args.symbols) or ["EURUSD", "XAUUSD"]
    ticks = Market(simulated, args.seed, args.prices).ticks()
    stats = mt5_feed.FeedStats()

    async def feed(target: FeedTarget) -> int:
        await mt5_feed.simulate(ticks, target.ticks, args.rate, args.count, stats)
        return stats.accepted

    ending = ""
    try:
        _run_feed(args, feed)
    except KeyboardInterrupt:
        ending = " (interrupted)"
    print(stats.summary(f"Simulated {', '.join(simulated)}") + ending, flush=True)
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
    bridged = symbols(args.symbols) or ["EURUSD", "XAUUSD"]

    async def run(target: FeedTarget) -> int:
        bridge = Bridge(
            terminal,
            bridged,
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
                f"Bridged {', '.join(bridged)}: {bridge.sent} ticks sent, {bridge.accepted} "
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


def add_market(parser: argparse.ArgumentParser, symbols: list[str], rate: float) -> None:
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


def add_mt5(commands: Commands) -> None:
    mt5 = command(commands, "mt5", "MetaTrader 5 feeds").add_subparsers(
        dest="mt5_command", required=True
    )
    replay = command(mt5, "replay", "replay a terminal or Python-API tick export")
    replay.add_argument("file", help="the export (tab-separated terminal export or CSV)")
    replay.add_argument("--speed", type=float, default=1.0, help="time factor (10 = 10x faster)")
    replay.add_argument("--symbols", default=None, help="only these symbols, comma separated")
    replay.add_argument("--symbol", default=None, help="symbol of the file (default: its name)")
    replay.add_argument("--keep-time", action="store_true", help="keep the original times")
    replay.add_argument("--no-progress", action="store_true", help="no progress bar")
    _add_target(replay)
    replay.set_defaults(handler=cmd_mt5_replay)

    simulate = command(
        mt5, "simulate", "simulated ticks at plausible prices until --count or Ctrl+C"
    )
    add_market(simulate, ["EURUSD", "XAUUSD"], 10.0)
    simulate.add_argument(
        "--count", type=int, default=None, help="stop after this many (default: run until Ctrl+C)"
    )
    _add_target(simulate)
    simulate.set_defaults(handler=cmd_mt5_simulate)

    bridge = command(mt5, "bridge", "poll a MetaTrader 5 terminal (MetaTrader5 package)")
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
