"""The valuation worker: turns 'portfolio changed' and 'new prices' marks into at most one
``portfolioUpdated`` per portfolio per window, always with the newest state.

Exactly one runs per deployment: with Redis it holds a lock (renewed; another process
takes over when it stops renewing); without Redis the single process runs it."""

import asyncio
import contextlib
import logging
import secrets
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from beanie import PydanticObjectId

from models.instruments import pair_of
from models.investments import Investment
from models.portfolios import Portfolio
from resolvers.outages import unavailable_component
from resolvers.valuation import value_portfolio
from subscriptions.broker import Broker
from subscriptions.portfolios import (
    PortfolioUpdatePayload,
    publish_portfolio_update,
    valuation_mark_stream,
)

log = logging.getLogger(__name__)
LOCK_KEY = "fidus:valuation-worker"
LEASE_MS = 10_000
RETRY_SECONDS = 1.0  # a valuation that failed for an outage is tried again after this


@dataclass
class _Pending:
    reason: str
    due: float


@dataclass
class Coalescer:
    """Schedules each portfolio's publication no sooner than ``window`` after its last."""

    window: float
    last_sent: dict[tuple[str, str], float] = field(default_factory=dict)
    pending: dict[tuple[str, str], _Pending] = field(default_factory=dict)

    def mark(self, key: tuple[str, str], reason: str, now: float) -> None:
        if key in self.pending:
            self.pending[key].reason = reason  # the newest reason wins; state is read at send
            return
        due = max(now, self.last_sent.get(key, -self.window) + self.window)
        self.pending[key] = _Pending(reason, due)

    def due(self, now: float) -> list[tuple[tuple[str, str], str]]:
        ready = [(k, p.reason) for k, p in self.pending.items() if p.due <= now]
        for key, _reason in ready:
            del self.pending[key]
            self.last_sent[key] = now
        return ready

    def next_due(self) -> float | None:
        return min((p.due for p in self.pending.values()), default=None)


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
        self.lease_ms = lease_ms
        self.active = False
        self._owner = secrets.token_hex(8)
        self._wake = asyncio.Event()
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
        tasks = [asyncio.create_task(self._consume()), asyncio.create_task(self._flush())]
        tasks.append(asyncio.create_task(self._keep_lock()))
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

    async def _consume(self) -> None:
        async for mark in valuation_mark_stream(self.broker):
            tenant = mark.tenant_id
            portfolios = (
                [mark.portfolio_id]
                if mark.portfolio_id is not None
                else await _portfolios_holding(tenant, list(mark.symbols))
            )
            now = time.monotonic()
            for portfolio in portfolios:
                self.coalescer.mark((tenant, portfolio), mark.reason, now)
            self._wake.set()

    async def _flush(self) -> None:
        while True:
            next_due = self.coalescer.next_due()
            timeout = None if next_due is None else max(0.0, next_due - time.monotonic())
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout)
            for (tenant, portfolio), reason in self.coalescer.due(time.monotonic()):
                try:
                    await publish_valuation(self.broker, tenant, portfolio, reason)
                    self.published += 1
                except Exception as exc:
                    component = unavailable_component(exc)
                    if component is None:
                        log.exception("valuation failed", extra={"portfolio": portfolio})
                        continue
                    # the database or broker is away: try this portfolio again in a second
                    log.warning("valuation postponed: %s unavailable", component)
                    retry_at = time.monotonic() + RETRY_SECONDS
                    self.coalescer.mark((tenant, portfolio), reason, retry_at)
