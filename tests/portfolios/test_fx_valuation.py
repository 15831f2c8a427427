"""Holdings quoted in another currency than the portfolio's are converted with the latest
tick of the pair (direct bid, or one over the inverse ask); shorts are marked at the ask;
without a price or a pair the holding stays at cost. A tick of the pair alone re-values
subscribers' portfolios."""

import asyncio
import contextlib
from decimal import Decimal

import pytest
from gql import Client

from models.instruments import conversion_symbols, pair_of, quote_currency
from models.portfolios.records import Portfolio, StoredPosition
from resolvers.portfolios.valuation import symbols_to_price, value_holdings
from subscriptions.payloads import TickPayload
from tests.support.domain import set_price
from tests.support.mt5 import post, tick
from tests.support.portfolios import collect, record
from tests.support.ws import transport


@pytest.mark.parametrize(
    ("symbol", "pair"),
    [
        ("EURUSD", ("EUR", "USD")),
        ("XAUUSD.m", ("XAU", "USD")),
        ("GBPJPY#", ("GBP", "JPY")),
        ("eurusd_i", ("EUR", "USD")),
        ("US500", None),
        ("AAPL.US", None),
        ("BTCUSD", None),  # not a currency code: quoted in the portfolio's currency
        ("EURUSDX", None),
    ],
)
def test_pairs_are_read_from_broker_symbols(symbol: str, pair: tuple[str, str] | None) -> None:
    assert pair_of(symbol) == pair
    assert quote_currency(symbol, "CHF") == (pair[1] if pair else "CHF")


def test_conversion_prefers_the_holdings_suffix() -> None:
    assert conversion_symbols("USD", "EUR", "XAUUSD.m") == [
        "USDEUR.m",
        "USDEUR",
        "EURUSD.m",
        "EURUSD",
    ]
    assert conversion_symbols("USD", "EUR", "XAUUSD") == ["USDEUR", "EURUSD"]


def _portfolio(base: str, *positions: tuple[str, str, str]) -> Portfolio:
    return Portfolio.model_construct(
        base_currency=base,
        positions=[
            StoredPosition(symbol=s, quantity=Decimal(q), cost=Decimal(c)) for s, q, c in positions
        ],
    )


def _ticks(**quotes: tuple[float, float]) -> dict[str, TickPayload]:
    return {
        s.replace("_", "."): TickPayload(symbol=s, time_msc=1, bid=b, ask=a)
        for s, (b, a) in quotes.items()
    }


def test_a_long_is_converted_at_one_over_the_inverse_pairs_ask() -> None:
    portfolio = _portfolio("EUR", ("XAUUSD", "2", "3700.00"))
    [holding] = value_holdings(portfolio, _ticks(XAUUSD=(2001.1, 2001.4), EURUSD=(1.0851, 1.0853)))
    # 2 × 2001.1 USD / 1.0853 = 3687.6440615498... EUR → half up to cents
    assert holding.market_value == Decimal("3687.64")
    assert holding.fx_rate == Decimal(1) / Decimal("1.0853")
    assert (holding.quote_currency, holding.last_price) == ("USD", 2001.1)


def test_a_direct_pair_converts_at_its_bid_and_half_cents_round_up() -> None:
    portfolio = _portfolio("JPY", ("EURUSD", "1000", "150000.00"))
    [holding] = value_holdings(portfolio, _ticks(EURUSD=(1.08505, 1.0851), USDJPY=(150.0, 150.02)))
    assert holding.market_value == Decimal("162757.50")  # 1000 × 1.08505 × 150.0 exactly
    portfolio = _portfolio("JPY", ("EURUSD", "1", "150.00"))
    [holding] = value_holdings(
        portfolio, _ticks(EURUSD=(1.08505, 1.0851), USDJPY=(150.001, 150.02))
    )
    # 1.08505 × 150.001 = 162.75858505 → 162.76
    assert holding.market_value == Decimal("162.76")


def test_a_short_is_marked_at_the_ask_and_bought_back_at_the_pairs_ask() -> None:
    portfolio = _portfolio("EUR", ("XAUUSD", "-1", "-1850.00"))
    [holding] = value_holdings(portfolio, _ticks(XAUUSD=(2001.1, 2001.4), USDEUR=(0.92, 0.9205)))
    assert holding.last_price == 2001.4
    assert holding.market_value == Decimal("-1842.29")  # −2001.4 × 0.9205 = −1842.2887


def test_without_a_price_or_a_pair_the_holding_stays_at_cost() -> None:
    portfolio = _portfolio("EUR", ("XAUUSD", "2", "3700.00"), ("US500", "1", "5000.00"))
    holdings = value_holdings(portfolio, _ticks(XAUUSD=(2001.1, 2001.4)))
    assert [(h.market_value, h.fx_rate) for h in holdings] == [
        (Decimal("3700.00"), None),  # no EUR/USD tick yet
        (Decimal("5000.00"), None),  # never seen
    ]
    assert symbols_to_price(portfolio) == ["XAUUSD", "US500", "USDEUR", "EURUSD"]


def test_a_suffixed_pair_of_the_same_broker_wins() -> None:
    portfolio = _portfolio("EUR", ("XAUUSD.m", "1", "1800.00"))
    quotes = _ticks(XAUUSD_m=(2000.0, 2000.5), EURUSD_m=(1.25, 1.25), EURUSD=(1.0, 1.0))
    assert value_holdings(portfolio, quotes)[0].market_value == Decimal("1600.00")


HOLDINGS = """query($id: ID!) { portfolio(id: $id) { baseCurrency holdings {
  symbol quantity lastPrice marketValue quoteCurrency fxRate } } }"""


async def test_a_tick_of_the_pair_alone_revalues_a_portfolio(
    api, world, runtime, base_url, ingest_token
):
    manager, investor = world("acme", "manager"), world("acme", "investor")
    created = await api.gql(
        'mutation { createPortfolio(name: "Euro", baseCurrency: "EUR") { id } }',
        token=investor.token,
    )
    pid = created.ok()["createPortfolio"]["id"]
    (await record(api, manager, pid, "DEPOSIT", "d", amount="10000.00")).ok()
    bought = await record(
        api, manager, pid, "BUY", "b", symbol="XAUUSD", quantity="2", price="1850.00"
    )
    bought.ok()
    await set_price(runtime, investor, "XAUUSD", 2001.1, 2001.4)
    at_cost = (await api.gql(HOLDINGS, {"id": pid}, token=investor.token)).ok()["portfolio"]
    assert at_cost["holdings"] == [
        {
            "symbol": "XAUUSD",
            "quantity": "2",
            "lastPrice": 2001.1,
            "marketValue": "3700.00",
            "quoteCurrency": "USD",
            "fxRate": None,
        }
    ]
    received: asyncio.Queue = asyncio.Queue()
    async with Client(transport=transport(base_url, investor.token)) as session:
        task = asyncio.create_task(collect(session, pid, received))
        try:
            update = None
            for _ in range(20):
                await post(api, ingest_token, {"ticks": [tick("EURUSD", bid=1.0851, ask=1.0853)]})
                with contextlib.suppress(TimeoutError):
                    update = await asyncio.wait_for(received.get(), 0.5)
                    break
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
    assert update is not None and update["reason"] == "TICK"
    assert update["marketValue"] == "3687.64"
    assert Decimal(update["totalValue"]) == Decimal("6300.00") + Decimal("3687.64")
