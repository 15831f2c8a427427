"""The payout rule of fund-rules.md on hand-computed cases and as properties."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from models.funds.payouts import Terms, accrued_interest, add_months, schedule
from models.investments import (
    Investment,
    Redemption,
    RedemptionKind,
    interest_available,
    redemption_problem,
)
from models.money import ZERO

CORE = Terms(monthly_rate=Decimal("0.015"), payout_every_months=1)
BALANCE = Terms(monthly_rate=Decimal("0.025"), payout_every_months=3)
DYNAMIC = Terms(monthly_rate=Decimal("0.035"), payout_every_months=6)
UNLIMITED = Terms(monthly_rate=None, payout_every_months=None)
MINIMUMS = {CORE: 10_000, BALANCE: 50_000, DYNAMIC: 250_000}


@pytest.mark.parametrize(
    ("day", "months", "expected"),
    [
        (date(2026, 1, 31), 1, date(2026, 2, 28)),
        (date(2024, 1, 31), 1, date(2024, 2, 29)),
        (date(2025, 12, 31), 2, date(2026, 2, 28)),
        (date(2023, 12, 31), 2, date(2024, 2, 29)),
        (date(2026, 3, 31), 11, date(2027, 2, 28)),
        (date(2026, 5, 15), 14, date(2027, 7, 15)),
    ],
)
def test_add_months_clamps_to_month_end(day, months, expected):
    assert add_months(day, months) == expected


def test_core_example_from_the_rules():
    plan = schedule(Decimal("10000.00"), CORE, date(2025, 12, 31))
    assert plan.interest_start == date(2026, 2, 28)
    assert plan.maturity == date(2027, 2, 28)
    interest = [p for p in plan.payouts if p.kind == "INTEREST"]
    assert [p.day for p in interest] == [
        date(2026, 3, 31), date(2026, 4, 30), date(2026, 5, 31), date(2026, 6, 30),
        date(2026, 7, 31), date(2026, 8, 31), date(2026, 9, 30), date(2026, 10, 31),
        date(2026, 11, 30), date(2026, 12, 31), date(2027, 1, 31), date(2027, 2, 28),
    ]  # fmt: skip
    assert {p.amount for p in interest} == {Decimal("150.00")}
    assert plan.payouts[-1].kind == "PRINCIPAL"
    assert plan.payouts[-1].day == plan.maturity
    assert plan.payouts[-1].amount == Decimal("10000.00")
    assert plan.total_interest == Decimal("1800.00")


def test_leap_year_deposit():
    plan = schedule(Decimal("50000.00"), BALANCE, date(2023, 12, 31))
    assert plan.interest_start == date(2024, 2, 29)
    days = [p.day for p in plan.payouts if p.kind == "INTEREST"]
    assert days == [date(2024, 5, 31), date(2024, 8, 31), date(2024, 11, 30), date(2025, 2, 28)]
    assert {p.amount for p in plan.payouts if p.kind == "INTEREST"} == {Decimal("3750.00")}


@pytest.mark.parametrize(
    ("terms", "amount", "payout"),
    [
        (CORE, "10003.00", "150.05"),  # 150.045: half up, where half-even gives 150.04
        (BALANCE, "50000.60", "3750.05"),  # 3750.045
        (DYNAMIC, "250000.50", "52500.11"),  # 52500.105
        (CORE, "10000.33", "150.00"),  # 150.00495
    ],
)
def test_payouts_round_half_up_to_cents(terms, amount, payout):
    plan = schedule(Decimal(amount), terms, date(2026, 1, 10))
    assert {p.amount for p in plan.payouts if p.kind == "INTEREST"} == {Decimal(payout)}


def test_accrual_by_hand():
    deposit, amount = date(2025, 12, 31), Decimal("10000.00")
    assert accrued_interest(amount, CORE, deposit, date(2026, 2, 27)) == ZERO
    assert accrued_interest(amount, CORE, deposit, date(2026, 2, 28)) == ZERO
    # 15 of the 31 days from 2026-02-28 to 2026-03-31: 150 × 15/31 = 72.58
    assert accrued_interest(amount, CORE, deposit, date(2026, 3, 15)) == Decimal("72.58")
    assert accrued_interest(amount, CORE, deposit, date(2026, 3, 31)) == Decimal("150.00")
    assert accrued_interest(amount, CORE, deposit, date(2030, 1, 1)) == Decimal("1800.00")
    assert accrued_interest(amount, UNLIMITED, deposit, date(2026, 6, 1)) == ZERO


def test_month_end_deposit_never_drifts():
    plan = schedule(Decimal("10000.00"), CORE, date(2026, 1, 31))
    days = [p.day for p in plan.payouts if p.kind == "INTEREST"]
    assert days[:4] == [date(2026, 4, 30), date(2026, 5, 31), date(2026, 6, 30), date(2026, 7, 31)]


amounts = st.integers(min_value=0, max_value=10**9).map(lambda cents: Decimal(cents) / 100)
deposits = st.dates(min_value=date(2000, 1, 1), max_value=date(2090, 12, 31))
products = st.sampled_from([CORE, BALANCE, DYNAMIC])


def investment(terms: Terms, amount: Decimal, deposit: date) -> Investment:
    from beanie import PydanticObjectId

    oid = PydanticObjectId()
    return Investment.model_construct(
        tenant_id=oid, investor_id=oid, amount=amount, deposit_date=deposit, terms=terms,
        created_by=oid, idempotency_key="k", redeemed=False, interest_paid_out=ZERO,
    )  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(terms=products, extra=amounts, deposit=deposits)
def test_schedule_properties(terms, extra, deposit):
    amount = MINIMUMS[terms] + extra
    plan = schedule(amount, terms, deposit)
    interest = [p for p in plan.payouts if p.kind == "INTEREST"]
    assert sum(p.amount for p in interest) == plan.total_interest
    assert len(interest) == 12 // terms.payout_every_months
    assert all(p.day > plan.interest_start for p in plan.payouts)
    assert [p.day for p in interest] == sorted({p.day for p in interest})
    assert interest[-1].day == plan.maturity
    assert all(p.amount == p.amount.quantize(Decimal("0.01")) for p in plan.payouts)


@settings(max_examples=200, deadline=None)
@given(terms=products, extra=amounts, deposit=deposits, step=st.integers(1, 20))
def test_accrual_is_monotone_and_reaches_the_total(terms, extra, deposit, step):
    amount = MINIMUMS[terms] + extra
    plan = schedule(amount, terms, deposit)
    day, previous = plan.interest_start - timedelta(days=1), ZERO
    assert accrued_interest(amount, terms, deposit, day) == ZERO
    while day <= plan.maturity + timedelta(days=40):
        accrued = accrued_interest(amount, terms, deposit, day)
        assert accrued >= previous
        assert accrued <= plan.total_interest
        previous = accrued
        day += timedelta(days=step)
    assert accrued_interest(amount, terms, deposit, plan.maturity) == plan.total_interest


@settings(max_examples=200, deadline=None)
@given(terms=products, extra=amounts, deposit=deposits, offset=st.integers(0, 500),
       fractions=st.lists(st.integers(1, 100), min_size=1, max_size=5))  # fmt: skip
def test_interest_redemptions_never_exceed_what_has_accrued(terms, extra, deposit, offset,
                                                            fractions):  # fmt: skip
    amount = MINIMUMS[terms] + extra
    inv = investment(terms, amount, deposit)
    day = schedule(amount, terms, deposit).interest_start + timedelta(days=offset)
    granted: list[Redemption] = []
    for percent in fractions:
        available = interest_available(inv, day, granted)
        ask = (available * percent / 100).quantize(Decimal("0.01")) + Decimal("0.01")
        problem = redemption_problem(inv, RedemptionKind.INTEREST, ask, day, granted, amount)
        if problem is None:
            granted.append(Redemption.model_construct(amount=ask, kind=RedemptionKind.INTEREST))
        total = sum((r.amount for r in granted), ZERO)
        assert total <= accrued_interest(amount, terms, deposit, day)
