"""Tick payloads and topics: one channel per tenant and symbol, JSON encoded once."""

from collections.abc import AsyncIterator

from subscriptions.broker import Broker
from subscriptions.payloads import SYMBOL_PATTERN, TickPayload

__all__ = ["SYMBOL_PATTERN", "TickPayload", "publish_tick", "tick_stream", "tick_topic"]


def tick_topic(tenant_id: str, symbol: str) -> str:
    return f"ticks:{tenant_id}:{symbol}"


async def publish_tick(broker: Broker, tenant_id: str, tick: TickPayload) -> None:
    await broker.publish(tick_topic(tenant_id, tick.symbol), tick.encode())


async def tick_stream(
    broker: Broker, tenant_id: str, symbols: list[str]
) -> AsyncIterator[TickPayload]:
    topics = [tick_topic(tenant_id, symbol) for symbol in symbols]
    async for _topic, message in broker.listen(topics, conflate=True):
        yield TickPayload.decode(message)
