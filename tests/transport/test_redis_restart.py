"""redis-server killed and restarted mid-stream: a WebSocket subscriber keeps its connection
and receives again within 5 s; readiness goes red while Redis is down, then green."""

import asyncio
import contextlib
import time

import pytest
from gql import Client, gql

from tests.support.mt5 import post, tick
from tests.support.ws import transport


async def test_subscribers_resume_after_a_redis_restart(
    api, world, base_url, ingest_token, redis_server
):
    if redis_server is None:
        pytest.skip("REDIS_URL points at a server this test must not kill")
    received: asyncio.Queue = asyncio.Queue()
    async with Client(transport=transport(base_url, world("acme", "investor").token)) as session:

        async def consume():
            query = gql('subscription { ticks(symbols: ["XAUUSD"]) { bid } }')
            async for result in session.subscribe(query):
                await received.put(result["ticks"]["bid"])

        task = asyncio.create_task(consume())

        async def deliver_within(seconds: float) -> float:
            deadline = time.monotonic() + seconds
            attempt = 0
            while time.monotonic() < deadline:
                attempt += 1
                with contextlib.suppress(Exception):
                    await post(
                        api, ingest_token, {"ticks": [tick(bid=1000.0 + attempt, ask=9999.0)]}
                    )
                with contextlib.suppress(TimeoutError):
                    return await asyncio.wait_for(received.get(), 0.2)
            raise AssertionError(f"nothing delivered within {seconds} s")

        try:
            await deliver_within(10)
            redis_server.stop()
            ready = await api.client.get(f"{api.base_url}/health/ready")
            assert ready.status_code == 503
            assert ready.json()["failed"] == ["broker"]
            redis_server.start()
            await deliver_within(5)  # the bound: resumed within 5 s
            assert not task.done()  # same WebSocket, same subscription
            assert (await api.client.get(f"{api.base_url}/health/ready")).status_code == 200
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
