"""The valuation worker: turns 'portfolio changed' and 'new prices' marks into at most one
``portfolioUpdated`` per portfolio per window, always with the newest state.

Exactly one runs per deployment: with Redis it holds a lock (renewed; another process
takes over when it stops renewing); without Redis the single process runs it. Marks are
stored (subscriptions.dirty_marks): the worker reads them when it takes over, when nudged,
and every few seconds, and removes a mark only once the valuations it asked for are
published — a worker that dies in between leaves it to the next one."""

import asyncio
import contextlib
import logging
import secrets
import time
from datetime import UTC, datetime
from typing import Any

from beanie import PydanticObjectId

from models.instruments import pair_of
from models.investments import Investment
from models.portfolios.records import Portfolio
from resolvers.core.outages import unavailable_component
from resolvers.portfolios.valuation import value_portfolio
from resolvers.portfolios.worker_schedule import Coalescer, Key, MarkBook, Stored
from subscriptions.broker import Broker
from subscriptions.portfolios import (
    PortfolioUpdatePayload,
    ValuationMark,
    dirty_nudges,
    publish_portfolio_update,
)

log = logging.getLogger(__name__)
LOCK_KEY = "fidus:valuation-worker"
LEASE_MS = 10_000
RETRY_SECONDS = 1.0  # a valuation that failed for an outage is tried again after this
READ_EVERY_SECONDS = 5.0  # the stored marks are read at least this often (a nudge lost)


async def publish_valuation(broker: Broker, tenant: str, portfolio_id: str, reason: str) -> None:
    portfolio = await Portfolio.find_one(
        {"_id": PydanticObjectId(portfolio_id), "tenant_id": PydanticObjectId(tenant)}
    )
    if portfolio is None:
        return
    investments = await Investment.find(
        {"tenant_id": portfolio.tenant_id, "portfolio_id": portfolio.id}
    ).to_list()
    valuation = await value_portfolio(portfolio, investments, broker.prices, datetime.now(UTC))
    update = PortfolioUpdatePayload(
        portfolio_id=portfolio_id,
        as_of=valuation.as_of,
        total_value=valuation.total_value,
        market_value=valuation.market_value,
        cash=valuation.cash,
        reason=reason,
    )
    await publish_portfolio_update(broker, tenant, update)


async def _portfolios_holding(tenant: str, symbols: list[str]) -> list[str]:
    """Portfolios holding one of the symbols, or holding something an FX pair among them
    converts into the portfolio's currency."""
    criteria: list[dict[str, Any]] = [{"positions.symbol": {"$in": symbols}}]
    currencies = sorted({code for s in symbols for code in pair_of(s) or ()})
    if currencies:
        criteria.append(
            {"base_currency": {"$in": currencies}, "positions.fx_currency": {"$in": currencies}}
        )
    cursor = Portfolio.get_pymongo_collection().find(
        {"tenant_id": PydanticObjectId(tenant), "$or": criteria}, projection={"_id": 1}
    )
    return [str(doc["_id"]) async for doc in cursor]


class ValuationWorker:
    def __init__(self, broker: Broker, window: float = 0.25, lease_ms: int = LEASE_MS) -> None:
        """Holds a lease of ``lease_ms``, renewed every third of it: after a crash another
        instance takes over within about ``lease_ms``."""
        self.broker = broker
        self.coalescer = Coalescer(window)
        self.book = MarkBook()
        self.lease_ms = lease_ms
        self.active = False
        self._owner = secrets.token_hex(8)
        self._wake = asyncio.Event()
        self._nudged = asyncio.Event()
        self.published = 0

    async def run(self) -> None:
        """Wait for the lock (if any), then serve until cancelled."""
        standby = min(1.0, self.lease_ms / 3000)
        leased = await self.broker.try_lock(LOCK_KEY, self._owner, self.lease_ms)
        while not leased:  # another process holds the lease: stand by
            await asyncio.sleep(standby)
            leased = await self.broker.try_lock(LOCK_KEY, self._owner, self.lease_ms)
        self.active = True
        log.info("valuation worker active")
        work = (self._listen(), self._read_marks(), self._flush(), self._keep_lock())
        tasks = [asyncio.create_task(job) for job in work]
        try:
            done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
            for task in done:
                task.result()
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await self._release()

    async def _keep_lock(self) -> None:
        """Renew every third of the lease. Through a Redis outage the lease is kept for as
        long as it lasts (nobody can take it without Redis either); past that, another
        process may hold it, and this one stops."""
        loop = asyncio.get_running_loop()
        renewed_at = loop.time()
        while True:
            await asyncio.sleep(self.lease_ms / 3000)
            renewed = await self.broker.renew_lock(LOCK_KEY, self._owner, self.lease_ms)
            if renewed is False:
                raise RuntimeError("valuation worker lost its lease")
            if renewed:
                renewed_at = loop.time()
            elif loop.time() - renewed_at >= self.lease_ms / 1000:
                raise RuntimeError("valuation worker lost its lease (Redis unreachable)")

    async def _release(self) -> None:
        self.active = False
        await self.broker.release_lock(LOCK_KEY, self._owner)

    async def _listen(self) -> None:
        async for _nudge in dirty_nudges(self.broker):
            self._nudged.set()

    async def _read_marks(self) -> None:
        """At once (what was marked before this worker took over), then on every nudge,
        and every READ_EVERY_SECONDS should a nudge be lost."""
        while True:
            self._nudged.clear()
            try:
                await self.take_marks()
                wait = READ_EVERY_SECONDS
            except Exception as exc:
                component = unavailable_component(exc)
                if component is None:
                    raise
                log.warning("valuation marks not read: %s unavailable", component)
                wait = RETRY_SECONDS
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._nudged.wait(), wait)

    async def take_marks(self) -> None:
        """Schedule a valuation for each portfolio a new stored mark names."""
        new = self.book.new(await self.broker.dirty_marks.stored())
        if not new:
            return
        keys: dict[Stored, list[Key]] = {}
        reasons: dict[Stored, str] = {}
        by_symbols: dict[str, list[Stored]] = {}  # tenant → its price marks
        symbols: dict[str, set[str]] = {}
        broken: list[Stored] = []
        for stored in new:
            try:
                mark = ValuationMark.decode(stored[0])
            except (ValueError, KeyError, TypeError):
                log.warning("unreadable valuation mark dropped", extra={"mark": stored[0][:200]})
                broken.append(stored)
                continue
            reasons[stored] = mark.reason
            if mark.portfolio_id is not None:
                keys[stored] = [(mark.tenant_id, mark.portfolio_id)]
            else:
                by_symbols.setdefault(mark.tenant_id, []).append(stored)
                symbols.setdefault(mark.tenant_id, set()).update(mark.symbols)
        for tenant, marks in by_symbols.items():
            holders = await _portfolios_holding(tenant, sorted(symbols[tenant]))
            for stored in marks:
                keys[stored] = [(tenant, portfolio) for portfolio in holders]
        # nothing awaited from here on: the book and the coalescer change together
        now = time.monotonic()
        done = list(broken)
        for stored in new:  # oldest first: a portfolio's newest reason wins
            portfolios = keys.get(stored)
            if portfolios is None:
                continue
            if not self.book.take(stored, portfolios):
                done.append(stored)
            for key in portfolios:
                self.coalescer.mark(key, reasons[stored], now)
        self._wake.set()
        await self.broker.dirty_marks.remove(done)

    async def _flush(self) -> None:
        while True:
            next_due = self.coalescer.next_due()
            timeout = None if next_due is None else max(0.0, next_due - time.monotonic())
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout)
            done: list[Stored] = []
            for key, reason in self.coalescer.due(time.monotonic()):
                marks = self.book.begin(key)
                if await self._publish(key, reason):
                    done += self.book.end(key, marks)
                else:
                    self.book.again(key, marks)
            await self._remove(done)

    async def _publish(self, key: Key, reason: str) -> bool:
        """Value and publish one portfolio; False when an outage postpones it."""
        tenant, portfolio = key
        try:
            await publish_valuation(self.broker, tenant, portfolio, reason)
            self.published += 1
        except Exception as exc:
            component = unavailable_component(exc)
            if component is None:
                log.exception("valuation failed", extra={"portfolio": portfolio})
                return True  # not retried: its marks are done with
            # the database or broker is away: try this portfolio again in a second
            log.warning("valuation postponed: %s unavailable", component)
            self.coalescer.mark(key, reason, time.monotonic() + RETRY_SECONDS)
            return False
        return True

    async def _remove(self, done: list[Stored]) -> None:
        """Remove the marks done with; should Redis be away, they are read (and their
        portfolios published) once more later."""
        try:
            await self.broker.dirty_marks.remove(done)
        except Exception as exc:
            component = unavailable_component(exc)
            if component is None:
                raise
            log.warning("valuation marks not removed: %s unavailable", component)
