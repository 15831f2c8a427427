"""The npm graphql-ws client (what the React and React Native apps use), installed from the
npm registry with the committed lockfile and run by Node against the real server."""

import asyncio
import contextlib
import json
from pathlib import Path

import pytest

from tests.support.mt5 import post, tick
from tests.support.portfolios import default_portfolio_id, record


@pytest.fixture(scope="session")
def node_client(node_project: Path) -> Path:
    return node_project / "client.mjs"


class NodeSubscriber:
    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process

    @classmethod
    async def start(cls, script: Path, base_url: str, token: str, query: str, count: int):
        url = base_url.replace("http://", "ws://") + "/graphql"
        process = await asyncio.create_subprocess_exec(
            "node",
            str(script),
            url,
            token,
            query,
            str(count),
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        subscriber = cls(process)
        assert await subscriber.line() == {"started": True}
        return subscriber

    async def line(self, within: float = 20) -> dict:
        raw = await asyncio.wait_for(self.process.stdout.readline(), within)
        assert raw, (await self.process.stderr.read()).decode()
        return json.loads(raw)

    async def stop(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            self.process.kill()
        await self.process.wait()


async def until_line(subscriber: NodeSubscriber, action, accept=lambda line: True) -> dict:
    pending = asyncio.ensure_future(subscriber.line())
    for attempt in range(40):
        await action(attempt)
        done, _ = await asyncio.wait({pending}, timeout=0.5)
        if done:
            line = pending.result()
            if accept(line):
                return line
            pending = asyncio.ensure_future(subscriber.line())
    pending.cancel()
    raise AssertionError("the Node client received nothing")


async def test_ticks_reach_the_npm_client(api, world, base_url, ingest_token, node_client):
    subscriber = await NodeSubscriber.start(
        node_client,
        base_url,
        world("acme", "investor").token,
        'subscription { ticks(symbols: ["XAUUSD"]) { symbol bid } }',
        1,
    )
    try:

        async def send(attempt):
            await post(api, ingest_token, {"ticks": [tick(bid=2000.0 + attempt, ask=2100.0)]})

        line = await until_line(subscriber, send)
        assert line["data"]["ticks"]["symbol"] == "XAUUSD"
    finally:
        await subscriber.stop()


async def test_portfolio_updates_reach_the_npm_client(api, world, base_url, node_client):
    manager, investor = world("acme", "manager"), world("acme", "investor")
    pid = await default_portfolio_id(api, investor)
    subscriber = await NodeSubscriber.start(
        node_client,
        base_url,
        investor.token,
        f'subscription {{ portfolioUpdated(portfolioId: "{pid}") {{ cash reason }} }}',
        1,
    )
    try:

        async def deposit(attempt):
            await record(api, manager, pid, "DEPOSIT", f"n{attempt}", amount="25.00")

        line = await until_line(subscriber, deposit)
        update = line["data"]["portfolioUpdated"]
        assert update["reason"] == "TRANSACTION"
        assert update["cash"] != "0.00"
    finally:
        await subscriber.stop()


async def test_the_npm_client_is_refused_without_a_valid_token(base_url, node_client):
    subscriber = await NodeSubscriber.start(
        node_client,
        base_url,
        "not-a-token",
        'subscription { ticks(symbols: ["XAUUSD"]) { bid } }',
        1,
    )
    try:
        line = await subscriber.line()
        assert "error" in line
        assert "4403" in line["error"] or "Forbidden" in line["error"]
    finally:
        await subscriber.stop()


async def test_a_2000_tick_burst_reaches_the_npm_client_whole_and_in_order(
    api, world, base_url, ingest_token, node_client
):
    """One batch, as the bridge posts every tick since its last poll: ten symbols, two
    ticks of a symbol side by side. A subscriber that keeps up gets every one, in order."""
    symbols = [f"SYM{i}" for i in range(10)]
    subscriber = await NodeSubscriber.start(
        node_client,
        base_url,
        world("acme", "investor").token,
        f"subscription {{ ticks(symbols: {json.dumps(symbols)}) {{ symbol bid }} }}",
        100_000,
    )
    try:

        async def warm_up(attempt):
            await post(api, ingest_token, {"ticks": [tick("SYM0", bid=1.0, ask=1000.0)]})

        await until_line(subscriber, warm_up)
        await asyncio.sleep(0.5)
        while not subscriber.process.stdout.at_eof():  # drop any warm-up stragglers
            try:
                await asyncio.wait_for(subscriber.line(), 0.3)
            except TimeoutError:
                break
        burst = [
            tick(symbols[(i // 2) % 10], offset_ms=1000 + i, bid=100.0 + i, ask=100_000.0)
            for i in range(2000)
        ]
        response = await post(api, ingest_token, {"ticks": burst})
        assert response.json()["accepted"] == 2000, response.text
        received = [(await subscriber.line(30))["data"]["ticks"] for _ in range(2000)]
        assert sorted(t["bid"] for t in received) == [100.0 + i for i in range(2000)]
        for symbol in symbols:  # per symbol, in the order accepted
            bids = [t["bid"] for t in received if t["symbol"] == symbol]
            assert bids == sorted(bids) and len(bids) == 200
    finally:
        await subscriber.stop()


async def test_the_npm_client_is_closed_4403_after_logout(api, world, base_url, node_client):
    member = world("acme", "investor")
    subscriber = await NodeSubscriber.start(
        node_client,
        base_url,
        member.token,
        'subscription { ticks(symbols: ["XAUUSD"]) { bid } }',
        1,
    )
    try:
        await asyncio.sleep(0.5)  # connected and subscribed
        logout = await api.gql(
            "mutation($r: String!) { logout(refreshToken: $r) }", {"r": member.refresh}
        )
        assert logout.ok()["logout"] is True
        line = await subscriber.line(within=3)
        assert line == {"error": "Session revoked", "code": 4403}
    finally:
        await subscriber.stop()
