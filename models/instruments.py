"""What a broker symbol says about its currencies. FX and metal symbols name their pair
(``EURUSD``, ``XAUUSD.m``, ``GBPJPY#``): the second code is the currency prices are quoted
in. Other instruments (indices, stocks) are taken to be quoted in the portfolio's currency."""

import re

# ISO 4217 codes traded at retail FX brokers, and the metals quoted like currencies
CURRENCIES = frozenset(
    {
        "USD",
        "EUR",
        "GBP",
        "JPY",
        "CHF",
        "CAD",
        "AUD",
        "NZD",
        "SEK",
        "NOK",
        "DKK",
        "PLN",
        "CZK",
        "HUF",
        "TRY",
        "ZAR",
        "MXN",
        "SGD",
        "HKD",
        "CNH",
        "CNY",
        "ILS",
        "RUB",
        "THB",
        "INR",
        "KRW",
        "BRL",
        "AED",
        "SAR",
        "KWD",
        "QAR",
        "XAU",
        "XAG",
        "XPT",
        "XPD",
    }
)
_SUFFIX = re.compile(r"[.#_\-]")


def split_symbol(symbol: str) -> tuple[str, str]:
    """(core, broker suffix): ``XAUUSD.m`` → (``XAUUSD``, ``.m``)."""
    match = _SUFFIX.search(symbol)
    cut = match.start() if match else len(symbol)
    return symbol[:cut], symbol[cut:]


def pair_of(symbol: str) -> tuple[str, str] | None:
    """(base, quote) currencies of an FX/metal symbol, or None for other instruments."""
    core = split_symbol(symbol)[0].upper()
    if len(core) == 6 and core[:3] in CURRENCIES and core[3:] in CURRENCIES:
        return core[:3], core[3:]
    return None


def quote_currency(symbol: str, default: str) -> str:
    pair = pair_of(symbol)
    return pair[1] if pair else default


def conversion_symbols(quote: str, into: str, like: str) -> list[str]:
    """Symbols whose latest tick converts ``quote`` into ``into``: the direct pair, then the
    inverse, each first with the holding's own broker suffix (``EURUSD.m`` next to
    ``XAUUSD.m``)."""
    suffix = split_symbol(like)[1]
    direct, inverse = quote + into, into + quote
    names = [direct + suffix, direct, inverse + suffix, inverse]
    return list(dict.fromkeys(names))
