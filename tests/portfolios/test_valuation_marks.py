"""The valuation worker's marks are stored, not only published: a worker that takes the
lease values what was marked before it had it (a takeover), and what a worker read but had
not published when it died; without Redis the memory broker does the same in one process.
A mark is removed only by a valuation that began after it was made."""

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

from beanie import PydanticObjectId

from models.portfolios.records import Portfolio
from resolvers.portfolios.valuation_worker import LOCK_KEY, ValuationWorker
from resolvers.portfolios.worker_schedule import MarkBook
from subscriptions.broker import Broker
from subscriptions.portfolios import (
    PortfolioUpdatePayload,
    mark_portfolio,
    portfolio_update_stream,
    publish_portfolio_update,
)


@contextlib.asynccontextmanager
async def own_broker(redis_url: str | None) -> AsyncIterator[Broker]:
    """A broker in a namespace of its own: the app's worker never sees these marks."""
    broker = Broker(redis_url, namespace=f"marks-{uuid.uuid4().hex[:8]}")
    await broker.connect()
    try:
        yield broker
    finally:
        await broker.disconnect()


@contextlib.asynccontextmanager
async def running(worker: ValuationWorker) -> AsyncIterator[ValuationWorker]:
    task = asyncio.create_task(worker.run())
    try:
        yield worker
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


@dataclass
class Marked:
    document: Portfolio
    tenant_id: str
    id: str


async def a_portfolio(cash: str) -> Marked:
    portfolio = Portfolio(
        tenant_id=PydanticObjectId(),
        owner_id=PydanticObjectId(),
        name="Marked",
        cash=Decimal(cash),
    )
    await portfolio.insert()
    return Marked(portfolio, str(portfolio.tenant_id), str(portfolio.id))


async def updates_of(broker: Broker, portfolio: Marked) -> AsyncIterator[PortfolioUpdatePayload]:
    """The portfolio's updates from now on (its subscription is in place when this returns:
    a probe published on the topic has come back)."""
    stream = portfolio_update_stream(broker, portfolio.tenant_id, portfolio.id)
    probe = PortfolioUpdatePayload(
        str(portfolio.id), datetime.now(UTC), Decimal(0), Decimal(0), Decimal(0), "PROBE"
    )
    first = asyncio.ensure_future(anext(stream))
    while True:
        await publish_portfolio_update(broker, portfolio.tenant_id, probe)
        done, _ = await asyncio.wait({first}, timeout=0.1)
        if done:
            break

    async def after_probes() -> AsyncIterator[PortfolioUpdatePayload]:
        async for update in stream:
            if update.reason != "PROBE":
                yield update

    return after_probes()


async def next_update(updates: AsyncIterator[PortfolioUpdatePayload]) -> PortfolioUpdatePayload:
    return await asyncio.wait_for(anext(updates), 15)


async def no_marks_left(broker: Broker) -> None:
    for _ in range(100):
        if not await broker.dirty_marks.stored():
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"marks left: {await broker.dirty_marks.stored()}")


async def test_a_worker_taking_over_values_what_was_marked_before(runtime, redis_url):
    async with own_broker(redis_url) as broker:
        portfolio = await a_portfolio("5")
        updates = await updates_of(broker, portfolio)
        # the previous holder crashed: its lease still runs for a second
        assert await broker.try_lock(LOCK_KEY, "crashed", 1000)
        await mark_portfolio(broker, portfolio.tenant_id, portfolio.id, "TRANSACTION")

        async with running(ValuationWorker(broker, window=0.01, lease_ms=1000)):
            update = await next_update(updates)
        assert (update.cash, update.reason) == (Decimal(5), "TRANSACTION")
        await no_marks_left(broker)


async def test_marks_a_worker_read_but_did_not_publish_outlive_it(runtime, redis_url):
    async with own_broker(redis_url) as broker:
        portfolio = await a_portfolio("7")
        updates = await updates_of(broker, portfolio)
        await mark_portfolio(broker, portfolio.tenant_id, portfolio.id, "INVESTMENT")
        died = ValuationWorker(broker)
        await died.take_marks()  # read and scheduled, then the process died
        assert died.coalescer.pending and await broker.dirty_marks.stored()

        async with running(ValuationWorker(broker, window=0.01)):
            update = await next_update(updates)
        assert (update.cash, update.reason) == (Decimal(7), "INVESTMENT")
        await no_marks_left(broker)


async def test_the_memory_broker_keeps_marks_made_before_the_worker_runs(runtime):
    async with own_broker(None) as broker:
        portfolio = await a_portfolio("9")
        updates = await updates_of(broker, portfolio)
        await mark_portfolio(broker, portfolio.tenant_id, portfolio.id, "TRANSACTION")
        async with running(ValuationWorker(broker, window=0.01)):
            update = await next_update(updates)
            assert update.cash == Decimal(9)
            await portfolio.document.set({"cash": Decimal(10)})
            await mark_portfolio(broker, portfolio.tenant_id, portfolio.id, "TRANSACTION")
            assert (await next_update(updates)).cash == Decimal(10)
        await no_marks_left(broker)


async def test_a_stored_mark_made_again_is_kept_by_the_removal_of_the_first(redis_url):
    for url in (redis_url, None):
        async with own_broker(url) as broker:
            marks = broker.dirty_marks
            await marks.add(["p1"], broker.channel("nudges"))
            first = (await marks.stored())["p1"]
            await marks.add(["p1", "p2"], broker.channel("nudges"))  # while valuing p1
            again = await marks.stored()
            assert again["p1"] != first and set(again) == {"p1", "p2"}
            await marks.remove([("p1", first)])  # the valuation that read the first mark
            assert await marks.stored() == again
            await marks.remove([("p1", again["p1"]), ("p2", again["p2"])])
            assert await marks.stored() == {}


def test_a_mark_is_done_when_every_portfolio_it_named_was_valued_after_it():
    book = MarkBook()
    a, b = ("t", "a"), ("t", "b")
    prices = ("EURUSD", "stamp-1")
    assert book.new({"EURUSD": "stamp-1"}) == [prices]
    assert book.take(prices, [a, b])
    assert book.new({"EURUSD": "stamp-1"}) == []  # taken already
    assert book.end(a, book.begin(a)) == []  # b still to be valued
    again = ("EURUSD", "stamp-2")  # new prices while b is valued
    assert book.new({"EURUSD": "stamp-2"}) == [again]
    valuing_b = book.begin(b)
    assert book.take(again, [a, b])
    assert book.end(b, valuing_b) == [prices]  # that valuation began before stamp-2
    book.again(a, book.begin(a))  # a's valuation postponed by an outage
    assert book.end(a, book.begin(a)) == []
    assert book.end(b, book.begin(b)) == [again]
    assert not book.taken and not book.waiting and not book.waiters
    assert not book.take(("XAUUSD", "stamp-3"), [])  # nobody holds it: done at once
