"""Subscriptions through a real WebSocket client (gql) against the real uvicorn server,
fed through the real redis-server by a separate broker connection."""

import asyncio
import contextlib
import json
import time

import pytest
import websockets
from gql import Client, gql
from gql.transport.exceptions import TransportQueryError

from subscriptions.broker import Broker
from subscriptions.ticks import TickPayload, publish_tick
from tests.support.ws import transport, ws_url

TICKS = gql("subscription($s: [String!]!) { ticks(symbols: $s) { symbol bid ask time flags } }")


@pytest.fixture
async def publisher(redis_url, settings):
    broker = Broker(redis_url, namespace=settings.db_name)
    await broker.connect()
    yield broker
    await broker.disconnect()


async def _first_tick(session, symbols, publisher, tenant_id, tick):
    received: asyncio.Queue = asyncio.Queue()

    async def consume():
        async for result in session.subscribe(TICKS, variable_values={"s": symbols}):
            await received.put(result)

    task = asyncio.create_task(consume())
    try:
        # publish until the subscription is live (Redis SUBSCRIBE is asynchronous)
        for _ in range(100):
            await publish_tick(publisher, tenant_id, tick)
            with contextlib.suppress(TimeoutError):
                return await asyncio.wait_for(received.get(), 0.1)
        raise AssertionError("no tick delivered")
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


@pytest.mark.parametrize("legacy", [False, True], ids=["graphql-transport-ws", "graphql-ws"])
async def test_tick_subscription_delivers_published_ticks(base_url, world, publisher, legacy):
    from models.users import User

    member = world("acme", "investor")
    user = await User.get(member.id)
    tick = TickPayload(
        symbol="XAUUSD.m", time_msc=int(time.time() * 1000), bid=2001.1, ask=2001.4, flags=6
    )
    async with Client(transport=transport(base_url, member.token, legacy)) as session:
        result = await _first_tick(session, ["XAUUSD.m"], publisher, str(user.tenant_id), tick)
    assert result["ticks"]["symbol"] == "XAUUSD.m"
    assert result["ticks"]["bid"] == 2001.1
    assert result["ticks"]["flags"] == 6


async def test_ticks_of_another_tenant_are_not_delivered(base_url, world, publisher):
    from models.users import User

    member = world("acme", "investor")
    other = await User.get(world("globex", "investor").id)
    mine = await User.get(member.id)
    async with Client(transport=transport(base_url, member.token)) as session:
        foreign = TickPayload(symbol="EURUSD", time_msc=1, bid=1.1, ask=1.2)
        own = TickPayload(symbol="EURUSD", time_msc=2, bid=1.3, ask=1.4)
        received = []

        async def consume():
            async for result in session.subscribe(TICKS, variable_values={"s": ["EURUSD"]}):
                received.append(result["ticks"])

        task = asyncio.create_task(consume())
        for _ in range(100):
            await publish_tick(publisher, str(other.tenant_id), foreign)
            await publish_tick(publisher, str(mine.tenant_id), own)
            await asyncio.sleep(0.05)
            if received:
                break
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    assert received
    assert all(tick["bid"] == 1.3 for tick in received)


@pytest.mark.parametrize(
    "payload", [{}, {"authorization": "Bearer not-a-jwt"}, {"authorization": "Basic abc"}]
)
async def test_connection_without_valid_token_is_refused(base_url, payload):
    async with websockets.connect(ws_url(base_url), subprotocols=["graphql-transport-ws"]) as ws:
        await ws.send(json.dumps({"type": "connection_init", "payload": payload}))
        with pytest.raises(websockets.ConnectionClosed) as info:
            await asyncio.wait_for(ws.recv(), 5)
    assert info.value.rcvd.code == 4403


async def test_legacy_protocol_refusal_says_why_and_closes_4403(base_url):
    async with websockets.connect(ws_url(base_url), subprotocols=["graphql-ws"]) as ws:
        await ws.send(json.dumps({"type": "connection_init", "payload": {}}))
        refusal = json.loads(await asyncio.wait_for(ws.recv(), 5))
        assert refusal["type"] == "connection_error"
        assert refusal["payload"]["extensions"]["code"] == "UNAUTHENTICATED"
        with pytest.raises(websockets.ConnectionClosed) as info:
            await asyncio.wait_for(ws.recv(), 5)
    assert info.value.rcvd.code == 4403


async def test_revoked_session_cannot_open_a_connection(base_url, world, api):
    member = world("acme", "investor")
    await api.gql("mutation($r: String!) { logout(refreshToken: $r) }", {"r": member.refresh})
    payload = {"authorization": f"Bearer {member.token}"}
    async with websockets.connect(ws_url(base_url), subprotocols=["graphql-transport-ws"]) as ws:
        await ws.send(json.dumps({"type": "connection_init", "payload": payload}))
        with pytest.raises(websockets.ConnectionClosed) as info:
            await asyncio.wait_for(ws.recv(), 5)
    assert info.value.rcvd.code == 4403


async def test_subscription_input_is_validated(base_url, world):
    member = world("acme", "investor")
    async with Client(transport=transport(base_url, member.token)) as session:
        with pytest.raises(TransportQueryError) as info:
            async for _ in session.subscribe(TICKS, variable_values={"s": ["bad symbol!"]}):
                break
    assert info.value.errors[0]["extensions"]["code"] == "BAD_USER_INPUT"


async def test_subscriptions_per_connection_are_limited(base_url, world, settings):
    member = world("acme", "investor")
    limit = settings.max_subscriptions_per_connection
    async with Client(transport=transport(base_url, member.token)) as session:

        async def hold(symbol):
            async for _ in session.subscribe(TICKS, variable_values={"s": [symbol]}):
                pass

        tasks = [asyncio.create_task(hold(f"SYM{i}")) for i in range(limit)]
        await asyncio.sleep(0.5)
        assert not any(t.done() for t in tasks)
        with pytest.raises(TransportQueryError) as info:
            async for _ in session.subscribe(TICKS, variable_values={"s": ["ONE_TOO_MANY"]}):
                break
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    assert info.value.errors[0]["extensions"]["code"] == "CONFLICT"
