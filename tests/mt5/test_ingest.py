"""POST /mt5/ticks through real HTTP: authentication and scope, per-tick validation with
reasons, good ticks in a bad batch still accepted, latest prices, live delivery."""

import asyncio
import contextlib
import json
import math

import pytest
from gql import Client, gql

from tests.support.mt5 import now_ms, post, tick
from tests.support.ws import transport

LATEST = "query($s: [String!]!) { latestTicks(symbols: $s) { symbol bid ask time flags } }"


async def test_good_ticks_are_accepted_and_become_latest_prices(api, world, ingest_token):
    response = await post(
        api, ingest_token, {"ticks": [tick(), tick("EURUSD#", bid=1.08, ask=1.0801)]}
    )
    assert response.status_code == 200
    assert response.json() == {"accepted": 2, "rejected": []}
    latest = await api.gql(
        LATEST, {"s": ["XAUUSD", "EURUSD#", "NEVER"]}, token=world("acme", "investor").token
    )
    by_symbol = {t["symbol"]: t for t in latest.ok()["latestTicks"]}
    assert set(by_symbol) == {"XAUUSD", "EURUSD#"}
    assert (by_symbol["XAUUSD"]["bid"], by_symbol["XAUUSD"]["flags"]) == (2001.1, 6)
    # tenant-scoped: globex has no prices
    other = await api.gql(LATEST, {"s": ["XAUUSD"]}, token=world("globex", "investor").token)
    assert other.ok()["latestTicks"] == []


async def test_bad_ticks_are_rejected_with_reasons_and_good_ones_go_through(api, ingest_token):
    await post(api, ingest_token, {"ticks": [tick("GBPUSD", bid=1.25, ask=1.26)]})
    batch = [
        tick(bid=math.nan),  # 0: NaN (sent as a JSON token below)
        tick(bid=-1),  # 1
        tick(bid=2002.0, ask=2001.0),  # 2: bid > ask
        tick("GBPUSD", offset_ms=-60_000, bid=1.2, ask=1.3),  # 3: stale
        tick(offset_ms=120_000),  # 4: future
        tick("bad symbol!"),  # 5
        "not an object",  # 6
        tick(bid="1"),  # 7
        tick(bid=0, ask=0),  # 8
        {"symbol": "XAUUSD", "bid": 1, "ask": 2},  # 9: no time
        tick("SILVER", bid=30.1, ask=30.2),  # 10: good
        tick(flags=-1),  # 11
    ]
    raw = json.dumps({"ticks": batch}).encode()  # json writes NaN literally, like MQL would
    response = await post(api, ingest_token, None, raw=raw)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["accepted"] == 1
    reasons = {r["index"]: r["reason"] for r in body["rejected"]}
    assert sorted(reasons) == [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 11]
    assert "finite" in reasons[0]
    assert "negative" in reasons[1]
    assert "bid must not exceed ask" in reasons[2]
    assert "stale" in reasons[3]
    assert "future" in reasons[4]
    assert "symbol" in reasons[5]


@pytest.mark.parametrize(
    ("header", "status", "code"),
    [
        (None, 401, "UNAUTHENTICATED"),
        ("Bearer fst_wrong", 401, "UNAUTHENTICATED"),
        ("Basic abc", 401, "UNAUTHENTICATED"),
    ],
)
async def test_missing_or_wrong_tokens_are_refused(api, header, status, code):
    headers = {"authorization": header} if header else {}
    response = await api.client.post(
        f"{api.base_url}/mt5/ticks", json={"ticks": [tick()]}, headers=headers
    )
    assert (response.status_code, response.json()["code"]) == (status, code)


async def test_access_tokens_and_tokens_without_scope_are_refused(api, world, ingest_token):
    user = await post(api, world("acme", "admin").token, {"ticks": [tick()]})
    assert user.status_code == 401
    revoke = "mutation($id: ID!) { revokeServiceToken(id: $id) }"
    tokens = await api.gql("{ serviceTokens { id } }", token=world("acme", "admin").token)
    await api.gql(
        revoke, {"id": tokens.ok()["serviceTokens"][0]["id"]}, token=world("acme", "admin").token
    )
    revoked = await post(api, ingest_token, {"ticks": [tick()]})
    assert revoked.status_code == 401


async def test_malformed_and_oversize_bodies(api, ingest_token):
    assert (await post(api, ingest_token, None, raw=b"{nope")).status_code == 400
    assert (await post(api, ingest_token, {"tick": []})).status_code == 400
    too_many = await post(api, ingest_token, {"ticks": [tick()] * 5001})
    assert too_many.status_code == 413
    huge = await post(api, ingest_token, None, raw=b'{"ticks": ["' + b"x" * (1024 * 1024) + b'"]}')
    assert huge.status_code == 413


async def test_posted_ticks_reach_a_websocket_subscriber(api, world, base_url, ingest_token):
    member = world("acme", "investor")
    received: asyncio.Queue = asyncio.Queue()
    async with Client(transport=transport(base_url, member.token)) as session:

        async def consume():
            query = gql('subscription { ticks(symbols: ["XAUUSD"]) { symbol bid } }')
            async for result in session.subscribe(query):
                await received.put(result["ticks"])

        task = asyncio.create_task(consume())
        try:
            for attempt in range(50):
                await post(api, ingest_token, {"ticks": [tick(bid=2000.0 + attempt, ask=2100.0)]})
                with contextlib.suppress(TimeoutError):
                    got = await asyncio.wait_for(received.get(), 0.2)
                    break
            else:
                raise AssertionError("no tick delivered")
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
    assert got["symbol"] == "XAUUSD" and got["bid"] >= 2000.0


async def test_concurrent_batches_never_leave_an_older_tick_as_the_latest(api, world, ingest_token):
    """Staleness is decided atomically with storing: whatever order 20 concurrent
    one-tick batches arrive in, the newest tick ends up as the latest price."""
    order = [7, 3, 19, 0, 12, 5, 16, 1, 9, 14, 2, 18, 6, 11, 4, 17, 8, 13, 10, 15]
    newest = now_ms()  # one clock reading: tick i is exactly i ms older than the newest
    responses = await asyncio.gather(
        *(
            post(api, ingest_token, {"ticks": [tick("RACE", time_msc=newest - i, bid=100.0 + i)]})
            for i in order
        )
    )
    accepted = [i for i, r in zip(order, responses, strict=True) if r.json()["accepted"] == 1]
    assert accepted and 0 in accepted  # the newest (offset 0) is never stale
    latest = await api.gql(
        'query { latestTicks(symbols: ["RACE"]) { bid } }', token=world("acme", "investor").token
    )
    assert latest.ok()["latestTicks"] == [{"bid": 100.0}]
