"""Valuing a portfolio: holdings at the latest price (bid for longs) or at cost when the
symbol was never seen, plus cash and the current value of its investments."""

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from models.fund_math import accrued_interest
from models.investments import Investment
from models.money import ZERO, round_half_up
from models.portfolios import Portfolio
from subscriptions.prices import PriceCache
from subscriptions.ticks import TickPayload


@dataclass(frozen=True)
class HoldingValue:
    symbol: str
    quantity: Decimal
    average_cost: Decimal
    last_price: float | None
    market_value: Decimal


@dataclass(frozen=True)
class Valuation:
    as_of: datetime
    cash: Decimal
    holdings: list[HoldingValue]
    market_value: Decimal
    investments_value: Decimal

    @property
    def total_value(self) -> Decimal:
        return self.cash + self.market_value + self.investments_value


def investment_value(investment: Investment, today: date) -> Decimal:
    """Principal plus interest accrued, less what was paid out; zero once redeemed."""
    if investment.redeemed:
        return ZERO
    terms = investment.terms
    if terms is None or not terms.fixed_rate:
        return investment.amount - investment.withdrawn
    accrued = accrued_interest(investment.amount, terms, investment.deposit_date, today)
    return investment.amount + accrued - investment.interest_paid_out - investment.withdrawn


def value_holdings(portfolio: Portfolio, prices: dict[str, TickPayload]) -> list[HoldingValue]:
    values = []
    for position in portfolio.positions:
        average = (position.cost / position.quantity) if position.quantity else ZERO
        tick = prices.get(position.symbol)
        price = Decimal(repr(tick.bid)) if tick is not None else average
        values.append(
            HoldingValue(
                symbol=position.symbol,
                quantity=position.quantity,
                average_cost=average.quantize(Decimal("0.00000001")),
                last_price=tick.bid if tick is not None else None,
                market_value=round_half_up(position.quantity * price),
            )
        )
    return values


async def value_portfolio(
    portfolio: Portfolio, investments: list[Investment], prices: PriceCache, now: datetime
) -> Valuation:
    quotes = await prices.get_many(
        str(portfolio.tenant_id), [p.symbol for p in portfolio.positions]
    )
    holdings = value_holdings(portfolio, quotes)
    return Valuation(
        as_of=now,
        cash=portfolio.cash,
        holdings=holdings,
        market_value=sum((h.market_value for h in holdings), ZERO),
        investments_value=sum((investment_value(i, now.date()) for i in investments), ZERO),
    )
