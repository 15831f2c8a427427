"""The one payout rule of fund-rules.md: dates, schedule, accrual. Pure functions."""

import calendar
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from beanie import DecimalAnnotation
from pydantic import BaseModel, ConfigDict

from models.money import ZERO, round_half_up

INCUBATION_MONTHS = 2
TERM_MONTHS = 12


def add_months(day: date, months: int) -> date:
    """Same day of month, clamped to the target month's last day."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def month_boundary(deposit: date, i: int, incubation: int = INCUBATION_MONTHS) -> date:
    """month(i): the boundary of interest month i, always computed from the deposit date."""
    return add_months(deposit, incubation + i)


class Terms(BaseModel):
    """What the arithmetic needs of a fund product (stored with each investment)."""

    model_config = ConfigDict(frozen=True)

    monthly_rate: DecimalAnnotation | None  # None: profit-share product (UNLIMITED)
    payout_every_months: int | None
    incubation_months: int = INCUBATION_MONTHS
    term_months: int = TERM_MONTHS

    @property
    def fixed_rate(self) -> bool:
        return self.monthly_rate is not None and self.payout_every_months is not None


@dataclass(frozen=True)
class Payout:
    day: date
    amount: Decimal
    kind: str  # INTEREST | PRINCIPAL


@dataclass(frozen=True)
class Schedule:
    interest_start: date
    maturity: date
    payouts: tuple[Payout, ...]

    @property
    def total_interest(self) -> Decimal:
        return sum((p.amount for p in self.payouts if p.kind == "INTEREST"), ZERO)

    def interest_paid_by(self, day: date) -> Decimal:
        return sum((p.amount for p in self.payouts if p.kind == "INTEREST" and p.day <= day), ZERO)


def schedule(amount: Decimal, terms: Terms, deposit: date) -> Schedule:
    def boundary(i: int) -> date:
        return month_boundary(deposit, i, terms.incubation_months)

    payouts: list[Payout] = []
    if terms.fixed_rate:
        assert terms.monthly_rate is not None and terms.payout_every_months is not None
        every = terms.payout_every_months
        per_payout = round_half_up(amount * terms.monthly_rate * every)
        payouts = [
            Payout(boundary(k * every), per_payout, "INTEREST")
            for k in range(1, terms.term_months // every + 1)
        ]
    maturity = boundary(terms.term_months)
    payouts.append(Payout(maturity, amount, "PRINCIPAL"))
    return Schedule(interest_start=boundary(0), maturity=maturity, payouts=tuple(payouts))


def accrued_interest(amount: Decimal, terms: Terms, deposit: date, day: date) -> Decimal:
    """Interest accrued at ``day``. From maturity on it is the schedule's total interest,
    which is what is actually paid (the formula's round(amount × rate × 12) can differ
    from the sum of rounded payouts by a few cents)."""
    if not terms.fixed_rate:
        return ZERO
    assert terms.monthly_rate is not None

    def boundary(i: int) -> date:
        return month_boundary(deposit, i, terms.incubation_months)

    if day < boundary(0):
        return ZERO
    if day >= boundary(terms.term_months):
        return schedule(amount, terms, deposit).total_interest
    m = max(i for i in range(terms.term_months + 1) if boundary(i) <= day)
    start, end = boundary(m), boundary(m + 1)
    fraction = Decimal((day - start).days) / Decimal((end - start).days)
    return round_half_up(amount * terms.monthly_rate * (Decimal(m) + fraction))
