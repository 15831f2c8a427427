"""Scenario 2 — memory: RSS of one Fidus server process holding 1,000 and 10,000 idle tick
subscriptions (20 per WebSocket, the default limit), and a stalled subscriber (subscribed
to every symbol, never reading) under a 5,000 ticks/s feed while another keeps reading.
Targets: 10,000 idle subscriptions ≤ 1 GiB RSS; the server's RSS flat (±5%) after the
first 10 s of the stall.

    .venv/bin/python -m bench.memory [--stall-seconds 60] [--rate 5000]
"""

import argparse
import asyncio
import threading
import time
from typing import Any

import httpx

from bench.clients import Plan, Subscribers
from bench.harness import admin_token, backends, fidus, ingest_token, report

DB = "bench_memory"
PER_CONNECTION = 20


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


def idle_rows(server: Any, ws: str, token: str) -> list[dict[str, Any]]:
    time.sleep(2.0)
    base = server.rss
    rows = [{"subscriptions": 0, "rss_mib": base / 2**20, "bytes_per_subscription": 0.0}]
    held: list[Subscribers] = []
    total = 0
    for target in (1_000, 10_000):
        subs = [[f"IDLE{i % 50}"] for i in range(target - total)]
        group = Subscribers(Plan("fidus", ws, token, "", subs, PER_CONNECTION), 2)
        group.wait_ready(300)
        held.append(group)
        total = target
        time.sleep(3.0)
        rss = server.rss
        rows.append(
            {
                "subscriptions": total,
                "rss_mib": rss / 2**20,
                "bytes_per_subscription": (rss - base) / total,
            }
        )
    for group in held:
        group.finish()
    return rows


def stalled(server: Any, url: str, ws: str, admin: str, token: str, args: Any) -> dict[str, Any]:
    symbols = [f"ST{i:02d}" for i in range(50)]
    stall = Subscribers(Plan("fidus", ws, admin, "", [symbols], 1, stall=True), 1)
    reader = Subscribers(Plan("fidus", ws, admin, "", [symbols[:5]], 1), 1)
    stall.wait_ready()
    reader.wait_ready()
    samples: list[tuple[float, int]] = []
    started = time.monotonic()
    done = threading.Event()

    def sample() -> None:
        while not done.wait(1.0):
            samples.append((time.monotonic() - started, server.rss))

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    cpu = server.cpu_seconds()
    sent = asyncio.run(feed(url, token, symbols, args.rate, args.stall_seconds))
    cpu_pct = 100 * (server.cpu_seconds() - cpu) / (time.monotonic() - started)
    done.set()
    sampler.join()
    healthy = reader.finish()
    stall.finish()
    settled = [rss for at, rss in samples if at >= 10]
    return {
        "ticks_sent": sent,
        "seconds": args.stall_seconds,
        "rss_at_10s_mib": settled[0] / 2**20,
        "rss_end_mib": settled[-1] / 2**20,
        "rss_min_after_10s_mib": min(settled) / 2**20,
        "rss_max_after_10s_mib": max(settled) / 2**20,
        "spread_after_10s_pct": 100 * (max(settled) - min(settled)) / settled[0],
        "reader_received": healthy["received"],
        "reader_share_pct": 100 * healthy["received"] / (sent * 5 / 50),
        "server_cpu_pct": cpu_pct,
        "series": [(round(at, 1), rss) for at, rss in samples],
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--stall-seconds", type=float, default=60.0)
    parser.add_argument("--rate", type=float, default=5000.0)
    args = parser.parse_args()
    with backends() as urls:
        with fidus(urls, DB) as server:
            admin = admin_token(server.url)
            ws = server.url.replace("http", "ws") + "/graphql"
            rows = idle_rows(server, ws, admin)
        with fidus(urls, DB + "_stall") as server:  # a fresh process: its own high-water mark
            admin = admin_token(server.url)
            token = ingest_token(server.url, admin)
            ws = server.url.replace("http", "ws") + "/graphql"
            stall = stalled(server, server.url, ws, admin, token, args)
    report("memory-idle", ["subscriptions", "rss_mib", "bytes_per_subscription"], rows)
    series = stall.pop("series")
    report(
        "memory-stalled",
        list(stall),
        [stall],
        series=series,
        targets={"rss_10000_idle_mib": "<= 1024", "spread_after_10s_pct": "<= 5"},
    )


if __name__ == "__main__":
    main()
