"""Tick payloads and topics: one channel per tenant and symbol, JSON encoded once."""

import re
from collections.abc import AsyncIterator
from dataclasses import asdict, dataclass

import orjson

from subscriptions.broker import Broker

SYMBOL_PATTERN = re.compile(r"^[A-Za-z0-9._#\-]{1,32}$")


@dataclass(frozen=True, slots=True)
class TickPayload:
    symbol: str
    time_msc: int
    bid: float
    ask: float
    last: float = 0.0
    volume: float = 0.0
    flags: int = 0

    def encode(self) -> str:
        return orjson.dumps(asdict(self)).decode()

    @classmethod
    def decode(cls, message: str) -> "TickPayload":
        return cls(**orjson.loads(message))


def tick_topic(tenant_id: str, symbol: str) -> str:
    return f"ticks:{tenant_id}:{symbol}"


async def publish_tick(broker: Broker, tenant_id: str, tick: TickPayload) -> None:
    await broker.publish(tick_topic(tenant_id, tick.symbol), tick.encode())


async def tick_stream(
    broker: Broker, tenant_id: str, symbols: list[str]
) -> AsyncIterator[TickPayload]:
    topics = [tick_topic(tenant_id, symbol) for symbol in symbols]
    async for _topic, message in broker.listen(topics):
        yield TickPayload.decode(message)
