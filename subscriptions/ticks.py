"""Tick payloads and topics: one channel per tenant and symbol, JSON encoded once."""

from collections.abc import AsyncIterator
from functools import lru_cache

from subscriptions.broker import Broker
from subscriptions.payloads import SYMBOL_PATTERN, TickPayload

__all__ = [
    "SYMBOL_PATTERN",
    "TickPayload",
    "accept_ticks",
    "publish_tick",
    "tick_stream",
    "tick_topic",
]


def tick_topic(tenant_id: str, symbol: str) -> str:
    return f"ticks:{tenant_id}:{symbol}"


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


async def tick_stream(
    broker: Broker, tenant_id: str, symbols: list[str]
) -> AsyncIterator[TickPayload]:
    topics = [tick_topic(tenant_id, symbol) for symbol in symbols]
    async for _topic, message in broker.listen(topics, conflate=True):
        yield decode_shared(message)
