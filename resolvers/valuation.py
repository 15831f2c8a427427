"""Valuing a portfolio: holdings at the latest price (bid for longs) or at cost when the
symbol was never seen, plus cash and the current value of its investments."""

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from beanie import PydanticObjectId

from models.fund_math import accrued_interest
from models.investments import Investment
from models.money import ZERO, round_half_up
from models.mt5 import profit_share_value
from models.portfolios import Portfolio
from resolvers.mt5_accounts import unlimited_fund
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


@dataclass(frozen=True)
class ProfitShare:
    """What an UNLIMITED investment's value needs of its fund (mapped MT5 accounts)."""

    fund_equity: Decimal
    fund_allocation: Decimal
    invested_total: Decimal


async def profit_share(tenant_id: PydanticObjectId) -> ProfitShare:
    equity, allocation = await unlimited_fund(tenant_id)
    cursor = await Investment.get_pymongo_collection().aggregate(
        [
            {"$match": {"tenant_id": tenant_id, "fund_code": "UNLIMITED", "redeemed": False}},
            {"$group": {"_id": None, "total": {"$sum": "$amount"}}},
        ]
    )
    rows = await cursor.to_list()
    total = rows[0]["total"].to_decimal() if rows else ZERO
    return ProfitShare(equity, allocation, total)


def investment_value(
    investment: Investment, today: date, share: ProfitShare | None = None
) -> Decimal:
    """Principal plus interest accrued, less what was paid out; zero once redeemed. An
    UNLIMITED investment takes its share of the fund's MT5 profit (fund-rules.md)."""
    if investment.redeemed:
        return ZERO
    terms = investment.terms
    if terms is None or not terms.fixed_rate:
        gross = investment.amount
        if share is not None and investment.fund_code == "UNLIMITED":
            gross = profit_share_value(
                investment.amount, share.fund_equity, share.fund_allocation, share.invested_total
            )
        return gross - investment.withdrawn
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
    share = None
    if any(i.fund_code == "UNLIMITED" and not i.redeemed for i in investments):
        share = await profit_share(portfolio.tenant_id)
    return Valuation(
        as_of=now,
        cash=portfolio.cash,
        holdings=holdings,
        market_value=sum((h.market_value for h in holdings), ZERO),
        investments_value=sum((investment_value(i, now.date(), share) for i in investments), ZERO),
    )
