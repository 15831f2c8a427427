"""Stand-in for the MetaTrader5 package (Windows only), with the functions and return
shapes `fidus mt5 bridge` uses: a numpy structured array from copy_ticks_from, named
tuples for the latest tick, account, positions and deals.

It simulates a terminal whose trade server clock runs STANDIN_SERVER_OFFSET_HOURS ahead of
UTC, with a tick per symbol every 50 ms since import. STANDIN_INIT_FAIL makes initialize()
fail as a terminal that is not running does."""

import os
import time
from collections import namedtuple
from datetime import datetime

import numpy as np

COPY_TICKS_ALL = -1
Tick = namedtuple("Tick", "time bid ask last volume time_msc flags volume_real")
AccountInfo = namedtuple(
    "AccountInfo",
    "login server currency leverage balance equity margin margin_free margin_level profit",
)
TradePosition = namedtuple(
    "TradePosition",
    "ticket time_msc type volume price_open price_current profit swap symbol",
)
TradeDeal = namedtuple(
    "TradeDeal",
    "ticket order time_msc type entry position_id volume price commission swap profit symbol comment",
)

# the dtype copy_ticks_from returns in the real package
TICK_DTYPE = np.dtype(
    [
        ("time", "<i8"),
        ("bid", "<f8"),
        ("ask", "<f8"),
        ("last", "<f8"),
        ("volume", "<u8"),
        ("time_msc", "<i8"),
        ("flags", "<u4"),
        ("volume_real", "<f8"),
    ]
)
SYMBOLS = {"XAUUSD": 2000.0, "EURUSD": 1.08}
STEP_MS = 50
_OFFSET_MS = int(float(os.environ.get("STANDIN_SERVER_OFFSET_HOURS", "0")) * 3_600_000)
_STARTED_MSC = int(time.time() * 1000) + _OFFSET_MS
_state = {"initialized": False, "error": (1, "Success")}


def _server_now_msc() -> int:
    return int(time.time() * 1000) + _OFFSET_MS


def _tick(symbol: str, index: int) -> Tick:
    msc = _STARTED_MSC + index * STEP_MS
    bid = round(SYMBOLS[symbol] * (1 + index / 100_000), 5)
    ask = round(bid * 1.0001, 5)
    return Tick(msc // 1000, bid, ask, 0.0, 0, msc, 6, 0.0)


def initialize(*args, **kwargs) -> bool:
    if os.environ.get("STANDIN_INIT_FAIL"):
        _state["error"] = (-10003, "IPC initialize failed, MetaTrader 5 x64 not found")
        return False
    _state["initialized"] = True
    return True


def last_error():
    return _state["error"]


def shutdown() -> None:
    _state["initialized"] = False


def symbol_select(symbol: str, enable: bool = True) -> bool:
    return bool(_state["initialized"]) and symbol in SYMBOLS


def symbol_info_tick(symbol: str):
    if symbol not in SYMBOLS:
        return None
    return _tick(symbol, (_server_now_msc() - _STARTED_MSC) // STEP_MS)


def copy_ticks_from(symbol: str, date_from: datetime, count: int, flags: int):
    """Ticks from date_from (the server clock, as MT5 counts it) to now, at most count."""
    if symbol not in SYMBOLS:
        return None
    first = max(0, -(-(int(date_from.timestamp() * 1000) - _STARTED_MSC) // STEP_MS))
    last = (_server_now_msc() - _STARTED_MSC) // STEP_MS
    rows = [tuple(_tick(symbol, i)) for i in range(first, min(last + 1, first + count))]
    return np.array(rows, dtype=TICK_DTYPE)


def account_info():
    return AccountInfo(
        886528, "Standin-Live", "USD", 100, 100000.0, 101234.56, 2500.0, 98734.56, 4049.38, 1234.56
    )


def positions_get(*args, **kwargs):
    return (
        TradePosition(1, _STARTED_MSC - 60_000, 0, 1.0, 2001.1, 2013.45, 1234.56, 0.0, "XAUUSD"),
    )


def history_deals_get(date_from: datetime, date_to: datetime, *args, **kwargs):
    return (
        TradeDeal(7, 6, _STARTED_MSC - 60_000, 0, 0, 1, 1.0, 2001.1, -3.5, 0.0, 0.0, "XAUUSD", ""),
        TradeDeal(
            8, 0, _STARTED_MSC - 120_000, 2, 0, 0, 0.0, 0.0, 0.0, 0.0, 100000.0, "", "deposit"
        ),
    )
