"""Valuing a portfolio: holdings at the latest price (bid for longs, ask for shorts) converted
into the portfolio's currency with the latest tick of the currency pair, or at cost when the
symbol (or the pair) was never seen; plus cash and the current value of its investments."""

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from beanie import PydanticObjectId

from models.funds.payouts import accrued_interest
from models.instruments import conversion_symbols, quote_currency, split_symbol
from models.investments import Investment
from models.money import ZERO, round_half_up
from models.mt5 import profit_share_value
from models.portfolios.records import Portfolio, StoredPosition
from resolvers.mt5.accounts import unlimited_fund
from subscriptions.prices import PriceCache
from subscriptions.ticks import TickPayload


@dataclass(frozen=True)
class HoldingValue:
    symbol: str
    quantity: Decimal
    average_cost: Decimal
    last_price: float | None
    market_value: Decimal
    quote_currency: str = "USD"
    fx_rate: Decimal | None = None  # quote → portfolio currency; None when not converted


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


def _price(tick: TickPayload, selling: bool) -> Decimal:
    """Closing a long sells at the bid; closing a short buys at the ask."""
    return Decimal(repr(tick.bid if selling else tick.ask))


def fx_rate(
    quote: str, into: str, like: str, prices: dict[str, TickPayload], selling: bool
) -> Decimal | None:
    """How many units of ``into`` one unit of ``quote`` fetches now: the direct pair's bid
    (ask when buying ``quote`` back), or one over the inverse pair's ask (bid)."""
    for name in conversion_symbols(quote, into, like):
        tick = prices.get(name)
        if tick is None:
            continue
        if split_symbol(name)[0] == quote + into:
            return _price(tick, selling)
        return Decimal(1) / _price(tick, not selling)
    return None


def _market_value(
    position: StoredPosition, quote: str, base: str, prices: dict[str, TickPayload]
) -> tuple[Decimal, Decimal | None] | None:
    """(value in the portfolio currency, FX rate used) or None when it cannot be priced:
    the symbol was never seen, or no tick converts its quote currency yet."""
    tick = prices.get(position.symbol)
    if tick is None:
        return None
    local = position.quantity * _price(tick, selling=position.quantity >= 0)
    if quote == base:
        return round_half_up(local), None
    rate = fx_rate(quote, base, position.symbol, prices, selling=local >= 0)
    return None if rate is None else (round_half_up(local * rate), rate)


def value_holdings(portfolio: Portfolio, prices: dict[str, TickPayload]) -> list[HoldingValue]:
    values = []
    for position in portfolio.positions:
        average = (position.cost / position.quantity) if position.quantity else ZERO
        quote = quote_currency(position.symbol, portfolio.base_currency)
        tick = prices.get(position.symbol)
        priced = _market_value(position, quote, portfolio.base_currency, prices)
        values.append(
            HoldingValue(
                symbol=position.symbol,
                quantity=position.quantity,
                average_cost=average.quantize(Decimal("0.00000001")),
                last_price=None if tick is None else float(_price(tick, position.quantity >= 0)),
                # at cost (recorded in the portfolio currency) until it can be priced
                market_value=round_half_up(position.cost) if priced is None else priced[0],
                quote_currency=quote,
                fx_rate=None if priced is None else priced[1],
            )
        )
    return values


def symbols_to_price(portfolio: Portfolio) -> list[str]:
    """The holdings' symbols and the currency pairs that convert them."""
    names = [p.symbol for p in portfolio.positions]
    for symbol in list(names):
        quote = quote_currency(symbol, portfolio.base_currency)
        if quote != portfolio.base_currency:
            names += conversion_symbols(quote, portfolio.base_currency, symbol)
    return list(dict.fromkeys(names))


async def value_portfolio(
    portfolio: Portfolio, investments: list[Investment], prices: PriceCache, now: datetime
) -> Valuation:
    quotes = await prices.get_many(str(portfolio.tenant_id), symbols_to_price(portfolio))
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
