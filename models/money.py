"""Money is Decimal end to end; rounding is explicit and single-sourced here."""

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

CENT = Decimal("0.01")
ZERO = Decimal("0.00")
MAX_AMOUNT = Decimal("1000000000000")  # 10^12: far above any single real position


def round_half_up(value: Decimal) -> Decimal:
    """Round to cents, halves away from zero (fund-rules.md)."""
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def is_cents(value: Decimal) -> bool:
    """At most two decimal places (and a finite number)."""
    try:
        return value.is_finite() and value == value.quantize(CENT)
    except InvalidOperation:
        return False


def amount_problem(value: Decimal) -> str | None:
    """Why ``value`` is not a valid positive money amount, or None."""
    if not value.is_finite():
        return "Amount must be a finite number"
    if value <= 0:
        return "Amount must be greater than zero"
    if not is_cents(value):
        return "Amount may have at most 2 decimal places"
    if value > MAX_AMOUNT:
        return "Amount is too large"
    return None


def decimal_places(value: Decimal) -> int:
    """Digits after the decimal point (0 for integers and non-finite values)."""
    exponent = value.as_tuple().exponent
    return -exponent if isinstance(exponent, int) and exponent < 0 else 0
