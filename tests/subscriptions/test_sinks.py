"""A subscriber's buffer: every message in order while within its bound, and bounded
(conflated per topic, or closed) past it."""

import asyncio

import pytest

from subscriptions.sinks import CONFLATED, BufferLimits, Overflow, Sink, SubscriberOverflow


async def take_all(sink: Sink) -> list[tuple[str, str]]:
    out = []
    while len(sink):
        out.append(await sink.get())
    return out


@pytest.mark.parametrize("overflow", list(Overflow))
async def test_a_burst_within_the_bound_arrives_whole_and_in_order(overflow: Overflow) -> None:
    sink = Sink(BufferLimits(messages=2_000), overflow)
    for i in range(2_000):
        sink.put(f"ticks:{'AB'[i % 2]}", str(i))  # two ticks of each symbol per pair
    assert await take_all(sink) == [(f"ticks:{'AB'[i % 2]}", str(i)) for i in range(2_000)]


async def test_past_the_bound_ticks_conflate_to_the_newest_per_topic_and_are_counted() -> None:
    sink = Sink(BufferLimits(messages=10), Overflow.CONFLATE)
    before = CONFLATED._value.get()
    for i in range(30):
        sink.put(f"t:{'AB'[i % 2]}", str(i))
    assert len(sink) == 12  # the bound, plus the newest of each topic
    assert CONFLATED._value.get() - before == 18  # 20 past the bound, 2 kept
    received = await take_all(sink)
    assert received[:10] == [(f"t:{'AB'[i % 2]}", str(i)) for i in range(10)]
    assert received[10:] == [("t:A", "28"), ("t:B", "29")]
    sink.put("t:A", "30")  # caught up: lossless again
    sink.put("t:A", "31")
    assert await take_all(sink) == [("t:A", "30"), ("t:A", "31")]


async def test_the_byte_bound_applies_as_well_as_the_count() -> None:
    sink = Sink(BufferLimits(messages=1_000, bytes=100), Overflow.CONFLATE)
    for i in range(20):
        sink.put("t:A", f"{i:020d}")  # 20 bytes each: 5 fit
    received = await take_all(sink)
    assert [int(message) for _topic, message in received] == [0, 1, 2, 3, 4, 19]


async def test_past_the_bound_a_closing_stream_delivers_what_it_queued_then_errs() -> None:
    sink = Sink(BufferLimits(messages=5), Overflow.CLOSE)
    for i in range(8):
        sink.put("events", str(i))
    assert [message for _topic, message in await take_all(sink)] == ["0", "1", "2", "3", "4"]
    with pytest.raises(SubscriberOverflow):
        await sink.get()


async def test_a_reader_waiting_on_an_empty_sink_wakes_for_the_next_message() -> None:
    sink = Sink(BufferLimits(), Overflow.CONFLATE)
    waiting = asyncio.ensure_future(sink.get())
    await asyncio.sleep(0)
    sink.put("t:A", "1")
    assert await asyncio.wait_for(waiting, 1) == ("t:A", "1")
