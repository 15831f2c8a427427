"""Scenario 1 — tick fan-out, three servers side by side in one run: Fidus (graphql-transport-ws
`ticks(symbols)`), the raw relay (`bench/relay.py`, Redis pub/sub forwarded as JSON, no
GraphQL) and a plain Node peer (`bench/baselines/node`: graphql-js over graphql-ws, ioredis).
Ticks are published straight to the Redis channels all three listen on, so each gets the
same offered load and none pays for ingest. Per server, in turn:

- `40 subs`: 40 subscribers × ``--per-sub`` of ``--symbols`` symbols at ``--rate-40`` ticks/s;
- `stalled`: the same readers plus one subscriber on every symbol that never reads, its
  buffers filled first by ``--stall-fill`` seconds of 20,000 ticks/s on a symbol of its own;
- `mixed`: 40 subscribers selecting different fields with different symbol lists;
- `500 subs`: 500 subscribers at ``--rate-500`` ticks/s, then the saturation ladder: the
  rate × ``--step`` until delivery falls below 99.9% of expected or p99 exceeds 250 ms.

Each run reports delivered/expected (expected = Σ over published ticks of that symbol's
reading subscribers), latency (tick time → client receipt) p50/p95/p99, and server and
client CPU (user+sys, psutil) per delivered message. Targets: `bench/fanout_targets.py`.

    .venv/bin/python -m bench.fanout [--quick] [--seconds 6] [--servers fidus,relay,node]
                                     [--rate-40 400] [--rate-500 40] [--profile]
"""

import argparse
import contextlib
import subprocess
import time
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import psutil

from bench.clients import Plan
from bench.fanout_targets import HOLD_SHARE, P99_BOUND_MS, ratios, targets
from bench.harness import RESULTS, Backends, backends, fidus, percentile, report
from bench.load import Load
from bench.peers import SERVERS, Peer, channel_prefix, peer
from bench.publisher import publish

DB = "bench_fanout"
STALL_SYMBOL, STALL_FILL_RATE = "STALL", 20_000.0  # ticks/s only the stalled client gets
SELECTIONS = (  # mixed run: (share of subscribers in quarters, selection, symbols each)
    (2, "symbol bid ask time", 2),
    (1, "symbol bid", 1),
    (1, "symbol ask flags last volume", 3),
)
COLUMNS = [
    "server",
    "run",
    "subscribers",
    "rate",
    "delivered",
    "expected",
    "delivered_pct",
    "delivered_per_s",
    "p50_ms",
    "p95_ms",
    "p99_ms",
    "server_cpu_pct",
    "server_us_per_delivered",
    "client_cpu_pct",
    "client_us_per_delivered",
]


def machine_cpu(since: Any) -> tuple[float, float]:
    """CPU seconds the whole machine was busy since ``since`` (psutil.cpu_times()), and
    seconds stolen by the hypervisor: what else competed with the run."""
    now = psutil.cpu_times()
    fields = ("user", "nice", "system", "irq", "softirq")
    busy = sum(getattr(now, f, 0.0) - getattr(since, f, 0.0) for f in fields)
    return busy, getattr(now, "steal", 0.0) - getattr(since, "steal", 0.0)


def ticks_query(selection: str) -> str:
    return f"subscription($s: [String!]!) {{ ticks(symbols: $s) {{ {selection} }} }}"


def spread(symbols: list[str], count: int, per_sub: int, offset: int = 0) -> list[list[str]]:
    """``count`` symbol lists of ``per_sub`` each, walking the symbols in turn."""
    return [
        [symbols[(offset + i * per_sub + j) % len(symbols)] for j in range(per_sub)]
        for i in range(count)
    ]


def mixed(symbols: list[str], count: int) -> tuple[list[list[str]], tuple[str, ...]]:
    kinds = [kind for kind, (quarters, _, _) in enumerate(SELECTIONS) for _ in range(quarters)]
    subs, queries = [], []
    for i in range(count):
        _, selection, per_sub = SELECTIONS[kinds[i % len(kinds)]]
        subs += spread(symbols, 1, per_sub, offset=i * 3)
        queries.append(ticks_query(selection))
    return subs, tuple(queries)


class Bench:
    """One server's runs: publish, let deliveries settle, measure."""

    def __init__(self, args: argparse.Namespace, urls: Backends, prefix: str, peer: Peer):
        self.args, self.urls, self.prefix, self.peer = args, urls, prefix, peer
        self.symbols = [f"FX{i:02d}" for i in range(args.symbols)]

    def plan(self, subs: list[list[str]], queries: tuple[str, ...] = ()) -> Plan:
        kind = "relay" if self.peer.name == "relay" else self.peer.name
        return Plan(kind, self.peer.ws_url, self.peer.token, self.prefix, subs, 1, queries=queries)

    @contextlib.contextmanager
    def load(self, plan: Plan, processes: int | None = None) -> Iterator[Load]:
        with Load(plan, processes or self.args.client_processes) as load:
            load.wait_ready()
            time.sleep(0.3)
            yield load

    def settle(self, load: Load, expected: int) -> bool:
        """Wait until every expected message arrived or the count stops moving; False when
        messages were still arriving at the ``--drain`` deadline (late, not necessarily lost)."""
        deadline, last = time.monotonic() + self.args.drain, -1
        still = 0
        while time.monotonic() < deadline:
            time.sleep(0.1)
            count = load.count()
            still = still + 1 if count == last else 0
            if count >= expected or still == 3:
                return True
            last = count
        return False

    def measure(
        self, load: Load, subs: list[list[str]], run: str, rate: float, seconds: float
    ) -> dict[str, Any]:
        load.reset()
        cpu, client_cpu, started = self.peer.cpu_seconds(), load.cpu_seconds(), time.monotonic()
        rss, machine = self.peer.server.rss, psutil.cpu_times()
        profiler = self.profile(seconds) if run == self.args.profile else None
        published = publish(self.urls.redis_url, self.prefix, self.symbols, rate, seconds)
        expected = sum(published.per_symbol.get(s, 0) for sub in subs for s in sub)
        settled = self.settle(load, expected)
        if profiler is not None:
            profiler.wait(60)
        elapsed = time.monotonic() - started
        cpu = self.peer.cpu_seconds() - cpu
        client_cpu = load.cpu_seconds() - client_cpu
        busy, steal = machine_cpu(machine)
        delivered, samples = load.collect()
        per = max(delivered, 1)
        row = {
            "server": self.peer.name,
            "run": run,
            "subscribers": len(subs),
            "rate": rate,
            "published_per_s": published.total / published.seconds,
            "delivered": delivered,
            "expected": expected,
            "delivered_pct": 100 * delivered / max(expected, 1),
            "delivered_per_s": delivered / published.seconds,
            "p50_ms": percentile(samples, 50),
            "p95_ms": percentile(samples, 95),
            "p99_ms": percentile(samples, 99),
            "latency_samples": len(samples),
            "server_cpu_pct": 100 * cpu / elapsed,
            "server_us_per_delivered": 1e6 * cpu / per,
            "client_cpu_pct": 100 * client_cpu / elapsed,
            "client_us_per_delivered": 1e6 * client_cpu / per,
            "other_cpu_pct": 100 * (busy - cpu - client_cpu) / elapsed,
            "steal_pct": 100 * steal / elapsed,
            "server_rss_mib": self.peer.server.rss / 2**20,
            "server_rss_growth_mib": (self.peer.server.rss - rss) / 2**20,
            "still_arriving": not settled,
        }
        print(
            f"{time.monotonic() - self.args.started:5.0f}s {self.peer.name:5} {run:14} "
            f"{rate:6.0f} ticks/s {delivered:>8}/{expected:<8} "
            f"p99 {row['p99_ms']:7.1f} ms  server {row['server_us_per_delivered']:6.1f} µs "
            f"client {row['client_us_per_delivered']:6.1f} µs /delivered",
            flush=True,
        )
        return row

    def profile(self, seconds: float) -> subprocess.Popen[bytes] | None:
        """With ``--profile``, py-spy's raw stacks of the Fidus server for ``seconds``."""
        if not self.args.profile or self.peer.name != "fidus":
            return None
        return subprocess.Popen(
            [
                *("py-spy", "record", "-p", str(self.peer.server.process.pid), "-f", "raw"),
                *("-o", str(RESULTS / "fanout-profile.txt"), "-d", str(max(1, int(seconds)))),
                *("-r", "200"),
            ],
            stdout=subprocess.DEVNULL,
        )

    def warm_up(self, load: Load, rate: float, seconds: float) -> None:
        """Unmeasured load before a measured run: every subscription is live (its first
        ticks are not counted as lost), JIT compilation and caches settle (Node's first
        seconds cost twice the CPU of the next)."""
        publish(self.urls.redis_url, self.prefix, self.symbols, rate, seconds)
        self.settle(load, 1 << 62)

    def fixed_and_stalled(self) -> list[dict[str, Any]]:
        subs = spread(self.symbols, 40, self.args.per_sub)
        rate, seconds = self.args.rate_40, self.args.seconds
        with self.load(self.plan(subs)) as readers:
            self.warm_up(readers, rate, self.args.warmup)
            rows = [self.measure(readers, subs, "40 subs", rate, seconds)]
            stall_plan = replace(self.plan([[*self.symbols, STALL_SYMBOL]]), stall=True)
            with self.load(stall_plan, processes=1) as stalled:
                self.fill(stalled)
                row = self.measure(readers, subs, "stalled", rate, seconds)
                row["stalled_backlog_kib"] = stalled.kernel_backlog() / 1024
                rows.append(row)
        return rows

    def fill(self, stalled: Load) -> None:
        """Megabytes of kernel buffers (Linux grows a send buffer up to 4 MiB) stand between
        a server and a client that stopped reading: ticks on a symbol only the stalled client
        is on fill them first, so the measured run meets the server's own backpressure."""
        symbols = [STALL_SYMBOL]
        publish(self.urls.redis_url, self.prefix, symbols, STALL_FILL_RATE, self.args.stall_fill)
        print(f"  stalled client's unread backlog: {stalled.kernel_backlog() / 2**20:.1f} MiB")

    def mixed(self) -> dict[str, Any]:
        subs, queries = mixed(self.symbols, 40)
        with self.load(self.plan(subs, queries)) as load:
            self.warm_up(load, self.args.rate_40, self.args.warmup)
            return self.measure(load, subs, "mixed", self.args.rate_40, self.args.seconds)

    def ladder(self) -> tuple[list[dict[str, Any]], dict[str, Any]]:
        """`500 subs` at the base rate, then × ``--step`` while the step holds; then
        ``--refine`` bisections (geometric) between the last rate held and the first not."""
        subs = spread(self.symbols, self.args.subscribers, self.args.per_sub)
        rows: list[dict[str, Any]] = []
        best: dict[str, Any] = {"rate": 0.0, "deliveries_per_s": 0.0, "stopped_by": "max steps"}
        with self.load(self.plan(subs)) as load:
            rate = self.args.rate_500
            self.warm_up(load, rate, self.args.warmup)
            for step in range(self.args.max_steps):
                seconds = self.args.seconds if step == 0 else self.args.step_seconds
                run = "500 subs" if step == 0 else f"saturation {step}"
                row = self.measure(load, subs, run, rate, seconds)
                row["ladder_step"] = step
                rows.append(row)
                reason = self.failed(row)
                if reason:
                    best["stopped_by"] = f"{reason} at {rate:.0f} ticks/s"
                    break
                best.update(rate=rate, deliveries_per_s=row["delivered_per_s"])
                rate *= self.args.step
            else:
                return rows, best
            failing = rate
            for refinement in range(self.args.refine if best["rate"] else 0):
                rate = (best["rate"] * failing) ** 0.5
                row = self.measure(load, subs, f"refine {refinement + 1}", rate, seconds)
                row["ladder_step"] = len(rows)
                rows.append(row)
                reason = self.failed(row)
                if reason:
                    failing = rate
                    best["stopped_by"] = f"{reason} at {rate:.0f} ticks/s"
                else:
                    best.update(rate=rate, deliveries_per_s=row["delivered_per_s"])
        return rows, best

    def failed(self, row: dict[str, Any]) -> str:
        if row["published_per_s"] < 0.95 * row["rate"]:
            return "publisher could not offer the rate"
        if row["delivered_pct"] < 100 * HOLD_SHARE:
            late = " (still arriving after the drain)" if row["still_arriving"] else ""
            return f"delivered {row['delivered_pct']:.2f}%{late}"
        if row["p99_ms"] > P99_BOUND_MS:
            return f"p99 {row['p99_ms']:.0f} ms"
        return ""


def bootstrap_prefix(urls: Backends) -> str:
    """Fidus creates the tenant whose channels everyone listens on."""
    with fidus(urls, DB):
        return channel_prefix(urls, DB)


def parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="short steps: a check, not data")
    parser.add_argument("--servers", default=",".join(SERVERS))
    parser.add_argument("--symbols", type=int, default=10)
    parser.add_argument("--per-sub", type=int, default=2)
    parser.add_argument("--subscribers", type=int, default=500, help="of the ladder")
    parser.add_argument("--rate-40", type=float, default=400.0, help="ticks/s at 40 subs")
    parser.add_argument("--rate-500", type=float, default=40.0, help="ticks/s at 500 subs")
    parser.add_argument("--step", type=float, default=1.5)
    parser.add_argument(
        "--refine", type=int, default=2, help="bisections after the ladder's first failure"
    )
    parser.add_argument("--max-steps", type=int, default=12)
    parser.add_argument("--seconds", type=float, default=6.0, help="per fixed-load run")
    parser.add_argument("--step-seconds", type=float, default=4.0, help="per saturation step")
    parser.add_argument("--drain", type=float, default=3.0, help="most seconds to settle")
    parser.add_argument("--warmup", type=float, default=3.0, help="unmeasured seconds first")
    parser.add_argument("--stall-fill", type=float, default=5.0, help="seconds filling the stall")
    parser.add_argument("--client-processes", type=int, default=2)
    parser.add_argument(
        "--profile",
        nargs="?",
        const="500 subs",
        default=None,
        help="py-spy Fidus during one run (default: '500 subs'; e.g. '40 subs')",
    )
    args = parser.parse_args()
    args.started = time.monotonic()
    if args.quick:
        args.seconds, args.step_seconds, args.drain, args.warmup = 1.2, 1.0, 1.0, 0.6
        args.stall_fill = 2.0
        args.step = max(args.step, 2.0)
        args.refine = min(args.refine, 1)
    return args


def main() -> None:
    args = parse()
    servers = [s for s in args.servers.split(",") if s]
    rows: list[dict[str, Any]] = []
    saturation: dict[str, Any] = {}
    started = args.started
    with backends() as urls:
        prefix = "" if "fidus" in servers else bootstrap_prefix(urls)
        for name in servers:
            with peer(name, urls, DB, prefix) as server:
                prefix = prefix or channel_prefix(urls, DB)
                print(f"{time.monotonic() - started:5.0f}s {name}: {server.ws_url}", flush=True)
                bench = Bench(args, urls, prefix, server)
                rows += bench.fixed_and_stalled()
                rows.append(bench.mixed())
                ladder, saturation[name] = bench.ladder()
                rows += ladder
    data: dict[str, Any] = {"rows": rows, "saturation": saturation}
    found = targets(data)
    report(
        "fanout",
        COLUMNS,
        rows,
        saturation=saturation,
        ratios=ratios(data),
        targets=[t.as_dict() for t in found],
        settings={
            **vars(args),
            "started": None,
            "seconds_total": round(time.monotonic() - started),
        },
    )
    print("\n| server | saturation deliveries/s | ticks/s | stopped by |\n|---|---|---|---|")
    for name, best in saturation.items():
        rate, per_s = f"{best['rate']:,.0f}", f"{best['deliveries_per_s']:,.0f}"
        print(f"| {name} | {per_s} | {rate} | {best['stopped_by']} |")
    print("\n| target | measured | |\n|---|---|---|")
    for t in found:
        print(f"| {t.name} | {t.measured:.2f}{t.unit} | {'met' if t.met else 'NOT met'} |")
    print(f"\n{time.monotonic() - started:.0f} s")


if __name__ == "__main__":
    main()
