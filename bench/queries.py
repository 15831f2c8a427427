"""Scenario 3 — queries: a portfolio with 100 holdings valued at their last prices (Q1)
and a page of 50 opportunities with their interests and investors (Q2), at concurrency 1
and 32, against Fidus and two baselines in the same run: (a) a raw Starlette + PyMongo
handler returning the same JSON (bench/baselines/raw.py), (b) a naive Strawberry + Beanie
build of the same queries, N+1 and without caches (bench/baselines/naive.py). Reports
requests/s, p50/p99 latency, server and client CPU, and the ratios Fidus/raw (target
≥ 0.5×) and Fidus/naive (target ≥ 3×). Every response is checked against Fidus's once
before timing. The data is set up through Fidus's own API.

    .venv/bin/python -m bench.queries [--seconds 5] [--client-processes 2] [--profile]
"""

import argparse
import asyncio
import collections
import contextlib
import os
import shutil
import subprocess
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from multiprocessing import get_context
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import orjson
import psutil
from pymongo import MongoClient

from bench.harness import (
    RESULTS,
    Backends,
    Server,
    admin_token,
    backends,
    fidus,
    gql,
    ingest_token,
    percentile,
    report,
    uvicorn_app,
)

DB = "bench_queries"
HOLDINGS, OPPORTUNITIES, INVESTORS = 100, 50, 8
Q1 = """query Q1($id: ID!) { portfolio(id: $id) { id name cash totalValue marketValue
  holdings { symbol quantity averageCost lastPrice marketValue } } }"""
Q2 = """query Q2 { opportunities(first: 50) { edges { node { id name status targetRaise
  raisedAmount interests { id createdAt investor { id email fullName } } } } } }"""
SERVERS = ("raw", "naive", "fidus")


# --- data, through Fidus's API -------------------------------------------------------------


def set_up(url: str, admin: str) -> dict[str, str]:
    """Investors, a portfolio of 100 holdings (a deposit and 100 buys), 50 published
    opportunities each with every investor's interest, and a last price per symbol."""
    investors = []
    for i in range(INVESTORS):
        email, password = f"investor{i}@bench.test", f"Bench-{i}-{os.urandom(6).hex()}"
        user = gql(
            url,
            "mutation($in: CreateUserInput!) { createUser(input: $in) { id } }",
            {
                "in": {
                    "email": email,
                    "fullName": f"Investor {i}",
                    "role": "INVESTOR",
                    "password": password,
                }
            },
            token=admin,
        )["createUser"]
        login = gql(
            url,
            "mutation($t: String!, $e: String!, $p: String!) { login(tenant: $t, email: $e,"
            " password: $p) { accessToken } }",
            {"t": "bench", "e": email, "p": password},
        )
        investors.append((user["id"], login["login"]["accessToken"]))
    portfolio = gql(
        url,
        'mutation($o: ID!) { createPortfolio(name: "Bench 100", ownerId: $o) { id } }',
        {"o": investors[0][0]},
        token=admin,
    )["createPortfolio"]["id"]
    record = "mutation($in: RecordTransactionInput!) { recordTransaction(input: $in) { id } }"
    gql(
        url,
        record,
        {
            "in": {
                "portfolioId": portfolio,
                "type": "DEPOSIT",
                "idempotencyKey": "deposit",
                "amount": "10000000.00",
            }
        },
        token=admin,
    )
    symbols = [f"BQ{i:03d}" for i in range(HOLDINGS)]
    for i, symbol in enumerate(symbols):
        gql(
            url,
            record,
            {
                "in": {
                    "portfolioId": portfolio,
                    "type": "BUY",
                    "idempotencyKey": f"buy-{symbol}",
                    "symbol": symbol,
                    "quantity": str(i + 1),
                    "price": f"{10 + i}.25",
                }
            },
            token=admin,
        )
    for i in range(OPPORTUNITIES):
        deal = gql(
            url,
            "mutation($in: CreateOpportunityInput!) { createOpportunity(input: $in) { id } }",
            {
                "in": {
                    "name": f"Deal {i:02d}",
                    "description": "A bench deal",
                    "sector": "Bench",
                    "targetRaise": "1000000.00",
                    "minimumInvestment": "1000.00",
                }
            },
            token=admin,
        )["createOpportunity"]["id"]
        gql(
            url,
            "mutation($id: ID!) { publishOpportunity(id: $id) { id } }",
            {"id": deal},
            token=admin,
        )
        for _investor_id, token in investors:
            gql(
                url,
                "mutation($id: ID!) { expressInterest(opportunityId: $id) { id } }",
                {"id": deal},
                token=token,
            )
    now = int(time.time() * 1000)
    ticks = [
        {"symbol": s, "time_msc": now, "bid": 10.5 + i + 0.125, "ask": 10.75 + i}
        for i, s in enumerate(symbols)
    ]
    posted = httpx.post(
        f"{url}/mt5/ticks",
        json={"ticks": ticks},
        headers={"authorization": f"Bearer {ingest_token(url, admin)}"},
        timeout=30,
    ).json()
    assert posted["accepted"] == HOLDINGS, posted
    return {"portfolio": portfolio}


# --- requests, checked once, then timed -------------------------------------------------


@dataclass(frozen=True)
class Target:
    """One HTTP request that answers one query on one server."""

    server: str
    query: str
    base_url: str
    method: str
    path: str
    body: bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)


def targets(urls: dict[str, str], token: str, ids: dict[str, str]) -> list[Target]:
    def graphql(
        server: str, name: str, query: str, variables: dict[str, Any], auth: bool
    ) -> Target:
        headers = {"content-type": "application/json"}
        if auth:
            headers["authorization"] = f"Bearer {token}"
        body = orjson.dumps({"query": query, "variables": variables})
        return Target(server, name, urls[server], "POST", "/graphql", body, headers)

    pid = ids["portfolio"]
    return [
        Target("raw", "Q1 portfolio", urls["raw"], "GET", f"/q1?id={pid}"),
        Target("raw", "Q2 opportunities", urls["raw"], "GET", f"/q2?first={OPPORTUNITIES}"),
        graphql("naive", "Q1 portfolio", Q1, {"id": pid}, auth=False),
        graphql("naive", "Q2 opportunities", Q2, {}, auth=False),
        graphql("fidus", "Q1 portfolio", Q1, {"id": pid}, auth=True),
        graphql("fidus", "Q2 opportunities", Q2, {}, auth=True),
    ]


def fetch(target: Target) -> Any:
    response = httpx.request(
        target.method,
        target.base_url + target.path,
        content=target.body,
        headers=target.headers,
        timeout=60,
    )
    response.raise_for_status()
    body = response.json()
    assert not body.get("errors"), body["errors"]
    return body["data"]


def verify(all_targets: list[Target]) -> dict[str, int]:
    """Every server's answer equals Fidus's, and Fidus's has the data set up."""
    reference = {t.query: fetch(t) for t in all_targets if t.server == "fidus"}
    holdings = reference["Q1 portfolio"]["portfolio"]["holdings"]
    assert len(holdings) == HOLDINGS and all(h["lastPrice"] for h in holdings), holdings[:2]
    edges = reference["Q2 opportunities"]["opportunities"]["edges"]
    assert len(edges) == OPPORTUNITIES, len(edges)
    assert all(len(e["node"]["interests"]) == INVESTORS for e in edges)
    for target in all_targets:
        got = fetch(target)
        assert got == reference[target.query], f"{target.server} {target.query} differs"
    return {
        "response_bytes_q1": len(orjson.dumps(reference["Q1 portfolio"])),
        "response_bytes_q2": len(orjson.dumps(reference["Q2 opportunities"])),
    }


async def _drive(target: Target, concurrency: int, ready: Any, seconds: float) -> dict[str, Any]:
    """``concurrency`` closed-loop workers sending requests until ``seconds`` have passed;
    requests still in flight then are awaited and counted (a slow server's requests can
    outlast the window)."""
    latencies: list[float] = []
    failures, last_done = 0, 0.0
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=target.base_url, limits=limits, timeout=600) as client:
        # open the connections with a cheap request, not the measured one
        await asyncio.gather(*(client.get("/health/ready") for _ in range(concurrency)))
        await asyncio.to_thread(ready.wait)  # every client process is connected: go
        started = time.monotonic()  # CLOCK_MONOTONIC: the same clock in every process
        deadline = started + seconds
        cpu = time.process_time()

        async def worker() -> None:
            nonlocal failures, last_done
            while time.monotonic() < deadline:
                begun = time.perf_counter()
                response = await client.request(
                    target.method, target.path, content=target.body, headers=target.headers
                )
                latencies.append(time.perf_counter() - begun)
                last_done = max(last_done, time.monotonic())
                failures += response.status_code != 200 or b'"errors"' in response.content

        await asyncio.gather(*(worker() for _ in range(concurrency)))
        cpu = time.process_time() - cpu
    return {
        "latencies": latencies,
        "started": started,
        "last_done": last_done,
        "failures": failures,
        "cpu_seconds": cpu,
    }


def drive(target: Target, concurrency: int, ready: Any, seconds: float) -> dict[str, Any]:
    """One client process's share of the load (run in a separate process)."""
    return asyncio.run(_drive(target, concurrency, ready, seconds))


def measure(
    clients: "Clients", target: Target, server: Server, concurrency: int, seconds: float
) -> dict[str, Any]:
    """Requests/s = all requests sent in the window ÷ the time until the last answer."""
    processes = max(1, min(clients.processes, concurrency))
    shares = [concurrency // processes + (i < concurrency % processes) for i in range(processes)]
    ready = clients.manager.Barrier(processes + 1)
    futures = [clients.pool.submit(drive, target, share, ready, seconds) for share in shares]
    ready.wait()
    cpu, db_cpu = server.cpu_seconds(), clients.db_cpu_seconds()
    outcomes = [f.result() for f in futures]
    elapsed = max(o["last_done"] for o in outcomes) - min(o["started"] for o in outcomes)
    server_cpu, db_cpu = server.cpu_seconds() - cpu, clients.db_cpu_seconds() - db_cpu
    latencies = [x for o in outcomes for x in o["latencies"]]
    return {
        "query": target.query,
        "server": target.server,
        "concurrency": concurrency,
        "requests": len(latencies),
        "requests_per_s": len(latencies) / elapsed,
        "p50_ms": percentile(latencies, 50) * 1000,
        "p99_ms": percentile(latencies, 99) * 1000,
        "failures": sum(o["failures"] for o in outcomes),
        "server_cpu_pct": 100 * server_cpu / elapsed,
        "db_cpu_pct": 100 * db_cpu / elapsed,
        "client_cpu_pct": 100 * sum(o["cpu_seconds"] for o in outcomes) / elapsed,
        "server_cpu_ms_per_request": 1000 * server_cpu / max(1, len(latencies)),
        "db_cpu_ms_per_request": 1000 * db_cpu / max(1, len(latencies)),
    }


def database_process(mongodb_url: str) -> psutil.Process | None:
    """The local process listening on the database's port, if any."""
    port = urlsplit(mongodb_url).port or 27017
    for connection in psutil.net_connections("tcp"):
        if connection.status == psutil.CONN_LISTEN and connection.laddr.port == port:
            return psutil.Process(connection.pid) if connection.pid else None
    return None


@dataclass
class Clients:
    """Load-generating client processes (spawned once), so the client's CPU is not the
    server's event loop's."""

    processes: int
    mongodb_url: str
    pool: ProcessPoolExecutor = field(init=False)
    manager: Any = field(init=False)
    db: psutil.Process | None = field(init=False)

    def __post_init__(self) -> None:
        context = get_context("spawn")
        self.pool = ProcessPoolExecutor(self.processes, mp_context=context)
        self.manager = context.Manager()
        self.db = database_process(self.mongodb_url)

    def db_cpu_seconds(self) -> float:
        """CPU of the database server when it runs on this machine (else 0)."""
        if self.db is None:
            return 0.0
        times = self.db.cpu_times()
        return float(times.user + times.system)

    def close(self) -> None:
        self.pool.shutdown()
        self.manager.shutdown()


# --- DB round trips and profile ---------------------------------------------------------


def round_trips(
    mongo: MongoClient[dict[str, Any]], target: Target, requests: int = 20
) -> float | None:
    """Mongo operations per request from serverStatus opcounters (all clients of the
    server, so it is run with nothing else querying); None when unsupported."""

    def ops() -> int:
        counters = mongo.admin.command("serverStatus")["opcounters"]
        return sum(int(counters.get(k, 0)) for k in ("query", "getmore", "command"))

    try:
        before = ops()
        probe = ops() - before  # serverStatus counts itself, maybe
    except Exception:  # any failure means "not supported"
        return None
    before = ops()
    for _ in range(requests):
        fetch(target)
    return (ops() - before - probe) / requests


def py_spy() -> str | None:
    return shutil.which("py-spy") or shutil.which("py-spy", path=str(Path(sys.executable).parent))


def profiled(server: Server, name: str, seconds: float) -> subprocess.Popen[bytes] | None:
    binary = py_spy()
    if binary is None:
        print("py-spy not found: no profile (pip install py-spy)", file=sys.stderr)
        return None
    return subprocess.Popen(
        [
            binary,
            "record",
            "-p",
            str(server.process.pid),
            "-f",
            "raw",
            "-r",
            "200",
            "-d",
            str(int(seconds)),
            "-o",
            str(RESULTS / f"queries-profile-{name}.txt"),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


IDLE = ("Runner.run (asyncio/runners.py", "_worker (concurrent/futures/thread.py")
APP_CODE = ("(app/", "(schema/", "(resolvers/", "(models/", "(subscriptions/")


def summarize_profile(path: Path, top: int = 15) -> dict[str, list[tuple[str, float]]]:
    """Shares of the busy samples (the event loop waiting is left out): per function at
    the top of the stack (self), and per Fidus function anywhere on it (inclusive)."""
    own: collections.Counter[str] = collections.Counter()
    inclusive: collections.Counter[str] = collections.Counter()
    total = 0
    for line in path.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        frames = [f.rsplit(":", 1)[0] + ")" for f in stack.split(";")]
        if not count.isdigit() or frames[-1].startswith(IDLE):
            continue
        total += int(count)
        own[frames[-1]] += int(count)
        for frame in set(frames):
            if any(marker in frame for marker in APP_CODE) and "app/cli/" not in frame:
                inclusive[frame] += int(count)
    share = 100 / max(1, total)
    return {
        "self": [(f, n * share) for f, n in own.most_common(top)],
        "fidus_inclusive": [(f, n * share) for f, n in inclusive.most_common(top)],
    }


# --- the run ------------------------------------------------------------------------------


def ratios(rows: list[dict[str, Any]]) -> dict[str, float]:
    rps = {(r["server"], r["query"], r["concurrency"]): r["requests_per_s"] for r in rows}
    found = {}
    for (server, query, concurrency), value in rps.items():
        if server != "fidus":
            continue
        short = query.split()[0].lower()
        for baseline in ("raw", "naive"):
            base = rps[(baseline, query, concurrency)]
            found[f"{short}_c{concurrency}_vs_{baseline}"] = value / base if base else float("nan")
    return found


def run(args: argparse.Namespace, urls: Backends) -> None:
    rows: list[dict[str, Any]] = []
    with fidus(urls, DB) as server:
        admin = admin_token(server.url)
        started = time.monotonic()
        ids = set_up(server.url, admin)
        print(f"set-up through the API in {time.monotonic() - started:.1f} s", flush=True)
        mongo: MongoClient[dict[str, Any]] = MongoClient(urls.mongodb_url)
        tenant = mongo[DB]["tenants"].find_one({"slug": "bench"})
        assert tenant is not None
        env = {
            "MONGODB_URL": urls.mongodb_url,
            "REDIS_URL": urls.redis_url,
            "RAW_DB": DB,
            "RAW_TENANT_ID": str(tenant["_id"]),
        }
        with (
            uvicorn_app("bench.baselines.raw:app", env) as raw,
            uvicorn_app("bench.baselines.naive:app", env) as naive,
            contextlib.closing(Clients(args.client_processes, urls.mongodb_url)) as clients,
        ):
            servers = {"raw": raw, "naive": naive, "fidus": server}
            all_targets = targets({k: s.url for k, s in servers.items()}, admin, ids)
            time.sleep(1.0)  # the valuation worker settles after the set-up's ticks
            sizes = verify(all_targets)
            trips = {f"{t.server} {t.query}": round_trips(mongo, t) for t in all_targets}
            for concurrency in (1, 32):
                for query in ("Q1 portfolio", "Q2 opportunities"):
                    for target in (t for t in all_targets if t.query == query):
                        row = measure(
                            clients, target, servers[target.server], concurrency, args.seconds
                        )
                        rows.append(row)
                        print(
                            f"{query} c={concurrency} {target.server}: "
                            f"{row['requests_per_s']:.0f} req/s p99 {row['p99_ms']:.1f} ms",
                            flush=True,
                        )
            profiles = {}
            if args.profile:
                for target in (t for t in all_targets if t.server == "fidus"):
                    name = target.query.split()[0].lower()
                    spy = profiled(server, name, args.seconds)
                    measure(clients, target, server, 32, args.seconds)
                    if spy is not None:
                        spy.wait(60)
                        path = RESULTS / f"queries-profile-{name}.txt"
                        profiles[name] = summarize_profile(path)
    found = ratios(rows)
    report(
        "queries",
        [
            "query",
            "server",
            "concurrency",
            "requests_per_s",
            "p50_ms",
            "p99_ms",
            "failures",
            "server_cpu_pct",
            "db_cpu_pct",
            "client_cpu_pct",
            "server_cpu_ms_per_request",
            "db_cpu_ms_per_request",
        ],
        rows,
        ratios=found,
        targets={"vs_raw": ">= 0.5", "vs_naive": ">= 3.0 (nested queries)"},
        mongo_ops_per_request=trips,
        data={
            "holdings": HOLDINGS,
            "opportunities": OPPORTUNITIES,
            "interests_each": INVESTORS,
            **sizes,
        },
        notes="raw and naive baselines have no auth; Fidus checks a JWT and its session "
        "(2 Mongo reads) on every request",
        profiles=profiles,
        settings=vars(args),
    )
    print("\nratios (requests/s, same run):")
    for name, value in found.items():
        print(f"  {name}: {value:.2f}x")
    print("\nMongo operations per request (serverStatus opcounters):")
    for name, ops in trips.items():
        print(f"  {name}: {'unsupported' if ops is None else f'{ops:.1f}'}")
    for name, summary in profiles.items():
        for kind, frames in summary.items():
            print(f"\nprofile {name}, Fidus at c=32, {kind} (% of busy samples):")
            for frame, share in frames:
                print(f"  {share:5.1f}%  {frame}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--client-processes", type=int, default=2)
    parser.add_argument("--profile", action="store_true", help="py-spy Fidus under Q1/Q2 load")
    args = parser.parse_args()
    with backends() as urls:
        run(args, urls)


if __name__ == "__main__":
    main()
