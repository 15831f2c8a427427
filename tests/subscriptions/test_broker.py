"""The broker against a real redis-server: fan-out across connections, and recovery after
Redis is killed and restarted mid-stream."""

import asyncio
import contextlib

import pytest

from subscriptions.broker import Broker
from tests.support.servers import RedisProcess


class Drain:
    """Consume a broker stream in a task (cancelling ``anext`` would end the generator)."""

    def __init__(self, stream) -> None:
        self.stream = stream
        self.queue: asyncio.Queue = asyncio.Queue()
        self.task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        async for item in self.stream:
            await self.queue.put(item)

    async def aclose(self) -> None:
        self.task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self.task


async def _publish_until_received(publisher: Broker, drain: Drain, topic: str, message: str):
    for _ in range(100):
        await publisher.publish(topic, message)
        with contextlib.suppress(TimeoutError):
            return await asyncio.wait_for(drain.queue.get(), 0.1)
    raise AssertionError("nothing received")


@pytest.fixture
async def own_redis():
    server = RedisProcess()
    server.start()
    yield server
    server.stop()


async def test_memory_broker_delivers_in_process() -> None:
    broker = Broker(None)
    await broker.connect()
    try:
        assert await broker.ping()
        stream = Drain(broker.listen(["a", "b"]))
        received = await _publish_until_received(broker, stream, "b", "hello")
        assert received == ("b", "hello")
        await stream.aclose()
    finally:
        await broker.disconnect()
    assert not await broker.ping()


async def test_subscriber_recovers_after_redis_restart(own_redis: RedisProcess) -> None:
    subscriber, publisher = Broker(own_redis.url), Broker(own_redis.url)
    await subscriber.connect()
    await publisher.connect()
    stream = Drain(subscriber.listen(["prices"]))
    try:
        assert await _publish_until_received(publisher, stream, "prices", "1") == ("prices", "1")

        own_redis.stop()
        assert not await subscriber.ping(0.5)
        own_redis.start()
        assert await subscriber.ping(2.0)

        # the same stream goes on delivering once the backend has resubscribed
        assert await _publish_until_received(publisher, stream, "prices", "2") == ("prices", "2")
    finally:
        await stream.aclose()
        await subscriber.disconnect()
        await publisher.disconnect()
