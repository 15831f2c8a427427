"""What the MT5 bridge sends, for tests: ticks (POST /mt5/ticks) and account snapshots
(POST /mt5/accounts) over real HTTP, and the latest prices they leave."""

import time
from typing import Any

import httpx

from tests.support.api import Api

LATEST = "query($s: [String!]!) { latestTicks(symbols: $s) { symbol bid ask last } }"
MAP = """mutation($l: Int!, $s: String!, $f: String!, $a: Decimal!, $p: ID) {
  mapMt5Account(login: $l, server: $s, fundCode: $f, initialAllocation: $a, portfolioId: $p) {
    login fundCode initialAllocation equity } }"""


def now_ms() -> int:
    return int(time.time() * 1000)


def tick(symbol="XAUUSD", offset_ms=0, bid=2001.1, ask=2001.4, **extra):
    return {
        "symbol": symbol,
        "time_msc": now_ms() + offset_ms,
        "bid": bid,
        "ask": ask,
        "last": 0,
        "volume": 0,
        "volume_real": 0,
        "flags": 6,
        **extra,
    }


async def post(api, token, body, raw: bytes | None = None):
    """POST /mt5/ticks with ``body`` as JSON (or ``raw`` bytes as they are)."""
    headers = {"authorization": f"Bearer {token}"} if token else {}
    if raw is not None:
        headers["content-type"] = "application/json"
        return await api.client.post(f"{api.base_url}/mt5/ticks", content=raw, headers=headers)
    return await api.client.post(f"{api.base_url}/mt5/ticks", json=body, headers=headers)


async def latest(api, world, symbols):
    """The latest prices of ``symbols`` an acme investor sees, by symbol."""
    result = await api.gql(LATEST, {"s": symbols}, token=world("acme", "investor").token)
    return {t["symbol"]: t for t in result.ok()["latestTicks"]}


def snapshot(equity="1100000.00", deals=None, time_msc=None) -> dict[str, Any]:
    """An account snapshot as the bridge posts it: one position, one deal."""
    return {
        "login": 886528,
        "server": "Broker-Live",
        "currency": "USD",
        "leverage": 100,
        "balance": "1000000.00",
        "equity": equity,
        "margin": "2500.00",
        "margin_free": "98734.56",
        "margin_level": "4049.38",
        "profit": "100000.00",
        "time_msc": time_msc or int(time.time() * 1000),
        "positions": [
            {
                "ticket": 1,
                "symbol": "XAUUSD",
                "type": "BUY",
                "volume": "1.00",
                "price_open": "2001.10",
                "price_current": "2013.45",
                "profit": "1234.56",
                "swap": "0.00",
                "time_msc": 1763790000000,
            }
        ],
        "deals": deals
        if deals is not None
        else [
            {
                "ticket": 7,
                "order": 6,
                "position_id": 1,
                "time_msc": 1763790000000,
                "type": "BUY",
                "entry": "IN",
                "symbol": "XAUUSD",
                "volume": "1.00",
                "price": "2001.10",
                "profit": "0.00",
                "commission": "-3.50",
                "swap": "0.00",
            }
        ],
    }


async def post_snapshot(api: Api, token: str, body: Any) -> httpx.Response:
    return await api.client.post(
        f"{api.base_url}/mt5/accounts", json=body, headers={"authorization": f"Bearer {token}"}
    )
