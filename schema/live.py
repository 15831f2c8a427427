"""Subscriptions: portfolio valuations and newly published opportunities."""

from collections.abc import AsyncGenerator
from datetime import datetime
from decimal import Decimal

import strawberry

from resolvers import live as use_cases
from schema.context import Info
from schema.opportunities import Opportunity
from schema.permissions import IsAuthenticated
from schema.streams import guarded


@strawberry.type
class PortfolioUpdate:
    portfolio_id: strawberry.ID
    as_of: datetime
    total_value: Decimal
    market_value: Decimal
    cash: Decimal
    reason: str = strawberry.field(description="TICK, TRANSACTION, MT5_SNAPSHOT or INVESTMENT")


@strawberry.type
class LiveSubscriptions:
    @strawberry.subscription(
        permission_classes=[IsAuthenticated],
        description="At most one per portfolio per window, newest state",
    )
    async def portfolio_updated(
        self, info: Info, portfolio_id: strawberry.ID
    ) -> AsyncGenerator[PortfolioUpdate, None]:
        stream = await use_cases.portfolio_updates(info.context, portfolio_id)
        async for update in guarded(info.context, stream):
            yield PortfolioUpdate(
                portfolio_id=strawberry.ID(update["portfolioId"]),
                as_of=datetime.fromisoformat(update["asOf"]),
                total_value=Decimal(update["totalValue"]),
                market_value=Decimal(update["marketValue"]),
                cash=Decimal(update["cash"]),
                reason=update["reason"],
            )

    @strawberry.subscription(permission_classes=[IsAuthenticated])
    async def opportunity_published(self, info: Info) -> AsyncGenerator[Opportunity, None]:
        stream = await use_cases.published_opportunities(info.context)
        async for opportunity in guarded(info.context, stream):
            yield Opportunity.from_model(opportunity)
