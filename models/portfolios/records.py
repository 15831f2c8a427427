"""Portfolios: an append-only ledger of transactions and the snapshot derived from it
(cash and positions), kept in step inside one database transaction."""

from datetime import datetime

from beanie import DecimalAnnotation, PydanticObjectId
from pydantic import BaseModel, Field

from models.base import TenantDocument, tenant_index
from models.instruments import quote_currency
from models.money import ZERO
from models.portfolios.ledger import LedgerState, Position, TransactionType


class StoredPosition(BaseModel):
    symbol: str
    quantity: DecimalAnnotation
    cost: DecimalAnnotation
    # the currency its prices are quoted in when not the portfolio's (ticks of that pair
    # re-value the portfolio)
    fx_currency: str | None = None


class Portfolio(TenantDocument):
    owner_id: PydanticObjectId
    name: str
    base_currency: str = "USD"
    is_default: bool = False
    cash: DecimalAnnotation = ZERO
    positions: list[StoredPosition] = Field(default_factory=list)
    version: int = 0

    class Settings:
        name = "portfolios"
        indexes = [
            tenant_index("owner_id"),
            tenant_index("positions.symbol"),
            tenant_index("positions.fx_currency"),
        ]

    @property
    def ledger_state(self) -> LedgerState:
        return LedgerState(
            cash=self.cash,
            positions={p.symbol: Position(p.quantity, p.cost) for p in self.positions},
        )

    def stored_positions(self, state: LedgerState) -> list[StoredPosition]:
        positions = []
        for symbol, p in sorted(state.positions.items()):
            quote = quote_currency(symbol, self.base_currency)
            fx = None if quote == self.base_currency else quote
            positions.append(
                StoredPosition(symbol=symbol, quantity=p.quantity, cost=p.cost, fx_currency=fx)
            )
        return positions


class Transaction(TenantDocument):
    portfolio_id: PydanticObjectId
    type: TransactionType
    amount: DecimalAnnotation
    symbol: str | None = None
    quantity: DecimalAnnotation | None = None
    price: DecimalAnnotation | None = None
    occurred_at: datetime
    idempotency_key: str
    recorded_by: PydanticObjectId | None = None
    investment_id: PydanticObjectId | None = None

    class Settings:
        name = "transactions"
        indexes = [
            tenant_index("portfolio_id", "idempotency_key", unique=True),
            tenant_index("portfolio_id", "_id"),
            tenant_index("occurred_at"),
        ]

    def same_request(self, other: "Transaction") -> bool:
        """An idempotent replay carries the same content."""
        fields = ("type", "amount", "symbol", "quantity", "price")
        return all(getattr(self, f) == getattr(other, f) for f in fields)
