"""A subscription that runs for hours must not grow with the number of events it sends.

graphql-core 3.3 shares one sub-field memo across a subscription's per-event executors,
keyed by field lists each event builds anew: without schema.core.shared_events resetting it,
every event left about 1.4 KB behind (seen as steady RSS growth under a tick feed)."""

import gc
import tracemalloc
from collections.abc import AsyncGenerator

import strawberry

from schema.core.shared_events import SharingExecutionContext

WARM_UP, MEASURED = 300, 3000


@strawberry.type
class Price:
    bid: float
    ask: float


@strawberry.type
class Quote:
    symbol: str
    price: Price


@strawberry.type
class Query:
    ping: bool = True


@strawberry.type
class Subscription:
    @strawberry.subscription
    async def quotes(self, count: int) -> AsyncGenerator[Quote, None]:
        for n in range(count):
            yield Quote(symbol=f"S{n % 7}", price=Price(bid=n, ask=n + 1))


SCHEMA = strawberry.Schema(
    query=Query, subscription=Subscription, execution_context_class=SharingExecutionContext
)


async def test_memory_held_does_not_grow_with_the_events_sent() -> None:
    stream = await SCHEMA.subscribe(
        "subscription($n: Int!) { quotes(count: $n) { symbol price { bid ask } } }",
        variable_values={"n": WARM_UP + MEASURED},
    )
    assert not isinstance(stream, strawberry.types.ExecutionResult)
    received = 0
    tracemalloc.start()
    try:
        async for result in stream:
            assert result.errors is None, result.errors
            received += 1
            if received == WARM_UP:
                gc.collect()
                before = tracemalloc.get_traced_memory()[0]
            elif received == WARM_UP + MEASURED:  # measured while the stream still runs
                gc.collect()
                grown = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert received == WARM_UP + MEASURED
    assert grown < 10 * MEASURED, f"{grown} bytes held after {MEASURED} more events"
