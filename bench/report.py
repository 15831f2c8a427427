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


def fanout_section(data: dict[str, Any]) -> str:
    rows = data["rows"]
    _bars(
        CHARTS / "fanout-latency.png",
        "Tick fan-out: latency tick → client (ms)",
        ["p50", "p95", "p99"],
        {row["server"]: [row["p50_ms"], row["p95_ms"], row["p99_ms"]] for row in rows},
        "ms",
    )
    _bars(
        CHARTS / "fanout-throughput.png",
        "Tick fan-out: delivered messages/s",
        [row["server"] for row in rows],
        {"delivered/s": [row["delivered_per_s"] for row in rows]},
        "messages/s",
    )
    ratios = data.get("ratios", {})
    settings = data.get("settings", {})
    return "\n".join(
        [
            "## 1. Tick fan-out",
            "",
            f"{settings.get('subscribers')} subscribers (graphql-transport-ws, "
            f"{settings.get('client_processes')} client processes), each on "
            f"{settings.get('per_sub')} of {settings.get('symbols')} symbols; "
            f"{settings.get('rate')} ticks/s posted to `/mt5/ticks` for "
            f"{settings.get('seconds')} s. Baseline: `bench/relay.py` (Starlette WebSocket "
            "forwarding Redis pub/sub, no GraphQL) under the same load, same run.",
            "",
            _table(rows, list(rows[0])),
            "",
            f"Fidus delivers **{ratios.get('throughput_vs_relay', 0):.2f}×** the relay's "
            f"throughput with a p99 of **{ratios.get('p99_vs_relay', 0):.2f}×** the relay's "
            "(targets ≥ 0.7× and ≤ 2×).",
            "",
            "![latency](benchmarks/fanout-latency.png) "
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
            "`reader_share_pct` is the reading subscriber's ticks as a share of those posted "
            "for its symbols: each 20 ms batch carries two ticks per symbol, which conflate "
            "to the newest by design, so 50% means the newest tick of every batch arrived.",
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
    if fanout := results.get("fanout"):
        ratios = fanout["ratios"]
        fidus_row = next(r for r in fanout["rows"] if r["server"] == "fidus")
        rows += [
            {
                "target": "fan-out throughput ≥ 0.7× relay",
                "measured": f"{ratios['throughput_vs_relay']:.2f}×",
                "": _verdict(ratios["throughput_vs_relay"] >= 0.7),
            },
            {
                "target": "fan-out p99 ≤ 2× relay",
                "measured": f"{ratios['p99_vs_relay']:.2f}×",
                "": _verdict(ratios["p99_vs_relay"] <= 2),
            },
            {
                "target": "≥ 10,000 deliveries/s per worker",
                "measured": f"{fidus_row['delivered_per_s']:,.0f}/s "
                f"({fidus_row['delivered']:,} of {fidus_row['expected']:,} delivered)",
                "": _verdict(fidus_row["delivered_per_s"] >= 9_900),
            },
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
    if fanout := _load("fanout"):
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
