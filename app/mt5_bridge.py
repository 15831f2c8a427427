"""`fidus mt5 bridge`: poll a MetaTrader 5 terminal through the MetaTrader5 Python package
(Windows only) and push its ticks and account snapshots to Fidus.

Every poll asks the terminal for the ticks of each symbol since the last one sent
(``copy_ticks_from``), so nothing between two polls is lost; account, positions and deals
go out as one snapshot every ``accounts_every`` seconds. The terminal reports times in its
trade server's zone: ``server_utc_offset_hours`` converts them to UTC."""

import asyncio
import importlib
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from types import ModuleType
from typing import Any

from app.mt5_feed import Deliver, DeliverSnapshot
from models.mt5 import DEAL_ENTRIES, DEAL_TYPES, POSITION_TYPES

MODULE_NAME = "MetaTrader5"
TICK_FIELDS = ("time", "bid", "ask", "last", "volume", "time_msc", "flags", "volume_real")
COPY_TICKS_ALL = -1  # MetaTrader5.COPY_TICKS_ALL
MAX_TICKS_PER_POLL = 5000
DEAL_HISTORY = timedelta(days=30)


class BridgeUnavailable(RuntimeError):
    """The MetaTrader5 package or its terminal cannot be used; the message says why."""


def load_terminal() -> ModuleType:
    try:
        return importlib.import_module(MODULE_NAME)
    except ImportError as exc:
        raise BridgeUnavailable(
            "fidus mt5 bridge needs the MetaTrader5 package and a running MetaTrader 5 "
            "terminal (Windows only): pip install MetaTrader5. Elsewhere, feed Fidus with "
            "`fidus mt5 replay` or an Expert Advisor posting to /mt5/ticks."
        ) from exc


def _record(row: Any) -> dict[str, Any]:
    """A terminal row as a dict: named tuples (symbol_info_tick, account_info, ...) and the
    rows of the numpy structured arrays copy_ticks_from returns."""
    if hasattr(row, "_asdict"):
        return dict(row._asdict())
    names = getattr(getattr(row, "dtype", None), "names", None)
    if names:
        return {
            name: row[name].item() if hasattr(row[name], "item") else row[name] for name in names
        }
    return dict(row)


def _named(names: tuple[str, ...], code: int) -> str:
    """An MT5 enumeration code by its snapshot name; an unknown code is sent as its number
    (the server rejects that item with the reason)."""
    return names[code] if 0 <= code < len(names) else str(code)


def _money(value: Any) -> str:
    return str(Decimal(str(value)).quantize(Decimal("0.01")))


@dataclass
class Bridge:
    terminal: ModuleType
    symbols: list[str]
    deliver_ticks: Deliver
    deliver_snapshot: DeliverSnapshot | None = None
    server_utc_offset_hours: float = 0.0
    interval: float = 0.25
    accounts_every: float = 10.0

    def __post_init__(self) -> None:
        self._offset_ms = int(self.server_utc_offset_hours * 3_600_000)
        self._last_msc: dict[str, int] = {}
        self.sent = self.accepted = self.snapshots = 0

    def open(self) -> None:
        if not self.terminal.initialize():
            raise BridgeUnavailable(
                f"MetaTrader 5 terminal did not initialise: {self.terminal.last_error()}"
            )
        for symbol in self.symbols:
            if not self.terminal.symbol_select(symbol, True):
                raise BridgeUnavailable(f"The terminal does not offer the symbol {symbol}")
            latest = self.terminal.symbol_info_tick(symbol)
            # start after the tick current at start-up: history is for `fidus mt5 replay`
            self._last_msc[symbol] = _record(latest)["time_msc"] if latest is not None else 0

    def close(self) -> None:
        self.terminal.shutdown()

    def new_ticks(self) -> list[dict[str, Any]]:
        """Every tick of every symbol newer than the last one sent, in UTC."""
        batch: list[dict[str, Any]] = []
        for symbol in self.symbols:
            since = self._last_msc[symbol]
            from_msc = since or int(time.time() * 1000) + self._offset_ms
            start = datetime.fromtimestamp(from_msc / 1000, UTC)
            rows = self.terminal.copy_ticks_from(symbol, start, MAX_TICKS_PER_POLL, COPY_TICKS_ALL)
            for row in rows if rows is not None else ():
                tick = _record(row)
                if tick["time_msc"] <= since:
                    continue  # copy_ticks_from includes the tick at the start time
                self._last_msc[symbol] = max(self._last_msc[symbol], tick["time_msc"])
                batch.append(
                    {
                        **{name: tick[name] for name in TICK_FIELDS if name in tick},
                        "symbol": symbol,
                        "time_msc": tick["time_msc"] - self._offset_ms,
                    }
                )
        return batch

    def snapshot(self) -> dict[str, Any] | None:
        account = self.terminal.account_info()
        if account is None:
            return None
        info = _record(account)
        now = datetime.now(UTC)
        positions = [_record(p) for p in self.terminal.positions_get() or ()]
        deals = [_record(d) for d in self.terminal.history_deals_get(now - DEAL_HISTORY, now) or ()]
        return {
            "login": info["login"],
            "server": info["server"],
            "currency": info["currency"],
            "leverage": info["leverage"],
            **{
                name: _money(info[name])
                for name in ("balance", "equity", "margin", "margin_free", "margin_level", "profit")
            },
            "time_msc": int(time.time() * 1000),
            "positions": [
                {
                    "ticket": p["ticket"],
                    "symbol": p["symbol"],
                    "type": _named(POSITION_TYPES, p["type"]),
                    "volume": str(p["volume"]),
                    "price_open": str(p["price_open"]),
                    "price_current": str(p["price_current"]),
                    "profit": _money(p["profit"]),
                    "swap": _money(p["swap"]),
                    "time_msc": p["time_msc"] - self._offset_ms,
                }
                for p in positions
            ],
            "deals": [
                {
                    "ticket": d["ticket"],
                    "order": d["order"],
                    "position_id": d["position_id"],
                    "time_msc": d["time_msc"] - self._offset_ms,
                    "type": _named(DEAL_TYPES, d["type"]),
                    "entry": _named(DEAL_ENTRIES, d["entry"]),
                    "symbol": d["symbol"],
                    "volume": str(d["volume"]),
                    "price": str(d["price"]),
                    "profit": _money(d["profit"]),
                    "commission": _money(d["commission"]),
                    "swap": _money(d["swap"]),
                    "comment": d.get("comment", ""),
                }
                for d in deals
            ],
        }

    async def poll_once(self, with_snapshot: bool) -> None:
        batch = self.new_ticks()
        if batch:
            self.sent += len(batch)
            self.accepted += await self.deliver_ticks(batch)
        if with_snapshot and self.deliver_snapshot is not None:
            body = self.snapshot()
            if body is not None:
                await self.deliver_snapshot(body)
                self.snapshots += 1

    async def run(self, polls: int | None = None) -> None:
        """Poll until interrupted (or ``polls`` times, for tests and one-shot runs)."""
        next_snapshot = 0.0
        done = 0
        while polls is None or done < polls:
            started = time.monotonic()
            due = started >= next_snapshot
            await self.poll_once(due)
            if due:
                next_snapshot = started + self.accounts_every
            done += 1
            await asyncio.sleep(max(0.0, self.interval - (time.monotonic() - started)))
