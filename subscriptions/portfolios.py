"""Portfolio topics: the valuation worker's marks (a write or new prices: "revalue these"),
stored (subscriptions.dirty_marks) and nudged on ``valuation:dirty``, and the coalesced
``portfolioUpdated`` valuations it publishes on one topic per tenant and portfolio."""

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, Self

import orjson
from bson import ObjectId

from subscriptions.broker import Broker

DIRTY_TOPIC = "valuation:dirty"
PORTFOLIO_TOPIC_PREFIX = "portfolio:"


def portfolio_topic(tenant_id: str | ObjectId, portfolio_id: str | ObjectId) -> str:
    return f"{PORTFOLIO_TOPIC_PREFIX}{tenant_id}:{portfolio_id}"


@dataclass(frozen=True, slots=True)
class ValuationMark:
    """Revalue one portfolio, or every portfolio of the tenant holding one of ``symbols``."""

    tenant_id: str
    reason: str  # TICK, TRANSACTION, INVESTMENT or MT5_SNAPSHOT
    portfolio_id: str | None = None
    symbols: tuple[str, ...] = ()

    def encode(self) -> str:
        message: dict[str, Any] = {"tenant": self.tenant_id, "reason": self.reason}
        if self.portfolio_id is not None:
            message["portfolio"] = self.portfolio_id
        else:
            message["symbols"] = list(self.symbols)
        return orjson.dumps(message).decode()

    @classmethod
    def decode(cls, message: str | bytes) -> Self:
        fields = orjson.loads(message)
        return cls(
            tenant_id=fields["tenant"],
            reason=fields["reason"],
            portfolio_id=fields.get("portfolio"),
            symbols=tuple(fields.get("symbols", ())),
        )


@dataclass(frozen=True, slots=True)
class PortfolioUpdatePayload:
    portfolio_id: str
    as_of: datetime
    total_value: Decimal
    market_value: Decimal
    cash: Decimal
    reason: str

    def encode(self) -> str:
        return orjson.dumps(
            {
                "portfolioId": self.portfolio_id,
                "asOf": self.as_of.isoformat(),
                "totalValue": str(self.total_value),
                "marketValue": str(self.market_value),
                "cash": str(self.cash),
                "reason": self.reason,
            }
        ).decode()

    @classmethod
    def decode(cls, message: str | bytes) -> Self:
        fields = orjson.loads(message)
        return cls(
            portfolio_id=fields["portfolioId"],
            as_of=datetime.fromisoformat(fields["asOf"]),
            total_value=Decimal(fields["totalValue"]),
            market_value=Decimal(fields["marketValue"]),
            cash=Decimal(fields["cash"]),
            reason=fields["reason"],
        )


async def mark_portfolio(
    broker: Broker, tenant_id: str | ObjectId, portfolio_id: str | ObjectId, reason: str
) -> None:
    await _mark(broker, [ValuationMark(str(tenant_id), reason, portfolio_id=str(portfolio_id))])


async def mark_symbols(broker: Broker, tenant_id: str | ObjectId, symbols: list[str]) -> None:
    """New prices: every portfolio holding one of ``symbols`` is to be revalued (one mark
    per symbol, so that the stored marks stay as few as the symbols)."""
    tenant = str(tenant_id)
    await _mark(broker, [ValuationMark(tenant, "TICK", symbols=(s,)) for s in sorted(set(symbols))])


async def _mark(broker: Broker, marks: list[ValuationMark]) -> None:
    """Store the marks, then nudge the worker (Redis does both in one round trip)."""
    if not marks:
        return
    channel = broker.channel(DIRTY_TOPIC)
    if not await broker.dirty_marks.add([mark.encode() for mark in marks], channel):
        await broker.publish(DIRTY_TOPIC, "nudge")


async def dirty_nudges(broker: Broker) -> AsyncIterator[None]:
    """One item per nudge (or per burst of them, for a consumer that falls behind): the
    worker's cue to read the stored marks."""
    async for _topic, _message in broker.listen([DIRTY_TOPIC], conflate=True):
        yield None


async def revalue_after_gap(broker: Broker, topics: list[str]) -> None:
    """After this process re-subscribed to these portfolio topics (see Broker.on_gap), a
    ``portfolioUpdated`` published meanwhile reached none of its subscribers: the worker
    is asked for each portfolio's current state (reason TICK: prices are what moves
    unseen; a write in the gap shows in the state all the same). The marks are stored, so
    they wait for a worker that is re-subscribing too (it reads them every few seconds)."""
    marks = []
    for topic in topics:
        _prefix, tenant_id, portfolio_id = topic.split(":")
        marks.append(ValuationMark(tenant_id, "TICK", portfolio_id=portfolio_id))
    await _mark(broker, marks)


async def publish_portfolio_update(
    broker: Broker, tenant_id: str | ObjectId, update: PortfolioUpdatePayload
) -> None:
    await broker.publish(portfolio_topic(tenant_id, update.portfolio_id), update.encode())


async def portfolio_update_stream(
    broker: Broker, tenant_id: str | ObjectId, portfolio_id: str | ObjectId
) -> AsyncIterator[PortfolioUpdatePayload]:
    """Conflated: a subscriber that falls behind gets the newest valuation."""
    topic = portfolio_topic(tenant_id, portfolio_id)
    async for _topic, message in broker.listen([topic], conflate=True):
        yield PortfolioUpdatePayload.decode(message)
