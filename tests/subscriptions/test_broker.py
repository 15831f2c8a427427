"""The broker against a real redis-server: fan-out across connections, and recovery after
Redis is killed and restarted mid-stream."""

import asyncio
import contextlib
import os

import pytest

from subscriptions.broker import Broker
from subscriptions.sinks import BufferLimits
from tests.support.servers import RedisProcess
from tests.support.streams import Drain


async def _publish_until_received(publisher: Broker, drain: Drain, topic: str, message: str):
    for _ in range(100):
        await publisher.publish(topic, message)
        with contextlib.suppress(TimeoutError):
            return await asyncio.wait_for(drain.queue.get(), 0.1)
    raise AssertionError("nothing received")


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


@pytest.mark.parametrize("backend", ["memory", "redis"])
async def test_a_stalled_tick_subscriber_is_bounded_and_the_others_get_everything(
    backend: str, redis_url: str
) -> None:
    broker = Broker(
        redis_url if backend == "redis" else None,
        namespace=f"stall-{os.getpid()}",
        buffer_limits=BufferLimits(messages=100),
    )
    await broker.connect()
    try:
        stalled = broker.listen(["t:A", "t:B", "t:C"], conflate=True)
        first = asyncio.ensure_future(anext(stalled))  # subscribe, then stop reading
        lively = Drain(broker.listen(["t:A"], conflate=True))
        # until both are live: the stalled one takes its first message, then stops
        assert await _publish_until_received(broker, lively, "t:A", "-1") == ("t:A", "-1")
        await first
        for i in range(5000):
            await broker.publish(f"t:{'ABC'[i % 3]}", str(i))
            if i % 50 == 0:
                await asyncio.sleep(0)
        lively_got: list[int] = []
        while len(lively_got) < 1667 or lively_got[-1] != 4998:
            _topic, message = await asyncio.wait_for(lively.queue.get(), 5)
            if message != "-1":
                lively_got.append(int(message))
        assert lively_got == list(range(0, 5000, 3))  # the one keeping up got every tick
        [sink] = broker._sinks[broker.channel("t:B")]  # the stalled one's
        assert len(sink) <= 100 + 3  # the bound plus the newest per symbol
        received = [await anext(stalled) for _ in range(len(sink))]
        for symbol in "ABC":  # in order per symbol, ending with its newest
            values = [int(m) for topic, m in received if topic == f"t:{symbol}"]
            assert values == sorted(values)
            assert values[-1] == {"A": 4998, "B": 4999, "C": 4997}[symbol]
        await stalled.aclose()
        await lively.aclose()
    finally:
        await broker.disconnect()


async def test_a_bounded_subscriber_that_falls_behind_is_closed_with_an_error() -> None:
    from subscriptions.sinks import SubscriberOverflow

    broker = Broker(None)
    await broker.connect()
    try:
        stream = broker.listen(["events"], limit=10)
        first = asyncio.ensure_future(anext(stream))
        await asyncio.sleep(0.05)
        for i in range(50):
            await broker.publish("events", str(i))
        await asyncio.sleep(0.05)
        received = [await first]
        with pytest.raises(SubscriberOverflow):  # past 10 undelivered: closed, not buffered
            while True:
                received.append(await anext(stream))
        # what was queued before the bound arrives, in order, then the error
        assert [int(message) for _topic, message in received] == list(range(len(received)))
        assert len(received) <= 11
        assert broker.active_topics == 0  # the closed stream let go of its topic
    finally:
        await broker.disconnect()


async def test_no_leak_across_1000_subscribe_cycles() -> None:
    import gc
    import tracemalloc

    broker = Broker(None)
    await broker.connect()
    try:

        async def cycle(i: int) -> None:
            stream = broker.listen([f"x:{i % 7}", "x:shared"], conflate=True)
            task = asyncio.ensure_future(anext(stream))
            while broker.active_topics < 2:  # noqa: ASYNC110 - both topics attached
                await asyncio.sleep(0)
            await broker.publish("x:shared", str(i))
            assert (await task)[0] == "x:shared"
            await stream.aclose()

        for i in range(100):  # warm up caches and allocator pools
            await cycle(i)
        gc.collect()
        tasks_before = len(asyncio.all_tasks())
        tracemalloc.start()
        before = tracemalloc.take_snapshot()
        for i in range(1000):
            await cycle(i)
        gc.collect()
        after = tracemalloc.take_snapshot()
        tracemalloc.stop()
        growth = sum(s.size_diff for s in after.compare_to(before, "filename"))
        assert broker.active_topics == 0
        assert len(asyncio.all_tasks()) == tasks_before
        assert growth < 256 * 1024, f"{growth} bytes retained after 1,000 cycles"
    finally:
        await broker.disconnect()


async def test_a_lease_is_exclusive_renewed_only_by_its_owner_and_lapses(redis_url):
    a, b = Broker(redis_url, namespace="lease-test"), Broker(redis_url, namespace="lease-test")
    await a.connect()
    await b.connect()
    try:
        assert await a.try_lock("lease", "owner-a", 300)
        assert not await b.try_lock("lease", "owner-b", 300)
        assert await a.try_lock("lease", "owner-a", 300)  # renewed
        await b.release_lock("lease", "owner-b")  # not theirs: no effect
        assert not await b.try_lock("lease", "owner-b", 300)
        await asyncio.sleep(0.4)  # owner-a crashed: the lease lapses
        assert await b.try_lock("lease", "owner-b", 300)
        assert not await a.try_lock("lease", "owner-a", 300)  # a late renewal takes nothing
        await b.release_lock("lease", "owner-b")
        assert await a.try_lock("lease", "owner-a", 300)
        await a.release_lock("lease", "owner-a")
    finally:
        await a.disconnect()
        await b.disconnect()


async def test_a_lease_holder_keeps_its_lease_through_a_redis_outage(own_redis: RedisProcess):
    """Renewing while Redis is away answers None (the holder decides); a restarted Redis
    has forgotten the lease, so the holder's next renewal takes it and others are refused."""
    holder, other = Broker(own_redis.url), Broker(own_redis.url)
    await holder.connect()
    await other.connect()
    try:
        assert await holder.try_lock("lease", "holder", 5_000)
        assert not await other.try_lock("lease", "other", 5_000)
        own_redis.stop()
        assert await holder.renew_lock("lease", "holder", 5_000) is None  # no answer
        assert not await other.try_lock("lease", "other", 5_000)  # taking needs an answer
        own_redis.start()
        assert await holder.renew_lock("lease", "holder", 5_000) is True  # taken afresh
        assert await other.renew_lock("lease", "other", 5_000) is False
    finally:
        await holder.disconnect()
        await other.disconnect()
