"""Analytics for ADMIN, MANAGER and ANALYST (read-only)."""

from datetime import date
from decimal import Decimal
from typing import Annotated

import strawberry

from models.permissions import Can
from resolvers.analytics import figures as use_cases
from schema.core.context import Info
from schema.core.dates import bounded
from schema.core.domains import Domain
from schema.core.permissions import Allowed
from schema.opportunities import OpportunityStatus


@strawberry.type
class FundAum:
    fund_code: str
    investments: int
    principal: Decimal


@strawberry.type
class MonthlyFlow:
    month: str
    deposits: Decimal
    withdrawals: Decimal
    net: Decimal


@strawberry.type
class PipelineEntry:
    opportunity_id: strawberry.ID
    name: str
    status: OpportunityStatus
    target_raise: Decimal
    raised_amount: Decimal


@strawberry.type
class TopHolding:
    symbol: str
    quantity: Decimal
    cost: Decimal
    portfolios: int


@strawberry.type
class Analytics:
    @strawberry.field(description="Principal under management by fund product")
    async def aum_by_fund(self, info: Info) -> list[FundAum]:
        rows = await use_cases.aum_by_fund(info.context)
        return [
            FundAum(fund_code=r.fund_code, investments=r.investments, principal=r.principal)
            for r in rows
        ]

    @strawberry.field(description="Deposits and withdrawals per calendar month")
    async def net_flows_by_month(
        self, info: Info, from_: Annotated[date, strawberry.argument(name="from")], to: date
    ) -> list[MonthlyFlow]:
        start, end = bounded(from_, "from"), bounded(to, "to")
        rows = await use_cases.net_flows_by_month(info.context, start, end)
        return [
            MonthlyFlow(month=r.month, deposits=r.deposits, withdrawals=r.withdrawals, net=r.net)
            for r in rows
        ]

    @strawberry.field(description="Published opportunities: raised against target")
    async def opportunity_pipeline(self, info: Info) -> list[PipelineEntry]:
        rows = await use_cases.opportunity_pipeline(info.context)
        return [
            PipelineEntry(
                opportunity_id=strawberry.ID(r.opportunity_id),
                name=r.name,
                status=r.status,
                target_raise=r.target_raise,
                raised_amount=r.raised_amount,
            )
            for r in rows
        ]

    @strawberry.field(description="Largest positions across the tenant's portfolios, by cost")
    async def top_holdings(self, info: Info, limit: int = 10) -> list[TopHolding]:
        rows = await use_cases.top_holdings(info.context, limit)
        return [
            TopHolding(symbol=r.symbol, quantity=r.quantity, cost=r.cost, portfolios=r.portfolios)
            for r in rows
        ]


@strawberry.type
class AnalyticsQueries:
    @strawberry.field(permission_classes=[Allowed(Can.READ_TENANT)])
    def analytics(self) -> Analytics:
        return Analytics()


DOMAIN = Domain(queries=AnalyticsQueries)
