"""Scenario 1 — tick fan-out: S subscribers (separate client processes, graphql-transport-ws),
each on k of M symbols; ticks posted to /mt5/ticks at R ticks/s. Reports delivered
messages/s, latency tick time → client receipt (p50/p95/p99) and server CPU, for Fidus and
for a raw relay (Starlette WebSocket forwarding Redis pub/sub, no GraphQL) under the same
load in the same run. Targets: throughput ≥ 0.7× the relay's, p99 ≤ 2× the relay's,
≥ 10,000 deliveries/s per worker.

    .venv/bin/python -m bench.fanout [--subscribers 500] [--symbols 20] [--per-sub 2]
                                     [--rate 200] [--seconds 10] [--client-processes 2]
"""

import argparse
import asyncio
import subprocess
import time
from typing import Any

import httpx
from pymongo import MongoClient

from bench.clients import Plan, Subscribers
from bench.harness import (
    RESULTS,
    admin_token,
    backends,
    fidus,
    ingest_token,
    percentile,
    report,
    uvicorn_app,
)

DB = "bench_fanout"


async def feed(url: str, token: str, symbols: list[str], rate: float, seconds: float) -> int:
    """Post ``rate`` ticks/s (every 20 ms) stamped with the current time; returns the count."""
    per_batch = max(1, round(rate * 0.02))
    sent, n = 0, 0
    started = time.monotonic()
    async with httpx.AsyncClient(timeout=30) as client:
        while time.monotonic() - started < seconds:
            now = int(time.time() * 1000)
            ticks = []
            for _ in range(per_batch):
                symbol = symbols[n % len(symbols)]
                ticks.append(
                    {"symbol": symbol, "time_msc": now, "bid": 1.0 + n % 9, "ask": 2.0 + n % 9}
                )
                n += 1
            response = await client.post(
                f"{url}/mt5/ticks",
                json={"ticks": ticks},
                headers={"authorization": f"Bearer {token}"},
            )
            sent += response.json()["accepted"]
            await asyncio.sleep(max(0.0, started + n / rate - time.monotonic()))
    return sent


def run_load(
    args: argparse.Namespace, plan: Plan, server: Any, feed_url: str, token: str
) -> dict[str, Any]:
    subscribers = Subscribers(plan, args.client_processes)
    subscribers.wait_ready()
    time.sleep(1.0)
    profiler = None
    if args.profile and plan.kind == "fidus":  # py-spy's collapsed stacks of the server
        profiler = subprocess.Popen(
            [
                "py-spy",
                "record",
                "-p",
                str(server.process.pid),
                "-f",
                "raw",
                "-o",
                str(RESULTS / "fanout-profile.txt"),
                "-d",
                str(int(args.seconds)),
                "-r",
                "200",
            ],
            stdout=subprocess.DEVNULL,
        )
    cpu = server.cpu_seconds()
    started = time.monotonic()
    symbols = [f"FX{i:02d}" for i in range(args.symbols)]
    sent = asyncio.run(feed(feed_url, token, symbols, args.rate, args.seconds))
    time.sleep(1.0)  # let deliveries drain
    if profiler is not None:
        profiler.wait(60)
    elapsed = time.monotonic() - started
    cpu_used = server.cpu_seconds() - cpu
    outcome = subscribers.finish()
    samples = outcome["samples"]
    expected = sent * args.subscribers * args.per_sub / args.symbols
    return {
        "server": plan.kind,
        "subscribers": args.subscribers,
        "ticks_sent": sent,
        "delivered": outcome["received"],
        "expected": int(expected),
        "delivered_per_s": outcome["received"] / (elapsed - 1.0),
        "p50_ms": percentile(samples, 50),
        "p95_ms": percentile(samples, 95),
        "p99_ms": percentile(samples, 99),
        "server_cpu_pct": 100 * cpu_used / elapsed,
    }


def subscriptions(args: argparse.Namespace) -> list[list[str]]:
    symbols = [f"FX{i:02d}" for i in range(args.symbols)]
    return [
        [symbols[(i * args.per_sub + j) % args.symbols] for j in range(args.per_sub)]
        for i in range(args.subscribers)
    ]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--subscribers", type=int, default=500)
    parser.add_argument("--symbols", type=int, default=20)
    parser.add_argument("--per-sub", type=int, default=2)
    parser.add_argument("--rate", type=float, default=200.0)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--client-processes", type=int, default=2)
    parser.add_argument("--profile", action="store_true", help="py-spy the Fidus server")
    parser.add_argument("--only", choices=["fidus", "relay"], default=None)
    args = parser.parse_args()
    rows: list[dict[str, Any]] = []
    with backends() as urls, fidus(urls, DB, max_subscriptions_per_connection="50") as server:
        admin = admin_token(server.url)
        token = ingest_token(server.url, admin)
        tenant = MongoClient(urls.mongodb_url)[DB]["tenants"].find_one({"slug": "bench"})
        assert tenant is not None
        prefix = f"{DB}:ticks:{tenant['_id']}:"
        ws = server.url.replace("http", "ws")
        with uvicorn_app("bench.relay:app", {"REDIS_URL": urls.redis_url}) as relay:
            relay_plan = Plan(
                "relay", relay.url.replace("http", "ws") + "/ws", "", prefix, subscriptions(args), 1
            )
            rows.append(run_load(args, relay_plan, relay, server.url, token))
        fidus_plan = Plan("fidus", ws + "/graphql", admin, prefix, subscriptions(args), 1)
        rows.append(run_load(args, fidus_plan, server, server.url, token))
    relay_row, fidus_row = rows
    ratios = {
        "throughput_vs_relay": fidus_row["delivered_per_s"] / relay_row["delivered_per_s"],
        "p99_vs_relay": fidus_row["p99_ms"] / relay_row["p99_ms"],
    }
    report(
        "fanout",
        [
            "server",
            "subscribers",
            "ticks_sent",
            "delivered",
            "expected",
            "delivered_per_s",
            "p50_ms",
            "p95_ms",
            "p99_ms",
            "server_cpu_pct",
        ],
        rows,
        ratios=ratios,
        targets={
            "throughput_vs_relay": ">= 0.7",
            "p99_vs_relay": "<= 2.0",
            "delivered_per_s": ">= 10000",
        },
        settings=vars(args),
    )
    throughput, p99 = ratios["throughput_vs_relay"], ratios["p99_vs_relay"]
    print(f"\nthroughput {throughput:.2f}x the relay's, p99 {p99:.2f}x")


if __name__ == "__main__":
    main()
