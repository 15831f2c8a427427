"""MT5 tick ingestion (mt5.md): every tick validated on its own, bad ones rejected with a
reason, good ones cached as the latest price and published once each."""

import math
from dataclasses import dataclass
from functools import partial
from typing import Any

from resolvers.core.context import Services
from resolvers.core.post_commit import after_commit
from resolvers.identity.service_tokens import ServiceCaller
from subscriptions.payloads import SYMBOL_PATTERN, TickPayload
from subscriptions.portfolios import mark_symbols
from subscriptions.ticks import accept_ticks

MAX_BATCH = 5000
MAX_FUTURE_MS = 60_000


@dataclass(frozen=True)
class Rejection:
    index: int
    reason: str


@dataclass(frozen=True)
class IngestResult:
    accepted: list[TickPayload]
    rejected: list[Rejection]


def _number(raw: dict[str, Any], name: str) -> float | str | None:
    """The field as a float, None when absent, or a reason string."""
    value = raw.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        return f"{name} must be a number"
    if not math.isfinite(value):
        return f"{name} must be finite"
    if value < 0:
        return f"{name} must not be negative"
    return float(value)


def parse_tick(raw: Any, now_ms: int) -> TickPayload | str:
    """A valid tick, or why not (staleness is checked by the caller)."""
    if not isinstance(raw, dict):
        return "tick must be an object"
    symbol = raw.get("symbol")
    if not isinstance(symbol, str) or not SYMBOL_PATTERN.fullmatch(symbol):
        return "symbol must be 1-32 letters, digits or . _ # -"
    time_msc = raw.get("time_msc")
    if time_msc is None and isinstance(raw.get("time"), int):
        time_msc = raw["time"] * 1000
    if isinstance(time_msc, bool) or not isinstance(time_msc, int) or time_msc <= 0:
        return "time_msc must be a positive integer (milliseconds)"
    if time_msc > now_ms + MAX_FUTURE_MS:
        return "time_msc is more than 60 s in the future"
    values: dict[str, float] = {}
    for name in ("bid", "ask", "last", "volume", "volume_real"):
        parsed = _number(raw, name)
        if isinstance(parsed, str):
            return parsed
        values[name] = parsed or 0.0
    bid, ask = values["bid"], values["ask"]
    if bid <= 0 and ask <= 0 and values["last"] <= 0:
        return "a tick needs a positive bid, ask or last price"
    if bid > 0 and ask > 0 and bid > ask:
        return "bid must not exceed ask"
    flags = raw.get("flags", 0)
    if isinstance(flags, bool) or not isinstance(flags, int) or not 0 <= flags < 2**32:
        return "flags must be an unsigned 32-bit integer"
    return TickPayload(
        symbol=symbol,
        time_msc=time_msc,
        bid=bid,
        ask=ask,
        last=values["last"],
        volume=values["volume_real"] or values["volume"],
        flags=flags,
    )


async def ingest_ticks(
    services: Services, caller: ServiceCaller, ticks: list[Any], now_ms: int
) -> IngestResult:
    """Accepted ticks are stored and published in one step; the valuation worker is told
    after it, and a failure to tell it does not fail the batch (resolvers.core.post_commit)."""
    broker = services.broker
    tenant = str(caller.tenant_id)
    parsed = [parse_tick(raw, now_ms) for raw in ticks]
    valid = [(index, tick) for index, tick in enumerate(parsed) if isinstance(tick, TickPayload)]
    fresh = await accept_ticks(broker, tenant, [tick for _, tick in valid])
    stale = {index for (index, _), ok in zip(valid, fresh, strict=True) if not ok}
    accepted: list[TickPayload] = []
    rejected: list[Rejection] = []
    for index, tick in enumerate(parsed):
        if isinstance(tick, str):
            rejected.append(Rejection(index, tick))
        elif index in stale:
            rejected.append(Rejection(index, "stale: older than the last accepted tick"))
        else:
            accepted.append(tick)
    symbols = list(dict.fromkeys(t.symbol for t in accepted))
    if symbols:
        mark = partial(mark_symbols, broker, tenant, symbols)
        await after_commit(services.background, "prices-mark", mark)
    return IngestResult(accepted=accepted, rejected=rejected)
