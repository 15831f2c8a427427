"""Live MT5 ticks."""

from collections import OrderedDict
from collections.abc import AsyncGenerator, AsyncIterator
from datetime import UTC, datetime

import strawberry

from resolvers.mt5 import ticks as use_cases
from schema.core.context import Info
from schema.core.permissions import IsAuthenticated
from schema.core.shared_events import SharedEvent, offer_events
from schema.core.streams import guarded
from subscriptions.ticks import TickPayload, decode_message


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


_SHARED_TICKS = 4096
# id(payload) → (payload, its Tick): payloads are themselves shared per message (see
# subscriptions.ticks.decode_shared), so identity finds them without hashing seven fields
_shared: OrderedDict[int, tuple[TickPayload, Tick]] = OrderedDict()


def shared_tick(tick: TickPayload) -> Tick:
    """The same object for every subscriber of a tick, so it is rendered once."""
    entry = _shared.get(id(tick))
    if entry is not None and entry[0] is tick:
        return entry[1]
    shared = Tick.from_payload(tick)
    _shared[id(tick)] = (tick, shared)
    if len(_shared) > _SHARED_TICKS:
        _shared.popitem(last=False)
    return shared


def tick_of_message(item: tuple[str, str]) -> Tick:
    return shared_tick(decode_message(item))


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
        stream = use_cases.ticks(info.context, symbols)
        offer_events(stream.messages, tick_of_message)  # the handler takes over after one
        try:
            async for tick in guarded(info.context, shared_ticks(stream)):
                yield tick
        finally:
            await stream.aclose()  # let go of the topics now, not when collected
