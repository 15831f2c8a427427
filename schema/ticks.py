"""Live MT5 ticks."""

from collections.abc import AsyncGenerator, AsyncIterator
from datetime import UTC, datetime
from functools import lru_cache

import strawberry

from resolvers import ticks as use_cases
from schema.context import Info
from schema.permissions import IsAuthenticated
from schema.shared_events import SharedEvent, offer_events
from schema.streams import guarded
from subscriptions.ticks import TickPayload


@strawberry.type
class Tick(SharedEvent):
    symbol: str
    time: datetime
    bid: float
    ask: float
    last: float | None
    volume: float | None
    flags: int

    @classmethod
    def from_payload(cls, tick: TickPayload) -> "Tick":
        return cls(
            symbol=tick.symbol,
            time=datetime.fromtimestamp(tick.time_msc / 1000, tz=UTC),
            bid=tick.bid,
            ask=tick.ask,
            last=tick.last or None,
            volume=tick.volume,
            flags=tick.flags,
        )


@lru_cache(maxsize=4096)
def shared_tick(tick: TickPayload) -> Tick:
    """The same object for every subscriber of a tick, so it is rendered once."""
    return Tick.from_payload(tick)


async def shared_ticks(stream: AsyncIterator[TickPayload]) -> AsyncGenerator[Tick, None]:
    async for tick in stream:
        yield shared_tick(tick)


@strawberry.type
class TickQueries:
    @strawberry.field(permission_classes=[IsAuthenticated])
    async def latest_ticks(self, info: Info, symbols: list[str]) -> list[Tick]:
        return [Tick.from_payload(t) for t in await use_cases.latest_ticks(info.context, symbols)]


@strawberry.type
class TickSubscriptions:
    @strawberry.subscription(permission_classes=[IsAuthenticated])
    async def ticks(self, info: Info, symbols: list[str]) -> AsyncGenerator[Tick, None]:
        events = shared_ticks(use_cases.ticks(info.context, symbols))
        offer_events(events)  # the WebSocket handler may take over after the first event
        async for tick in guarded(info.context, events):
            yield tick
