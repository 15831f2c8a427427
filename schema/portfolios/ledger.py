"""The ledger as clients see it: transactions, and recording one."""

from datetime import datetime
from decimal import Decimal

import strawberry

from models.portfolios import ledger
from models.portfolios import records as models
from schema.core.dates import BoundedDates

TransactionType = ledger.TransactionType
strawberry.enum(TransactionType)


@strawberry.type
class Transaction:
    id: strawberry.ID
    type: TransactionType
    symbol: str | None
    quantity: Decimal | None
    price: Decimal | None
    amount: Decimal
    occurred_at: datetime

    @classmethod
    def from_model(cls, doc: models.Transaction) -> "Transaction":
        return cls(
            id=strawberry.ID(str(doc.id)),
            type=doc.type,
            symbol=doc.symbol,
            quantity=doc.quantity,
            price=doc.price,
            amount=doc.amount,
            occurred_at=doc.occurred_at,
        )


@strawberry.input
class RecordTransactionInput(BoundedDates):
    portfolio_id: strawberry.ID
    type: TransactionType
    idempotency_key: str
    amount: Decimal | None = None
    symbol: str | None = None
    quantity: Decimal | None = None
    price: Decimal | None = None
    occurred_at: datetime | None = None
