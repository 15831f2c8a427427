"""Portfolios: ledger, holdings, valuation, returns and monthly statements."""

import asyncio
import calendar
from collections.abc import AsyncGenerator
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated

import strawberry

from models.errors import BadUserInput
from models.permissions import Can
from models.portfolios import ledger
from models.portfolios import records as models
from resolvers.portfolios import ledger as use_cases
from resolvers.portfolios import performance
from resolvers.portfolios.valuation import Valuation, value_portfolio
from schema.core.context import Info
from schema.core.dates import BoundedDates, bounded
from schema.core.loaders import loaders
from schema.core.permissions import Allowed, IsAuthenticated
from schema.core.relay import Connection, to_connection
from schema.core.streams import guarded
from schema.investments import Investment
from schema.users import User
from subscriptions.portfolios import PortfolioUpdatePayload

TransactionType = ledger.TransactionType
strawberry.enum(TransactionType)


@strawberry.type
class Holding:
    symbol: str
    quantity: Decimal
    average_cost: Decimal
    last_price: float | None = strawberry.field(
        description="Latest bid for a long holding, ask for a short one, in the quote currency"
    )
    market_value: Decimal | None = strawberry.field(
        description="In the portfolio's currency; at cost until the symbol (and the pair "
        "converting its quote currency) has a price"
    )
    quote_currency: str | None = None
    fx_rate: Decimal | None = strawberry.field(
        default=None, description="Quote currency → portfolio currency, when converted"
    )


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


@strawberry.type
class PortfolioReturns:
    start: date
    end: date
    opening_value: Decimal
    closing_value: Decimal
    net_flows: Decimal
    simple_return: Decimal | None = strawberry.field(description="Gain ÷ (opening + deposits)")
    time_weighted_return: Decimal | None = strawberry.field(
        description="Chained sub-period returns between deposits/withdrawals"
    )


@strawberry.type
class MonthlyStatement:
    month: str
    opening_value: Decimal
    closing_value: Decimal
    deposits: Decimal
    withdrawals: Decimal
    income: Decimal
    fees: Decimal
    holdings: list[Holding]


def _holdings(state: ledger.LedgerState) -> list[Holding]:
    return [
        Holding(
            symbol=symbol,
            quantity=p.quantity,
            average_cost=p.average_cost,
            last_price=None,
            market_value=None,
        )
        for symbol, p in sorted(state.positions.items())
    ]


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
        start = _month_start(month)
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
            holdings=_holdings(figures.holdings),
        )


def _month_start(month: str) -> date:
    try:
        year, number = (int(part) for part in month.split("-"))
        start = date(year, number, 1)
    except (ValueError, TypeError) as exc:
        raise BadUserInput("Month must be YYYY-MM", field="month") from exc
    return bounded(start, "month")


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
