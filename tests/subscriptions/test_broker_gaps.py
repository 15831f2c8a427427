"""What was published while a process's pub/sub connection was lost (at a Redis restart the
publishing side is back before the subscriptions are; here a proxy cuts one broker off a
Redis that stays up) is filled in once its subscriptions are back: ticks from the tick log,
each once and in order; other topics' listeners are told (a ``Gap`` in their stream, a hook
per topic prefix)."""

import asyncio
import contextlib
import itertools
import time
from collections.abc import AsyncIterator

import pytest

from subscriptions.broker import Broker
from subscriptions.redis_backend import redis_client
from subscriptions.sinks import Gap
from subscriptions.ticks import TickPayload, accept_ticks, tick_stream, tick_topic
from tests.support.servers import RedisProcess
from tests.support.streams import Drain
from tests.support.tcp_proxy import TcpProxy

SYMBOLS = ("XAUUSD", "XAGUSD")


@pytest.fixture
async def proxy(own_redis: RedisProcess) -> AsyncIterator[TcpProxy]:
    """The subscriber's way to Redis, which the test cuts while Redis stays up."""
    proxy = TcpProxy(own_redis.port)
    await proxy.start()
    yield proxy
    await proxy.stop()


def via(proxy: TcpProxy) -> str:
    return f"redis://127.0.0.1:{proxy.port}/0"


class CutOff:
    """A subscriber reaching Redis through the proxy, a publisher reaching it directly, and
    the subscriber's tick stream of ``SYMBOLS``."""

    def __init__(self, own_redis: RedisProcess, proxy: TcpProxy) -> None:
        self.subscriber = Broker(via(proxy), "gaps")
        self.publisher = Broker(own_redis.url, "gaps")
        self.numbers = itertools.count(1)
        self.stream: Drain | None = None

    async def accept(self, symbol: str) -> TickPayload:
        """A new tick of ``symbol``, accepted (logged, cached, published) by the publisher."""
        n = next(self.numbers)
        tick = TickPayload(symbol, int(time.time() * 1000) + n, bid=float(n), ask=1e6)
        assert await accept_ticks(self.publisher, "t1", [tick]) == [True]
        return tick

    async def received_until(self, last: TickPayload) -> list[TickPayload]:
        assert self.stream is not None
        received: list[TickPayload] = []
        while last not in received:
            received.append(await asyncio.wait_for(self.stream.queue.get(), 10))
        return received


@pytest.fixture
async def cut_off(own_redis: RedisProcess, proxy: TcpProxy) -> AsyncIterator[CutOff]:
    """Both brokers connected and the subscription live (it has received a tick)."""
    brokers = CutOff(own_redis, proxy)
    await brokers.subscriber.connect()
    await brokers.publisher.connect()
    brokers.stream = stream = Drain(tick_stream(brokers.subscriber, "t1", list(SYMBOLS)))
    try:
        while stream.queue.empty():  # until the subscription is live
            await brokers.accept(SYMBOLS[0])
            await asyncio.sleep(0.1)
        yield brokers
    finally:
        await stream.aclose()
        await brokers.subscriber.disconnect()
        await brokers.publisher.disconnect()


def assert_each_once_in_order(received: list[TickPayload], sent: list[TickPayload]) -> None:
    for symbol in SYMBOLS:
        got = [t for t in received if t.symbol == symbol and t.time_msc >= sent[0].time_msc]
        assert got == [t for t in sent if t.symbol == symbol]


async def test_ticks_accepted_while_a_subscriber_was_cut_off_are_filled_in(
    cut_off: CutOff, proxy: TcpProxy
):
    sent: list[TickPayload] = []
    for _ in range(2):
        proxy.cut()
        for _ in range(5):  # published while the subscriber has no connection
            sent += [await cut_off.accept(symbol) for symbol in SYMBOLS]
        proxy.restore()
        for _ in range(5):  # live again, or still re-subscribing
            sent += [await cut_off.accept(symbol) for symbol in SYMBOLS]
            await asyncio.sleep(0.05)

    received = await cut_off.received_until(sent[-1])
    await asyncio.sleep(0.3)  # a duplicate would arrive now
    assert cut_off.stream is not None
    while not cut_off.stream.queue.empty():
        received.append(cut_off.stream.queue.get_nowait())
    assert_each_once_in_order(received, sent)


async def test_listeners_and_hooks_are_told_which_topics_had_a_gap(
    own_redis: RedisProcess, proxy: TcpProxy
):
    broker, publisher = Broker(via(proxy), "gaps"), Broker(own_redis.url, "gaps")
    await broker.connect()
    await publisher.connect()
    hooked: asyncio.Queue[list[str]] = asyncio.Queue()

    async def hook(topics: list[str]) -> None:
        await hooked.put(topics)

    broker.on_gap("doc:", hook)
    told = Drain(broker.listen(["doc:1", "other"], gaps=True))
    untold = Drain(broker.listen(["doc:1"]))
    try:
        for i in itertools.count():  # until both are live
            await broker.publish("doc:1", f"warm-up {i}")
            await asyncio.sleep(0.05)
            if not told.queue.empty() and not untold.queue.empty():
                break
        while not told.queue.empty():
            told.queue.get_nowait()
        while not untold.queue.empty():
            untold.queue.get_nowait()
        before = time.time()
        proxy.cut()
        await publisher.publish("doc:1", "missed")
        proxy.restore()

        gaps = [await asyncio.wait_for(told.queue.get(), 10) for _ in range(2)]
        assert sorted(topic for topic, _gap in gaps) == ["doc:1", "other"]
        for _topic, gap in gaps:
            assert isinstance(gap, Gap)
            assert before <= gap.lost_at <= time.time()
        assert await asyncio.wait_for(hooked.get(), 10) == ["doc:1"]  # its prefix only

        await publisher.publish("doc:1", "after")  # then live again; no Gap for the others
        assert await asyncio.wait_for(told.queue.get(), 5) == ("doc:1", "after")
        assert await asyncio.wait_for(untold.queue.get(), 5) == ("doc:1", "after")
        assert hooked.empty()
    finally:
        await told.aclose()
        await untold.aclose()
        await broker.disconnect()
        await publisher.disconnect()


async def test_subscribing_while_the_connection_comes_back_loses_nothing(
    cut_off: CutOff, proxy: TcpProxy
):
    """New subscriptions made while the listener reconnects (a standby worker taking over
    at a Redis restart, say) must not run a second connection handshake alongside it."""

    async def subscribe_briefly(topic: str, after: float) -> None:
        await asyncio.sleep(after)
        other = cut_off.subscriber.listen([topic])
        pending = asyncio.ensure_future(anext(other))
        await asyncio.sleep(0.5)
        pending.cancel()
        await asyncio.gather(pending, return_exceptions=True)  # broker failures included

    sent: list[TickPayload] = []
    for cycle in range(3):
        proxy.cut()
        sent += [await cut_off.accept(SYMBOLS[0]) for _ in range(3)]
        proxy.latency = 0.1  # handshakes take a while: the listener's reconnection and
        proxy.restore()  # the new subscriptions' meet
        await asyncio.gather(
            *(subscribe_briefly(f"other:{cycle}:{n}", n * 0.05) for n in range(10))
        )
        proxy.latency = 0
        sent += [await cut_off.accept(SYMBOLS[0]) for _ in range(3)]
    received = await cut_off.received_until(sent[-1])
    assert [t for t in received if t.time_msc >= sent[0].time_msc] == sent


async def test_ticks_acknowledged_before_redis_lost_its_data_are_delivered(
    cut_off: CutOff, own_redis: RedisProcess, proxy: TcpProxy
):
    """Killed between answering the accept and writing the tick to the subscribers,
    a Redis without persistence comes back with neither; the process that accepted it
    writes it back. Here: the subscriber is cut off, the tick accepted, Redis's data lost
    (FLUSHALL, as a restart without persistence), then the subscriber reconnects."""
    proxy.cut()
    sent = [await cut_off.accept(symbol) for symbol in SYMBOLS for _ in range(2)]
    flushing = redis_client(own_redis.url)
    await flushing.flushall()
    await flushing.aclose()
    proxy.restore()
    await asyncio.sleep(0.5)  # the subscriber is back, and found nothing in the log
    sent += [await cut_off.accept(symbol) for symbol in SYMBOLS]

    assert_each_once_in_order(await cut_off.received_until(sent[-1]), sent)
    latest = await cut_off.publisher.prices.get_many("t1", list(SYMBOLS))
    assert set(latest.values()) == set(sent[-len(SYMBOLS) :])


async def test_live_ticks_reach_a_new_subscriber_whatever_the_clock_of_redis(
    own_redis: RedisProcess,
):
    """Log ids carry Redis's clock, the start of a subscription this process's: a Redis
    clock behind must not make a new subscriber skip live ticks."""
    subscriber = Broker(own_redis.url, "gaps")
    raw = redis_client(own_redis.url)
    await subscriber.connect()
    stream = Drain(tick_stream(subscriber, "t1", [SYMBOLS[0]]))
    channel = subscriber.channel(tick_topic("t1", SYMBOLS[0]))
    try:
        hour_ago = int(time.time() * 1000) - 3_600_000
        for n in range(1, 51):  # as stamped by a Redis whose clock is an hour behind
            tick = TickPayload(SYMBOLS[0], n, bid=float(n), ask=1e6)
            await raw.publish(channel, f"{hour_ago + n}-0 {tick.encode()}")
            with contextlib.suppress(TimeoutError):
                assert (await asyncio.wait_for(stream.queue.get(), 0.1)).symbol == SYMBOLS[0]
                break
        else:
            raise AssertionError("no live tick reached the subscriber")
    finally:
        await stream.aclose()
        await raw.aclose()
        await subscriber.disconnect()
