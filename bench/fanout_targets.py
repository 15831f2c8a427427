"""The fan-out targets, stated once: ratios of Fidus to the relay and to the Node peer from
a `bench.fanout` result, each with its bound and whether it was met. Used by the printed
summary and by `bench.report`."""

from dataclasses import dataclass
from typing import Any

HOLD_SHARE = 0.999  # delivered / expected that a run must reach
P99_BOUND_MS = 250.0  # a saturation step holds only under this p99


@dataclass(frozen=True)
class Target:
    name: str
    measured: float
    bound: float
    at_most: bool  # measured ≤ bound (else ≥)
    unit: str = "×"

    @property
    def met(self) -> bool:
        return self.measured <= self.bound if self.at_most else self.measured >= self.bound

    def as_dict(self) -> dict[str, Any]:
        return {**self.__dict__, "met": self.met}


def row(data: dict[str, Any], server: str, run: str) -> dict[str, Any] | None:
    return next((r for r in data["rows"] if r["server"] == server and r["run"] == run), None)


def _ratio(a: float, b: float) -> float:
    return a / b if b > 0 else float("inf")


def ratios(data: dict[str, Any]) -> dict[str, float]:
    """``<metric>_<run>_vs_<baseline>`` → Fidus's value over the baseline's."""
    out: dict[str, float] = {}
    for baseline in ("relay", "node"):
        for run in ("40 subs", "500 subs"):
            fidus, other = row(data, "fidus", run), row(data, baseline, run)
            if fidus and other:
                key = run.split()[0]
                out[f"cpu_{key}_vs_{baseline}"] = _ratio(
                    fidus["server_us_per_delivered"], other["server_us_per_delivered"]
                )
                out[f"p99_{key}_vs_{baseline}"] = _ratio(fidus["p99_ms"], other["p99_ms"])
        saturation = data.get("saturation", {})
        if "fidus" in saturation and baseline in saturation:
            out[f"saturation_vs_{baseline}"] = _ratio(
                saturation["fidus"]["deliveries_per_s"], saturation[baseline]["deliveries_per_s"]
            )
    return out


def targets(data: dict[str, Any]) -> list[Target]:
    r = ratios(data)
    found: list[Target] = []
    for key in ("40", "500"):
        if f"cpu_{key}_vs_relay" in r:
            found.append(
                Target(
                    f"CPU per delivered tick, {key} subs ≤ 1.43× relay",
                    r[f"cpu_{key}_vs_relay"],
                    1.43,
                    True,
                )
            )
        if f"cpu_{key}_vs_node" in r:
            found.append(
                Target(
                    f"CPU per delivered tick, {key} subs ≤ 1× node",
                    r[f"cpu_{key}_vs_node"],
                    1.0,
                    True,
                )
            )
        if f"p99_{key}_vs_relay" in r:
            found.append(
                Target(f"p99 latency, {key} subs ≤ 2× relay", r[f"p99_{key}_vs_relay"], 2.0, True)
            )
    if "saturation_vs_relay" in r:
        found.append(
            Target("saturation throughput ≥ 0.7× relay", r["saturation_vs_relay"], 0.7, False)
        )
    fidus_rows = [x for x in data["rows"] if x["server"] == "fidus" and not x.get("ladder_step")]
    if fidus_rows:
        worst = min(fidus_rows, key=lambda x: x["delivered_pct"])
        found.append(
            Target(
                f"≥ 99.9% delivered in every run (worst: {worst['run']})",
                worst["delivered_pct"],
                100 * HOLD_SHARE,
                False,
                "%",
            )
        )
    return found
