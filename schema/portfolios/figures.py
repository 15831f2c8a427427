"""A portfolio's figures: holdings, period returns and monthly statements."""

from datetime import date
from decimal import Decimal

import strawberry

from models.errors import BadUserInput
from models.portfolios import ledger
from schema.core.dates import bounded


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


def holdings_at_cost(state: ledger.LedgerState) -> list[Holding]:
    """A statement's positions, at cost (a past month has no prices)."""
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


def month_start(month: str) -> date:
    """The first day of ``YYYY-MM``; BAD_USER_INPUT otherwise."""
    try:
        year, number = (int(part) for part in month.split("-"))
        start = date(year, number, 1)
    except (ValueError, TypeError) as exc:
        raise BadUserInput("Month must be YYYY-MM", field="month") from exc
    return bounded(start, "month")
