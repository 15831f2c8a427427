"""The portfolios' root fields: reading them, recording transactions, creating one, and
the live valuation stream."""

from collections.abc import AsyncGenerator
from datetime import datetime
from decimal import Decimal

import strawberry

from models.permissions import Can
from resolvers.portfolios import ledger as use_cases
from schema.core.context import Info
from schema.core.domains import Domain
from schema.core.permissions import Allowed, IsAuthenticated
from schema.core.streams import guarded
from schema.portfolios.ledger import RecordTransactionInput, Transaction
from schema.portfolios.portfolio import Portfolio
from subscriptions.portfolios import PortfolioUpdatePayload


@strawberry.type
class PortfolioUpdate:
    portfolio_id: strawberry.ID
    as_of: datetime
    total_value: Decimal
    market_value: Decimal
    cash: Decimal
    reason: str = strawberry.field(description="TICK, TRANSACTION, MT5_SNAPSHOT or INVESTMENT")

    @classmethod
    def from_payload(cls, update: PortfolioUpdatePayload) -> "PortfolioUpdate":
        return cls(
            portfolio_id=strawberry.ID(update.portfolio_id),
            as_of=update.as_of,
            total_value=update.total_value,
            market_value=update.market_value,
            cash=update.cash,
            reason=update.reason,
        )


@strawberry.type
class PortfolioQueries:
    @strawberry.field(permission_classes=[IsAuthenticated])
    async def portfolio(self, info: Info, id: strawberry.ID) -> Portfolio | None:
        return Portfolio.from_model(await use_cases.get_portfolio(info.context, id))

    @strawberry.field(
        permission_classes=[IsAuthenticated],
        description="The caller's own portfolios, oldest first. A read: it creates nothing. "
        "An investor's default portfolio, Main, is created with the investor (createUser, "
        "convertProspect); investors created before that got theirs when the server "
        "started. Further ones: createPortfolio.",
    )
    async def my_portfolios(self, info: Info) -> list[Portfolio]:
        return [Portfolio.from_model(p) for p in await use_cases.my_portfolios(info.context)]


@strawberry.type
class PortfolioMutations:
    @strawberry.mutation(
        permission_classes=[Allowed(Can.RECORD_TRANSACTIONS)],
        description="ADMIN/MANAGER of the tenant",
    )
    async def record_transaction(self, info: Info, input: RecordTransactionInput) -> Transaction:
        new = use_cases.NewTransaction(
            portfolio_id=input.portfolio_id,
            type=input.type,
            idempotency_key=input.idempotency_key,
            amount=input.amount,
            symbol=input.symbol,
            quantity=input.quantity,
            price=input.price,
            occurred_at=input.occurred_at,
        )
        return Transaction.from_model(await use_cases.record_transaction(info.context, new))

    @strawberry.mutation(permission_classes=[IsAuthenticated])
    async def create_portfolio(
        self,
        info: Info,
        name: str,
        base_currency: str | None = None,
        owner_id: strawberry.ID | None = None,
    ) -> Portfolio:
        doc = await use_cases.create_portfolio(info.context, name, base_currency, owner_id)
        return Portfolio.from_model(doc)


@strawberry.type
class PortfolioSubscriptions:
    @strawberry.subscription(
        permission_classes=[IsAuthenticated],
        description="At most one per portfolio per window, newest state",
    )
    async def portfolio_updated(
        self, info: Info, portfolio_id: strawberry.ID
    ) -> AsyncGenerator[PortfolioUpdate, None]:
        stream = await use_cases.portfolio_updates(info.context, portfolio_id)
        async for update in guarded(info.context, stream):
            yield PortfolioUpdate.from_payload(update)


DOMAIN = Domain(
    queries=PortfolioQueries,
    mutations=PortfolioMutations,
    subscriptions=PortfolioSubscriptions,
)
