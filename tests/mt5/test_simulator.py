"""The simulated market: plausible prices per known symbol over a long run, the symbol's
digits, ask above bid, start prices that can be moved, and ticks the ingest accepts."""

import time

import pytest

from app.mt5_simulator import PROFILES, Market, parse_prices, profile_for

# (symbol, lowest and highest plausible bid, digits)
BANDS = [
    ("EURUSD", 1.00, 1.20, 5),
    ("GBPUSD", 1.15, 1.40, 5),
    ("USDJPY", 135.0, 165.0, 3),
    ("USDCHF", 0.80, 0.95, 5),
    ("AUDUSD", 0.60, 0.72, 5),
    ("XAUUSD", 2000.0, 2600.0, 2),
    ("XAGUSD", 22.0, 32.0, 3),
    ("US500", 4700.0, 5700.0, 2),
    ("US30", 35000.0, 43000.0, 2),
    ("BTCUSD", 45000.0, 75000.0, 2),
    ("ETHUSD", 2200.0, 3800.0, 2),
]


def places(value: float) -> int:
    """Decimal places of the shortest repr (what JSON carries)."""
    return len(repr(value).partition(".")[2])


def test_known_symbols_stay_plausible_over_a_long_run():
    symbols = [symbol for symbol, *_ in BANDS]
    market = Market(symbols, seed=11)
    seen: dict[str, list[float]] = {symbol: [] for symbol in symbols}
    for _, tick in zip(range(10_000 * len(symbols)), market.ticks(), strict=False):
        assert tick["ask"] > tick["bid"] > 0, tick
        seen[tick["symbol"]].append(tick["bid"])
        digits = PROFILES[tick["symbol"]].digits
        assert places(tick["bid"]) <= digits and places(tick["ask"]) <= digits, tick
        spread = tick["ask"] - tick["bid"]
        assert spread <= 3 * PROFILES[tick["symbol"]].spread * 10**-digits + 1e-9, tick
    for symbol, low, high, _ in BANDS:
        bids = seen[symbol]
        assert len(bids) > 8_000, symbol
        assert low <= min(bids) and max(bids) <= high, (symbol, min(bids), max(bids))
        assert len(set(bids)) > 100, symbol  # it does move


@pytest.mark.parametrize(("symbol", "low", "high", "digits"), BANDS)
def test_a_quote_has_the_symbols_digits(symbol, low, high, digits):
    tick = Market([symbol], seed=3).tick(symbol)
    assert low <= tick["bid"] < tick["ask"] <= high
    assert PROFILES[symbol].digits == digits
    assert round(tick["bid"], digits) == tick["bid"] and round(tick["ask"], digits) == tick["ask"]


def test_broker_suffixes_crosses_and_unknown_symbols_get_sensible_profiles():
    assert profile_for("XAUUSD.m") == PROFILES["XAUUSD"]
    cross = profile_for("EURSEK")
    assert 10 < cross.price < 13 and cross.digits == 5
    assert profile_for("GBPJPY#").digits == 3
    unknown = profile_for("ACME")
    assert (unknown.price, unknown.digits) == (100.0, 3)
    tick = Market(["ACME"], seed=1).tick("ACME")
    assert 90 <= tick["bid"] < tick["ask"] <= 110


def test_start_prices_can_be_given():
    prices = parse_prices("EURUSD=1.09, XAUUSD=2350,PENNY=0.5")
    assert prices == {"EURUSD": 1.09, "XAUUSD": 2350.0, "PENNY": 0.5}
    market = Market(["EURUSD", "XAUUSD", "PENNY"], seed=5, prices=prices)
    eur, gold, penny = (market.tick(s) for s in ("EURUSD", "XAUUSD", "PENNY"))
    assert abs(eur["bid"] - 1.09) < 0.001 and abs(gold["bid"] - 2350) < 5
    assert abs(penny["bid"] - 0.5) < 0.01 and places(penny["bid"]) <= 5
    for bad in ("EURUSD", "EURUSD=abc", "EURUSD=-1", "=5", "X=nan", "X=inf"):
        with pytest.raises(ValueError, match="SYMBOL=PRICE"):
            parse_prices(bad)


def test_the_same_seed_gives_the_same_ticks():
    first = Market(["EURUSD", "BTCUSD"], seed=9).ticks()
    second = Market(["EURUSD", "BTCUSD"], seed=9).ticks()
    assert [next(first) for _ in range(50)] == [next(second) for _ in range(50)]


async def test_simulated_ticks_of_every_known_symbol_are_accepted(
    api, world, base_url, ingest_token
):
    symbols = sorted(PROFILES)
    market = Market([*symbols, "XAUUSD.m", "EURSEK", "ACME"], seed=21)
    now_ms = int(time.time() * 1000)
    ticks = [{**market.tick(s), "time_msc": now_ms} for s in market.symbols for _ in range(20)]
    response = await api.client.post(
        f"{base_url}/mt5/ticks",
        json={"ticks": ticks},
        headers={"authorization": f"Bearer {ingest_token}"},
    )
    assert response.status_code == 200, response.text
    assert response.json()["rejected"] == [] and response.json()["accepted"] == len(ticks)
    latest = await api.gql(
        "query($s: [String!]!) { latestTicks(symbols: $s) { symbol bid ask } }",
        {"s": ["EURUSD", "XAUUSD.m"]},
        token=world("acme", "investor").token,
    )
    quotes = {t["symbol"]: t for t in latest.ok()["latestTicks"]}
    assert 1.0 < quotes["EURUSD"]["bid"] < quotes["EURUSD"]["ask"] < 1.2
    assert 2000 < quotes["XAUUSD.m"]["bid"] < quotes["XAUUSD.m"]["ask"] < 2600
