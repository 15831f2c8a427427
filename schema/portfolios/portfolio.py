"""The Portfolio type: owner, valuation, investments, transactions, returns, statements."""

import asyncio
import calendar
from datetime import date
from decimal import Decimal
from typing import Annotated

import strawberry

from models.portfolios import records as models
from resolvers.portfolios import ledger as use_cases
from resolvers.portfolios import performance
from resolvers.portfolios.valuation import Valuation, value_portfolio
from schema.core.context import Info
from schema.core.dates import bounded
from schema.core.loaders import loaders
from schema.core.relay import Connection, to_connection
from schema.investments import Investment
from schema.portfolios.figures import (
    Holding,
    MonthlyStatement,
    PortfolioReturns,
    holdings_at_cost,
    month_start,
)
from schema.portfolios.ledger import Transaction
from schema.users import User


@strawberry.type
class Portfolio:
    model: strawberry.Private[models.Portfolio]
    valuation_task: strawberry.Private[asyncio.Future[Valuation] | None]
    id: strawberry.ID
    name: str
    base_currency: str
    cash: Decimal

    @classmethod
    def from_model(cls, doc: models.Portfolio) -> "Portfolio":
        return cls(
            model=doc,
            valuation_task=None,
            id=strawberry.ID(str(doc.id)),
            name=doc.name,
            base_currency=doc.base_currency,
            cash=doc.cash,
        )

    async def _valuation(self, info: Info) -> Valuation:
        """Computed once per portfolio object, however many fields ask for it."""
        if self.valuation_task is None:
            self.valuation_task = asyncio.ensure_future(self._value(info))
        return await self.valuation_task

    async def _value(self, info: Info) -> Valuation:
        investments = await loaders(info).portfolio_investments.load(str(self.id))
        return await value_portfolio(
            self.model, investments, info.context.services.broker.prices, info.context.now()
        )

    @strawberry.field
    async def owner(self, info: Info) -> User:
        user = await loaders(info).users.load(str(self.model.owner_id))
        assert user is not None
        return User.from_model(user)

    @strawberry.field
    async def holdings(self, info: Info) -> list[Holding]:
        valuation = await self._valuation(info)
        return [
            Holding(
                symbol=h.symbol,
                quantity=h.quantity,
                average_cost=h.average_cost,
                last_price=h.last_price,
                market_value=h.market_value,
                quote_currency=h.quote_currency,
                fx_rate=h.fx_rate,
            )
            for h in valuation.holdings
        ]

    @strawberry.field
    async def market_value(self, info: Info) -> Decimal:
        return (await self._valuation(info)).market_value

    @strawberry.field(description="Cash + holdings + current value of investments")
    async def total_value(self, info: Info) -> Decimal:
        return (await self._valuation(info)).total_value

    @strawberry.field
    async def investments(self, info: Info) -> list[Investment]:
        found = await loaders(info).portfolio_investments.load(str(self.id))
        return [Investment.from_model(i) for i in found]

    @strawberry.field
    async def transactions(
        self, info: Info, first: int | None = 20, after: str | None = None
    ) -> Connection[Transaction]:
        page = await use_cases.transactions_page(
            info.context, self.model, 20 if first is None else first, after
        )
        return to_connection(page, Transaction.from_model)

    @strawberry.field(name="returns")
    async def period_returns(
        self,
        info: Info,
        from_: Annotated[date, strawberry.argument(name="from")],
        to: date | None = None,
    ) -> PortfolioReturns:
        start = bounded(from_, "from")
        end = bounded(to, "to") or info.context.now().date()
        figures = await performance.period_figures(info.context, self.model, start, end)
        return PortfolioReturns(
            start=figures.start,
            end=figures.end,
            opening_value=figures.opening_value,
            closing_value=figures.closing_value,
            net_flows=figures.deposits - figures.withdrawals,
            simple_return=figures.simple_return,
            time_weighted_return=figures.time_weighted_return,
        )

    @strawberry.field(description="Statement figures for a calendar month, YYYY-MM")
    async def statement(self, info: Info, month: str) -> MonthlyStatement:
        start = month_start(month)
        end = start.replace(day=calendar.monthrange(start.year, start.month)[1])
        figures = await performance.period_figures(info.context, self.model, start, end)
        return MonthlyStatement(
            month=month,
            opening_value=figures.opening_value,
            closing_value=figures.closing_value,
            deposits=figures.deposits,
            withdrawals=figures.withdrawals,
            income=figures.income,
            fees=figures.fees,
            holdings=holdings_at_cost(figures.holdings),
        )
