"""A plausible synthetic market for `fidus mt5 simulate` and `fidus demo`.

Each symbol starts from a realistic price (or one given with ``--prices``) and moves by a
mean-reverting geometric random walk with its own per-tick volatility, held inside a band
around its start so a demo left running for days still shows believable prices. Quotes
are rounded to the symbol's digits (5 for most FX, 3 for JPY pairs, 2 for gold and
indices, ...) with a realistic spread of at least one point, so ask > bid always.
Broker suffixes are kept: ``XAUUSD.m`` moves like ``XAUUSD``."""

import math
import random
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from typing import Any

from models.instruments import pair_of, split_symbol

MEAN_REVERSION = 0.0002  # pull towards the start per tick of the symbol (half-life ~3,500)


@dataclass(frozen=True)
class SymbolProfile:
    price: float  # starting mid price
    digits: int  # decimal places of a quote
    spread: int  # typical spread in points (1 point = 10**-digits)
    sigma: float  # standard deviation of one tick's relative move
    band: float  # the mid stays within price × (1 ± band)


def _fx(price: float, spread: int, sigma: float = 0.00004, digits: int = 5) -> SymbolProfile:
    return SymbolProfile(price, digits, spread, sigma, 0.05)


PROFILES: dict[str, SymbolProfile] = {
    "EURUSD": _fx(1.0850, 8),
    "GBPUSD": _fx(1.2700, 12, 0.00005),
    "USDJPY": _fx(150.00, 12, 0.00005, digits=3),
    "USDCHF": _fx(0.8800, 14),
    "AUDUSD": _fx(0.6600, 10, 0.00005),
    "USDCAD": _fx(1.3600, 15),
    "NZDUSD": _fx(0.6100, 15, 0.00005),
    "EURGBP": _fx(0.8550, 12, 0.00003),
    "EURJPY": _fx(162.80, 18, 0.00005, digits=3),
    "GBPJPY": _fx(190.50, 28, 0.00006, digits=3),
    "XAUUSD": SymbolProfile(2300.00, 2, 25, 0.00010, 0.08),
    "XAGUSD": SymbolProfile(27.000, 3, 25, 0.00015, 0.10),
    "US500": SymbolProfile(5200.00, 2, 50, 0.00008, 0.08),
    "US30": SymbolProfile(39000.00, 2, 200, 0.00008, 0.08),
    "NAS100": SymbolProfile(18000.00, 2, 150, 0.00010, 0.08),
    "GER40": SymbolProfile(18000.00, 2, 150, 0.00008, 0.08),
    "UK100": SymbolProfile(8000.00, 2, 100, 0.00007, 0.08),
    "BTCUSD": SymbolProfile(60000.00, 2, 3000, 0.00030, 0.20),
    "ETHUSD": SymbolProfile(3000.00, 2, 250, 0.00040, 0.20),
}
PROFILES["USTEC"] = PROFILES["NAS100"]

# Dollars per unit of each currency, to start any other FX pair at a plausible cross rate
USD_VALUE = {
    "USD": 1.0,
    "EUR": 1.085,
    "GBP": 1.27,
    "JPY": 1 / 150,
    "CHF": 1 / 0.88,
    "AUD": 0.66,
    "CAD": 1 / 1.36,
    "NZD": 0.61,
    "SEK": 1 / 10.5,
    "NOK": 1 / 10.7,
    "DKK": 1 / 6.9,
    "PLN": 1 / 4.0,
    "CZK": 1 / 23.0,
    "HUF": 1 / 360.0,
    "TRY": 1 / 32.0,
    "ZAR": 1 / 18.5,
    "MXN": 1 / 17.0,
    "SGD": 1 / 1.35,
    "HKD": 1 / 7.8,
    "CNH": 1 / 7.25,
}
DEFAULT_PRICE = 100.0


def _digits_for(price: float) -> int:
    return 2 if price >= 1000 else 3 if price >= 10 else 5


def _relative(price: float, digits: int, spread: float, sigma: float, band: float) -> SymbolProfile:
    points = max(1, round(price * spread * 10**digits))
    return SymbolProfile(price, digits, points, sigma, band)


def profile_for(symbol: str, prices: Mapping[str, float] | None = None) -> SymbolProfile:
    """The symbol's profile: known instruments by name (broker suffix ignored), other FX
    pairs at their cross rate, anything else around 100; ``prices`` moves the start."""
    core = split_symbol(symbol)[0].upper()
    start = (prices or {}).get(symbol, (prices or {}).get(core))
    known = PROFILES.get(core)
    if known is None:
        pair = pair_of(core)
        if pair and pair[0] in USD_VALUE and pair[1] in USD_VALUE:
            price = USD_VALUE[pair[0]] / USD_VALUE[pair[1]]
            digits = 3 if pair[1] in ("JPY", "HUF") else 5
            known = _relative(price, digits, 0.00015, 0.00005, 0.05)
    if known is None:
        price = start or DEFAULT_PRICE
        return _relative(price, _digits_for(price), 0.0002, 0.0001, 0.10)
    return known if start is None else replace(known, price=start)


def parse_prices(raw: str) -> dict[str, float]:
    """``EURUSD=1.09,XAUUSD=2350`` → {symbol: price}; ValueError naming the bad entry."""
    prices: dict[str, float] = {}
    for item in (part.strip() for part in raw.split(",")):
        if not item:
            continue
        symbol, sep, value = item.partition("=")
        try:
            price = float(value) if sep else math.nan
        except ValueError:
            price = math.nan
        if not symbol.strip() or not math.isfinite(price) or price <= 0:
            raise ValueError(f"'{item}' is not SYMBOL=PRICE with a positive price")
        prices[symbol.strip()] = price
    return prices


class Market:
    """Endless ticks for ``symbols``, each tick for one symbol picked at random;
    reproducible with ``seed``."""

    def __init__(
        self,
        symbols: list[str],
        seed: int | None = None,
        prices: Mapping[str, float] | None = None,
    ) -> None:
        self.rng = random.Random(seed)  # noqa: S311 - simulated prices, not secrets
        self.symbols = list(symbols)
        self.profiles = {symbol: profile_for(symbol, prices) for symbol in self.symbols}
        self.drift = dict.fromkeys(self.symbols, 0.0)  # log(mid / start)

    def ticks(self) -> Iterator[dict[str, Any]]:
        while True:
            yield self.tick(self.rng.choice(self.symbols))

    def tick(self, symbol: str) -> dict[str, Any]:
        """The next quote of ``symbol`` in the shape POST /mt5/ticks takes (no time yet)."""
        profile, rng = self.profiles[symbol], self.rng
        drift = self.drift[symbol] * (1 - MEAN_REVERSION) + rng.gauss(0.0, profile.sigma)
        drift = min(math.log1p(profile.band), max(math.log1p(-profile.band), drift))
        self.drift[symbol] = drift
        point = 10.0**-profile.digits
        widening = 1 + min(2.0, 0.3 * abs(rng.gauss(0.0, 1.0)))  # now and then a wider spread
        spread = max(1, round(profile.spread * widening))
        bid_points = max(1, round(profile.price * math.exp(drift) / point - spread / 2))
        return {
            "symbol": symbol,
            "bid": round(bid_points * point, profile.digits),
            "ask": round((bid_points + spread) * point, profile.digits),
            "last": 0,
            "volume": 0,
            "volume_real": 0,
            "flags": 6,  # BID | ASK
        }
