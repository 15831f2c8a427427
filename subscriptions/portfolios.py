"""Portfolio topics: the valuation worker's ``valuation:dirty`` marks (a write or new
prices: "revalue these"), and the coalesced ``portfolioUpdated`` valuations it publishes on
one topic per tenant and portfolio."""

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, Self

import orjson
from bson import ObjectId

from subscriptions.broker import Broker

DIRTY_TOPIC = "valuation:dirty"
MARK_BUFFER = 100_000  # marks the worker may have queued before its stream is closed


def portfolio_topic(tenant_id: str | ObjectId, portfolio_id: str | ObjectId) -> str:
    return f"portfolio:{tenant_id}:{portfolio_id}"


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
    mark = ValuationMark(str(tenant_id), reason, portfolio_id=str(portfolio_id))
    await broker.publish(DIRTY_TOPIC, mark.encode())


async def mark_symbols(broker: Broker, tenant_id: str | ObjectId, symbols: list[str]) -> None:
    """New prices: every portfolio holding one of ``symbols`` is to be revalued."""
    if symbols:
        mark = ValuationMark(str(tenant_id), "TICK", symbols=tuple(sorted(set(symbols))))
        await broker.publish(DIRTY_TOPIC, mark.encode())


async def valuation_mark_stream(broker: Broker) -> AsyncIterator[ValuationMark]:
    """Every mark of every tenant (the valuation worker's input)."""
    async for _topic, message in broker.listen([DIRTY_TOPIC], limit=MARK_BUFFER):
        yield ValuationMark.decode(message)


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
