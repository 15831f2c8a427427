"""Tick payloads and topics: one channel per tenant and symbol, JSON encoded once."""

from collections.abc import AsyncGenerator
from functools import lru_cache

from subscriptions.broker import Broker
from subscriptions.payloads import SYMBOL_PATTERN, TickPayload
from subscriptions.tick_log import TICK_TOPIC_PREFIX

__all__ = [
    "SYMBOL_PATTERN",
    "TickPayload",
    "TickStream",
    "accept_ticks",
    "decode_message",
    "publish_tick",
    "tick_stream",
    "tick_topic",
]


def tick_topic(tenant_id: str, symbol: str) -> str:
    return f"{TICK_TOPIC_PREFIX}{tenant_id}:{symbol}"


async def publish_tick(broker: Broker, tenant_id: str, tick: TickPayload) -> None:
    await broker.publish(tick_topic(tenant_id, tick.symbol), tick.encode())


async def accept_ticks(broker: Broker, tenant_id: str, ticks: list[TickPayload]) -> list[bool]:
    """Each tick not older than its symbol's latest becomes the latest and is published;
    returns which were accepted (the others are stale)."""
    topics = [tick_topic(tenant_id, tick.symbol) for tick in ticks]
    channels = [broker.channel(topic) for topic in topics]
    accepted = await broker.prices.accept(tenant_id, ticks, channels)
    if not broker.redis_backed:  # Redis published them in the same step
        for tick, topic, fresh in zip(ticks, topics, accepted, strict=True):
            if fresh:
                await broker.publish(topic, tick.encode())
    return accepted


@lru_cache(maxsize=4096)
def decode_shared(message: str) -> TickPayload:
    """One decoded payload per message, whatever the number of subscribers."""
    return TickPayload.decode(message)


class TickStream:
    """The ticks of some symbols, each decoded once per message for all its subscribers.
    ``messages`` is the broker's stream underneath: a consumer may read ``(topic,
    message)`` from it directly (``decode_message`` turns one into its payload)."""

    def __init__(self, messages: AsyncGenerator[tuple[str, str], None]) -> None:
        self.messages = messages

    def __aiter__(self) -> "TickStream":
        return self

    async def __anext__(self) -> TickPayload:
        _topic, message = await self.messages.__anext__()
        return decode_shared(message)

    async def aclose(self) -> None:
        await self.messages.aclose()


def decode_message(item: tuple[str, str]) -> TickPayload:
    return decode_shared(item[1])


def tick_stream(broker: Broker, tenant_id: str, symbols: list[str]) -> TickStream:
    topics = [tick_topic(tenant_id, symbol) for symbol in symbols]
    return TickStream(broker.listen(topics, conflate=True))
