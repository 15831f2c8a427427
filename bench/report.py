"""Turn bench/results/*.json into docs/benchmarks.md (tables) and PNG charts under
docs/benchmarks/ (matplotlib): latency percentiles and throughput.

    .venv/bin/python -m bench.report
"""

import json
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

from bench import fanout_targets
from bench.harness import RESULTS, ROOT

DOCS = ROOT / "docs"
CHARTS = DOCS / "benchmarks"


def _load(name: str) -> dict[str, Any] | None:
    path = RESULTS / f"{name}.json"
    return json.loads(path.read_text()) if path.exists() else None


def _table(rows: list[dict[str, Any]], columns: list[str]) -> str:
    def cell(value: Any) -> str:
        return f"{value:,.1f}" if isinstance(value, float) else str(value)

    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(cell(row.get(c, "")) for c in columns) + " |" for row in rows]
    return "\n".join(lines)


def _bars(
    path: Path, title: str, labels: list[str], series: dict[str, list[float]], unit: str
) -> None:
    figure, axes = plt.subplots(figsize=(7, 3.6))
    width = 0.8 / max(1, len(series))
    for index, (name, values) in enumerate(series.items()):
        positions = [i + index * width for i in range(len(labels))]
        axes.bar(positions, values, width, label=name)
    axes.set_xticks([i + width * (len(series) - 1) / 2 for i in range(len(labels))], labels)
    axes.set_ylabel(unit)
    axes.set_title(title)
    axes.legend()
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


FANOUT_RUNS = ("40 subs", "500 subs", "mixed", "stalled")


def _fanout_rows(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every run with delivered/expected spelled out; CPU as µs per delivered message."""
    return [
        {
            "server": r["server"],
            "run": r["run"],
            "subs": r["subscribers"],
            "ticks/s": f"{r['rate']:,.0f}",
            "delivered / expected": f"{r['delivered']:,} / {r['expected']:,} "
            f"({r['delivered_pct']:.2f}%)",
            "delivered/s": f"{r['delivered_per_s']:,.0f}",
            "p50 / p95 / p99 ms": f"{r['p50_ms']:.1f} / {r['p95_ms']:.1f} / {r['p99_ms']:.1f}",
            "server µs/msg": f"{r['server_us_per_delivered']:.1f}",
            "server CPU": f"{r['server_cpu_pct']:.0f}%",
            "client µs/msg": f"{r['client_us_per_delivered']:.1f}",
            "client CPU": f"{r['client_cpu_pct']:.0f}%",
            **({"other CPU": f"{r['other_cpu_pct']:.0f}%"} if "other_cpu_pct" in r else {}),
        }
        for r in rows
    ]


def _side_by_side(data: dict[str, Any], servers: list[str]) -> list[dict[str, Any]]:
    """Server CPU µs per delivered message, one row per run, one column per server."""
    table = []
    for run in FANOUT_RUNS:
        cells = {s: fanout_targets.row(data, s, run) for s in servers}
        if not any(cells.values()):
            continue
        line: dict[str, Any] = {"run": run}
        for server, r in cells.items():
            line[server] = f"{r['server_us_per_delivered']:.1f}" if r else ""
        fidus = cells.get("fidus")
        for baseline in ("relay", "node"):
            other = cells.get(baseline)
            if fidus and other and other["server_us_per_delivered"] > 0:
                ratio = fidus["server_us_per_delivered"] / other["server_us_per_delivered"]
                line[f"fidus / {baseline}"] = f"{ratio:.2f}×"
        table.append(line)
    return table


def fanout_section(data: dict[str, Any]) -> str:
    rows, settings = data["rows"], data.get("settings", {})
    servers = list(dict.fromkeys(r["server"] for r in rows))
    runs = [run for run in FANOUT_RUNS if any(r["run"] == run for r in rows)]
    _bars(
        CHARTS / "fanout-cpu.png",
        "Tick fan-out: server CPU per delivered message (µs)",
        runs,
        {
            s: [
                (fanout_targets.row(data, s, run) or {}).get("server_us_per_delivered", 0.0)
                for run in runs
            ]
            for s in servers
        },
        "µs",
    )
    _bars(
        CHARTS / "fanout-latency.png",
        "Tick fan-out: p99 latency tick → client (ms)",
        runs,
        {
            s: [(fanout_targets.row(data, s, run) or {}).get("p99_ms", 0.0) for run in runs]
            for s in servers
        },
        "ms",
    )
    saturation = data.get("saturation", {})
    _bars(
        CHARTS / "fanout-throughput.png",
        "Tick fan-out: saturation throughput (deliveries/s held)",
        list(saturation),
        {"deliveries/s": [best["deliveries_per_s"] for best in saturation.values()]},
        "deliveries/s",
    )
    held = [
        {
            "server": name,
            "deliveries/s held": f"{best['deliveries_per_s']:,.0f}",
            "at ticks/s": f"{best['rate']:,.0f}",
            "stopped by": best["stopped_by"],
        }
        for name, best in saturation.items()
    ]
    stalled = [
        {
            "server": r["server"],
            "readers delivered / expected": f"{r['delivered']:,} / {r['expected']:,} "
            f"({r['delivered_pct']:.2f}%)",
            "reader p99 ms": f"{r['p99_ms']:.1f}",
            "server µs/msg": f"{r['server_us_per_delivered']:.1f}",
            "server CPU": f"{r['server_cpu_pct']:.0f}%",
            "server RSS MiB (growth)": f"{r['server_rss_mib']:.0f} "
            f"({r['server_rss_growth_mib']:+.1f})",
            "unread by the stalled client": f"{r.get('stalled_backlog_kib', 0) / 1024:.1f} MiB",
        }
        for r in rows
        if r["run"] == "stalled"
    ]
    quick = (
        ["**Quick run** (`--quick`, ~1 s steps): a check that the instrument works, not data.", ""]
        if settings.get("quick")
        else []
    )
    return "\n".join(
        [
            "## 1. Tick fan-out",
            "",
            *quick,
            "Three servers under the same load in one run, one after another: Fidus "
            "(graphql-transport-ws `ticks(symbols)`), `bench/relay.py` (Starlette forwarding "
            "Redis pub/sub as JSON, no GraphQL) and `bench/baselines/node` (graphql-js over "
            "graphql-ws, ioredis: executes each subscriber's selection per event). Ticks are "
            "published straight to the Redis channels all three listen on, "
            f"{settings.get('symbols')} symbols, {settings.get('per_sub')} per subscriber, "
            f"{settings.get('seconds')} s per run after {settings.get('warmup')} s of warm-up; "
            f"clients in {settings.get('client_processes')} processes on the same machine. "
            "`stalled` adds one subscriber on every symbol that never reads (its ticks are not "
            "expected; the others' are); `mixed` has subscribers selecting different fields and "
            "symbol lists (latency only from those selecting `time`).",
            "",
            "Server CPU (user + sys) per delivered message, µs:",
            "",
            _table(
                _side_by_side(data, servers), ["run", *servers, "fidus / relay", "fidus / node"]
            ),
            "",
            f"Saturation: the rate × {settings.get('step')} per step of "
            f"{settings.get('step_seconds')} s at {settings.get('subscribers')} subscribers, "
            f"until delivery < {100 * fanout_targets.HOLD_SHARE:.1f}% or p99 > "
            f"{fanout_targets.P99_BOUND_MS:.0f} ms, then {settings.get('refine', 0)} "
            "geometric bisections between the last rate held and the first not; the highest "
            "rate that held:",
            "",
            _table(held, ["server", "deliveries/s held", "at ticks/s", "stopped by"]),
            "",
            "A stalled subscriber among 40 readers: what the readers got, and what the server "
            "spent. The stalled client is first sent megabytes on a symbol of its own, so its "
            "kernel buffers are full before the run; the last column is what sat unread in "
            "them at the end (0 when the server closed the connection).",
            "",
            _table(stalled, list(stalled[0])) if stalled else "",
            "",
            "Every run (expected = Σ over published ticks of that symbol's reading subscribers; "
            "every published tick is to reach every subscriber that keeps up). CPU columns are "
            "% of one core"
            + (
                "; `other CPU` is the rest of the machine (Redis, the publisher, anything else "
                "running): saturation and latency depend on it, CPU per message much less."
                if any("other_cpu_pct" in r for r in rows)
                else "."
            ),
            "",
            _table(_fanout_rows(rows), list(_fanout_rows(rows[:1])[0])),
            "",
            "![cpu](benchmarks/fanout-cpu.png) ![p99](benchmarks/fanout-latency.png) "
            "![throughput](benchmarks/fanout-throughput.png)",
        ]
    )


def memory_section(idle: dict[str, Any] | None, stalled: dict[str, Any] | None) -> str:
    parts = ["## 2. Memory", ""]
    if idle:
        parts += [_table(idle["rows"], list(idle["rows"][0])), ""]
    if stalled:
        row = stalled["rows"][0]
        parts += [
            "A stalled subscriber (all 50 symbols, never reading) under the feed, while "
            "another subscriber keeps reading:",
            "",
            _table([row], list(row)),
            "",
            "`reader_share_pct` is the reading subscriber's ticks as a share of the ticks "
            "accepted for its symbols. Every accepted tick is to reach a subscriber that "
            "keeps up, so anything under 100% is ticks that reader lost.",
            "",
            "![rss](benchmarks/memory-stalled.png)",
        ]
        series = stalled.get("series", [])
        if series:
            figure, axes = plt.subplots(figsize=(7, 3.2))
            axes.plot([at for at, _ in series], [rss / 2**20 for _, rss in series])
            axes.set_xlabel("seconds")
            axes.set_ylabel("server RSS (MiB)")
            axes.set_ylim(bottom=0)
            axes.set_title("Server RSS with a stalled subscriber")
            figure.tight_layout()
            figure.savefig(CHARTS / "memory-stalled.png", dpi=110)
            plt.close(figure)
    return "\n".join(parts)


def simple_section(title: str, data: dict[str, Any], chart: str | None = None) -> str:
    rows = data["rows"]
    parts = [f"## {title}", "", _table(rows, list(rows[0]))]
    for key in ("ratios", "targets", "notes"):
        if data.get(key):
            parts += ["", f"{key}: `{json.dumps(data[key])}`"]
    if chart:
        parts += ["", f"![{title}](benchmarks/{chart})"]
    return "\n".join(parts)


QUERY_TARGETS = {"raw": 0.5, "naive": 3.0}  # Fidus requests/s ≥ this × the baseline's
QUERY_COLUMNS = [
    "query",
    "server",
    "concurrency",
    "requests_per_s",
    "p50_ms",
    "p99_ms",
    "server_cpu_ms_per_request",
    "db_cpu_ms_per_request",
    "failures",
]


def _ratio_rows(ratios: dict[str, float]) -> list[dict[str, Any]]:
    """q1_c32_vs_raw → one row per query and concurrency, with both ratios and the verdict."""
    rows: dict[tuple[str, str], dict[str, Any]] = {}
    for key, value in ratios.items():
        query, concurrency, _, baseline = key.split("_", 3)
        row = rows.setdefault(
            (query, concurrency), {"query": query.upper(), "concurrency": concurrency[1:]}
        )
        row[f"vs {baseline}"] = f"{value:.2f}×"
        row[f"{baseline} target met"] = "yes" if value >= QUERY_TARGETS[baseline] else "no"
    return list(rows.values())


def queries_section(data: dict[str, Any]) -> str:
    rows = data["rows"]
    labels = [f"{row['query'].split()[0]} c{row['concurrency']}" for row in rows]
    cases = list(dict.fromkeys(labels))
    servers = list(dict.fromkeys(row["server"] for row in rows))
    for metric, title, unit, chart in (
        ("requests_per_s", "Queries: requests/s", "requests/s", "queries-throughput.png"),
        ("p99_ms", "Queries: p99 latency", "ms", "queries-p99.png"),
    ):
        by_server = {
            server: [
                next(
                    r[metric]
                    for r, lab in zip(rows, labels, strict=True)
                    if lab == case and r["server"] == server
                )
                for case in cases
            ]
            for server in servers
        }
        _bars(CHARTS / chart, title, cases, by_server, unit)
    ratio_rows = _ratio_rows(data.get("ratios", {}))
    ops = data.get("mongo_ops_per_request", {})
    return "\n".join(
        [
            "## 3. Queries",
            "",
            "Q1: a portfolio with 100 holdings and their last prices; Q2: a page of 50 "
            "opportunities with their interests and investors (400). Baselines in the same "
            "run: a raw Starlette + PyMongo handler returning the same JSON, and a naive "
            "Strawberry + Beanie build without DataLoaders or caches. "
            + str(data.get("notes", "")),
            "",
            _table(rows, QUERY_COLUMNS),
            "",
            "Fidus's requests/s as a multiple of each baseline's (targets ≥ 0.5× raw, ≥ 3× naive):",
            "",
            _table(ratio_rows, list(ratio_rows[0])) if ratio_rows else "",
            "",
            "MongoDB operations per request: "
            + ", ".join(f"{name} {count:.1f}" for name, count in ops.items()),
            "",
            "![requests/s](benchmarks/queries-throughput.png) ![p99](benchmarks/queries-p99.png)",
        ]
    )


def _machine_line(machine: dict[str, Any]) -> str:
    return (
        f"Machine: {machine.get('cpus')} CPUs ({machine.get('cpu', 'unknown model')}), "
        f"{machine.get('memory_gib')} GiB RAM, Python {machine.get('python')} on "
        f"{machine.get('platform')}; servers and load generators share it."
    )


def _verdict(met: bool) -> str:
    return "met" if met else "**not met**"


def targets_section(results: dict[str, dict[str, Any] | None]) -> str:
    """One row per target of issue 6, from whichever results exist."""
    rows: list[dict[str, Any]] = []
    if (fanout := results.get("fanout")) and "saturation" in fanout:
        rows += [
            {
                "target": f"fan-out: {t.name}",
                "measured": f"{t.measured:.2f}{t.unit}",
                "": _verdict(t.met),
            }
            for t in fanout_targets.targets(fanout)
        ]
    if idle := results.get("memory-idle"):
        top = max(idle["rows"], key=lambda r: r["subscriptions"])
        rows.append(
            {
                "target": "10,000 idle subscriptions ≤ 1 GiB RSS",
                "measured": f"{top['rss_mib']:.0f} MiB "
                f"({top['bytes_per_subscription'] / 1024:.1f} KiB each)",
                "": _verdict(top["subscriptions"] >= 10_000 and top["rss_mib"] <= 1024),
            }
        )
    if stalled := results.get("memory-stalled"):
        row = stalled["rows"][0]
        rows.append(
            {
                "target": "stalled subscriber: RSS flat ±5% after 10 s",
                "measured": f"{row['spread_after_10s_pct']:.1f}% over {row['seconds']:.0f} s",
                "": _verdict(row["spread_after_10s_pct"] <= 5),
            }
        )
        rows.append(
            {
                "target": "stalled subscriber: the reading one gets every accepted tick",
                "measured": f"{row['reader_share_pct']:.1f}%",
                "": _verdict(row["reader_share_pct"] >= 100 * fanout_targets.HOLD_SHARE),
            }
        )
    if queries := results.get("queries"):
        ratios = queries["ratios"]
        for query, name in (("q1", "Q1 portfolio"), ("q2", "Q2 opportunities")):
            vs_raw = min(v for k, v in ratios.items() if k.startswith(query) and k.endswith("raw"))
            vs_naive = min(
                v for k, v in ratios.items() if k.startswith(query) and k.endswith("naive")
            )
            rows += [
                {
                    "target": f"{name} ≥ 0.5× raw handler (worst concurrency)",
                    "measured": f"{vs_raw:.2f}×",
                    "": _verdict(vs_raw >= QUERY_TARGETS["raw"]),
                },
                {
                    "target": f"{name} ≥ 3× naive build (worst concurrency)",
                    "measured": f"{vs_naive:.2f}×",
                    "": _verdict(vs_naive >= QUERY_TARGETS["naive"]),
                },
            ]
    if ingest := results.get("ingest"):
        row = max(ingest["rows"], key=lambda r: r["batch"])
        rows.append(
            {
                "target": "ingest ≥ 20,000 ticks/s at batches of 1,000",
                "measured": f"{row['ticks_per_s']:,.0f}/s",
                "": _verdict(row["ticks_per_s"] >= 20_000),
            }
        )
    if not rows:
        return ""
    return "## Targets\n\n" + _table(rows, ["target", "measured", ""])


def main() -> None:
    CHARTS.mkdir(parents=True, exist_ok=True)
    names = ("fanout", "memory-idle", "memory-stalled", "queries", "ingest")
    sections = [targets_section({name: _load(name) for name in names})]
    machine = None
    if (fanout := _load("fanout")) and "saturation" in fanout:
        machine = fanout["machine"]
        sections.append(fanout_section(fanout))
    idle, stalled = _load("memory-idle"), _load("memory-stalled")
    if idle or stalled:
        sections.append(memory_section(idle, stalled))
    if queries := _load("queries"):
        sections.append(queries_section(queries))
    if ingest := _load("ingest"):
        rows = ingest["rows"]
        _bars(
            CHARTS / "ingest.png",
            "Ingest: accepted ticks/s by batch size",
            [str(row["batch"]) for row in rows],
            {"ticks/s": [row["ticks_per_s"] for row in rows]},
            "ticks/s",
        )
        sections.append(simple_section("4. Ingest", ingest, "ingest.png"))
        machine = machine or ingest["machine"]
    header = [
        "# Benchmarks",
        "",
        "Produced by the commands in `bench/README.md`; this page is written by "
        "`python -m bench.report` from `bench/results/*.json`. Every figure comes with a "
        "baseline measured in the same run on the same machine: ratios are what to compare, "
        "absolute numbers depend on the machine and its load.",
        "",
        _machine_line(machine) if machine else "",
    ]
    (DOCS / "benchmarks.md").write_text("\n".join(header) + "\n\n" + "\n\n".join(sections) + "\n")
    print(f"wrote {DOCS / 'benchmarks.md'}")


if __name__ == "__main__":
    main()
