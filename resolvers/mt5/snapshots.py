"""Validating an MT5 account snapshot (mt5.md) before anything of it is stored. The account's
own fields reject the snapshot whole; each position and deal is checked on its own, a bad one
is listed with its index and reason (as ticks are) and the good ones go through. Every stored
figure is finite, bounded and of a known shape, so no snapshot can break a valuation."""

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from models.errors import BadUserInput
from models.money import MAX_AMOUNT, decimal_places, round_half_up
from models.mt5 import DEAL_ENTRIES, DEAL_TYPES, POSITION_TYPES, TRADE_DEAL_TYPES
from resolvers.mt5.ingest import MAX_FUTURE_MS, Rejection
from subscriptions.payloads import SYMBOL_PATTERN

MAX_POSITIONS = 1000
MAX_DEALS = 5000
MAX_INT64 = 2**63 - 1
MAX_LEVERAGE = 100_000
MAX_VOLUME = Decimal(1_000_000)  # lots: far above any broker's volume limit
MAX_PLACES = 10  # prices and volumes; money figures are rounded to cents
ACCOUNT_FIGURES = ("balance", "equity", "margin", "profit")
_PLAIN_DECIMAL = re.compile(r"-?[0-9]{1,20}(\.[0-9]{1,20})?")


class _Invalid(ValueError):
    """One field's problem: the message is the reason given back."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field} {reason}")
        self.field = field


@dataclass(frozen=True)
class SnapshotItems:
    """A snapshot's positions and deals: valid ones ready to store, the rest with reasons."""

    positions: list[dict[str, Any]] = field(default_factory=list)
    deals: list[dict[str, Any]] = field(default_factory=list)
    rejected_positions: list[Rejection] = field(default_factory=list)
    rejected_deals: list[Rejection] = field(default_factory=list)


def _decimal(
    raw: dict[str, Any],
    name: str,
    *,
    default: str | None = None,
    minimum: Decimal = -MAX_AMOUNT,
    maximum: Decimal = MAX_AMOUNT,
    positive: bool = False,
) -> Decimal:
    """A JSON number or a plain decimal string ("2001.10"; no exponent, NaN or Infinity),
    within [minimum, maximum] and with at most MAX_PLACES decimals."""
    value = raw.get(name, default)
    if value is None:
        raise _Invalid(name, "is missing")
    if isinstance(value, str) and _PLAIN_DECIMAL.fullmatch(value):
        number = Decimal(value)
    elif isinstance(value, int | float) and not isinstance(value, bool):
        try:
            number = Decimal(repr(value))
        except InvalidOperation as exc:
            raise _Invalid(name, "must be a decimal number") from exc
    else:
        raise _Invalid(name, "must be a decimal number")
    if not number.is_finite():  # NaN and Infinity literals arrive as floats
        raise _Invalid(name, "must be finite")
    if not minimum <= number <= maximum:
        raise _Invalid(name, f"must be between {minimum} and {maximum}")
    if positive and number <= 0:
        raise _Invalid(name, "must be greater than 0")
    if decimal_places(number) > MAX_PLACES:
        raise _Invalid(name, f"may have at most {MAX_PLACES} decimal places")
    return number


def _money(raw: dict[str, Any], name: str, default: str | None = "0") -> Decimal:
    return round_half_up(_decimal(raw, name, default=default))


def _int(raw: dict[str, Any], name: str, maximum: int = MAX_INT64) -> int:
    value = raw.get(name)
    if value is None:
        raise _Invalid(name, "is missing")
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= maximum:
        raise _Invalid(name, f"must be an integer from 0 to {maximum}")
    return value


def _time(raw: dict[str, Any], now_ms: int) -> int:
    value = _int(raw, "time_msc")
    if value > now_ms + MAX_FUTURE_MS:
        raise _Invalid("time_msc", "is more than 60 s in the future")
    return value


def _choice(raw: dict[str, Any], name: str, allowed: tuple[str, ...]) -> str:
    value = raw.get(name)
    if not isinstance(value, str) or value not in allowed:
        raise _Invalid(name, f"must be one of {', '.join(allowed)}")
    return value


def _symbol(raw: dict[str, Any], required: bool) -> str:
    value = raw.get("symbol", None if required else "")
    if value == "" and not required:
        return ""
    if not isinstance(value, str) or not SYMBOL_PATTERN.fullmatch(value):
        raise _Invalid("symbol", "must be 1-32 letters, digits or . _ # -")
    return value


def _position(raw: dict[str, Any], now_ms: int) -> dict[str, Any]:
    return {
        "ticket": _int(raw, "ticket"),
        "symbol": _symbol(raw, required=True),
        "type": _choice(raw, "type", POSITION_TYPES),
        "volume": _decimal(raw, "volume", minimum=Decimal(0), maximum=MAX_VOLUME, positive=True),
        "price_open": _decimal(raw, "price_open", minimum=Decimal(0), positive=True),
        "price_current": _decimal(raw, "price_current", minimum=Decimal(0), positive=True),
        "profit": _money(raw, "profit"),
        "swap": _money(raw, "swap"),
        "time_msc": _time(raw, now_ms),
    }


Parser = Callable[[dict[str, Any], int], dict[str, Any]]


def _deal(raw: dict[str, Any], now_ms: int) -> dict[str, Any]:
    kind = _choice(raw, "type", DEAL_TYPES)
    return {
        "ticket": _int(raw, "ticket"),
        "type": kind,
        "entry": _choice(raw, "entry", DEAL_ENTRIES),
        # balance, credit, commission ... deals carry no symbol, volume or price
        "symbol": _symbol(raw, required=kind in TRADE_DEAL_TYPES),
        "volume": _decimal(raw, "volume", default="0", minimum=Decimal(0), maximum=MAX_VOLUME),
        "price": _decimal(raw, "price", default="0", minimum=Decimal(0)),
        "profit": _money(raw, "profit"),
        "commission": _money(raw, "commission"),
        "swap": _money(raw, "swap"),
        "time_msc": _time(raw, now_ms),
    }


def _item(raw: Any, now_ms: int, parse: Parser, kind: str) -> dict[str, Any] | str:
    """The item ready to store, or why not."""
    if not isinstance(raw, dict):
        return f"a {kind} must be an object"
    try:
        return parse(raw, now_ms)
    except _Invalid as exc:
        return str(exc)


def parse_items(body: dict[str, Any], now_ms: int) -> SnapshotItems:
    """Positions and deals one by one; too many of either rejects the snapshot whole."""
    positions, deals = body.get("positions", []), body.get("deals", [])
    if not isinstance(positions, list) or len(positions) > MAX_POSITIONS:
        raise BadUserInput(
            f"positions must be a list of at most {MAX_POSITIONS}", field="positions"
        )
    if not isinstance(deals, list) or len(deals) > MAX_DEALS:
        raise BadUserInput(f"deals must be a list of at most {MAX_DEALS}", field="deals")
    items = SnapshotItems()
    tickets: set[int] = set()
    for index, raw in enumerate(positions):
        position = _item(raw, now_ms, _position, "position")
        if isinstance(position, dict) and position["ticket"] in tickets:
            position = "ticket repeats an earlier position"
        if isinstance(position, str):
            items.rejected_positions.append(Rejection(index, position))
        else:
            tickets.add(position["ticket"])
            items.positions.append(position)
    for index, raw in enumerate(deals):
        deal = _item(raw, now_ms, _deal, "deal")
        if isinstance(deal, str):
            items.rejected_deals.append(Rejection(index, deal))
        else:
            items.deals.append(deal)
    return items


def parse_account(body: Any, now_ms: int) -> dict[str, Any]:
    """The account's own fields (key and figures), or BAD_USER_INPUT naming the field."""
    if not isinstance(body, dict):
        raise BadUserInput("body must be an account snapshot object")
    server = body.get("server")
    if not isinstance(server, str) or not 0 < len(server.strip()) <= 64:
        raise BadUserInput("server must be 1-64 characters", field="server")
    currency = body.get("currency")
    if not (isinstance(currency, str) and len(currency) == 3 and currency.isascii()) or (
        not currency.isalpha()
    ):
        raise BadUserInput("currency must be an ISO 4217 code", field="currency")
    try:
        return {
            "login": _int(body, "login"),
            "server": server.strip(),
            "currency": currency.upper(),
            "leverage": _int(body, "leverage", MAX_LEVERAGE),
            "time_msc": _time(body, now_ms),
            **{name: _money(body, name, default=None) for name in ACCOUNT_FIGURES},
        }
    except _Invalid as exc:
        raise BadUserInput(str(exc), field=exc.field) from exc
