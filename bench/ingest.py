"""Scenario 4 — ingest: ticks accepted per second by POST /mt5/ticks for batches of 1, 100
and 1,000 (target ≥ 20,000 ticks/s with batches of 1,000).

    .venv/bin/python -m bench.ingest [--seconds 8] [--posters 4]
"""

import argparse
import asyncio
import time

import httpx

from bench.harness import admin_token, backends, fidus, ingest_token, report


async def post_for(
    url: str, token: str, batch: int, seconds: float, posters: int
) -> tuple[int, int, list[float]]:
    """``posters`` concurrent clients, each with its own symbols (so no tick is stale)."""
    deadline = time.monotonic() + seconds
    latencies: list[float] = []
    totals = [0, 0]

    async def poster(index: int) -> None:
        symbols = [f"B{index}S{j}" for j in range(10)]
        async with httpx.AsyncClient(timeout=60) as client:
            n = 0
            while time.monotonic() < deadline:
                now = int(time.time() * 1000)
                ticks = [
                    {
                        "symbol": symbols[(n + i) % len(symbols)],
                        "time_msc": now,
                        "bid": 100.0 + (n + i) % 7,
                        "ask": 100.5 + (n + i) % 7,
                        "flags": 6,
                    }
                    for i in range(batch)
                ]
                n += batch
                started = time.perf_counter()
                response = await client.post(
                    f"{url}/mt5/ticks",
                    json={"ticks": ticks},
                    headers={"authorization": f"Bearer {token}"},
                )
                latencies.append(time.perf_counter() - started)
                body = response.json()
                totals[0] += body["accepted"]
                totals[1] += len(body["rejected"])

    await asyncio.gather(*(poster(i) for i in range(posters)))
    return totals[0], totals[1], latencies


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--posters", type=int, default=4)
    args = parser.parse_args()
    rows = []
    with backends() as urls, fidus(urls, "bench_ingest") as server:
        token = ingest_token(server.url, admin_token(server.url))
        for batch in (1, 100, 1000):
            cpu = server.cpu_seconds()
            started = time.monotonic()
            accepted, rejected, latencies = asyncio.run(
                post_for(server.url, token, batch, args.seconds, args.posters)
            )
            elapsed = time.monotonic() - started
            latencies.sort()
            rows.append(
                {
                    "batch": batch,
                    "ticks_per_s": accepted / elapsed,
                    "requests_per_s": len(latencies) / elapsed,
                    "p50_ms": latencies[len(latencies) // 2] * 1000,
                    "p99_ms": latencies[int(len(latencies) * 0.99)] * 1000,
                    "rejected": rejected,
                    "server_cpu_pct": 100 * (server.cpu_seconds() - cpu) / elapsed,
                }
            )
    report(
        "ingest",
        [
            "batch",
            "ticks_per_s",
            "requests_per_s",
            "p50_ms",
            "p99_ms",
            "rejected",
            "server_cpu_pct",
        ],
        rows,
        target={"ticks_per_s_batch_1000": 20_000},
        posters=args.posters,
        seconds=args.seconds,
    )


if __name__ == "__main__":
    main()
