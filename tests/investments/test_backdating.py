"""Deposit dates: an investor's is the server's today (FIDUS_INVESTOR_BACKDATE_DAYS allows a
few days before); staff may back-date only with a reason, which is audited; and interest
accrued before an investment was recorded is never redeemable."""

import asyncio
from datetime import UTC, date, datetime

import pytest
from beanie import PydanticObjectId

from models.audit import AuditEntry
from models.investments import Investment
from tests.support.api import errors_of
from tests.support.domain import invest_in_fund, make_ready
from tests.support.investments import request


class Clock:
    """The server's clock, moved by the test."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock(runtime, monkeypatch):
    clock = Clock(datetime(2026, 6, 15, 12, 0, tzinfo=UTC))
    monkeypatch.setattr(runtime.services, "clock", clock)
    return clock


@pytest.fixture
async def investor(world):
    member = world("acme", "investor")
    await make_ready(member)
    return member


async def test_an_investor_cannot_back_date_their_deposit(api, investor, clock):
    for deposit in ("2026-06-14", "2025-01-15"):
        body = await invest_in_fund(
            api, investor, investor, deposit=deposit, backdateReason="I paid last week"
        )
        assert errors_of(body) == [("BAD_USER_INPUT", "depositDate")], body
    assert await Investment.find({}).count() == 0
    today = await invest_in_fund(api, investor, investor, deposit="2026-06-15")
    assert today["data"]["createInvestment"]["depositDate"] == "2026-06-15"
    stored = await Investment.get(today["data"]["createInvestment"]["id"])
    assert (stored.recorded_on, stored.backdate_reason) == (date(2026, 6, 15), None)


async def test_the_investor_window_is_a_setting(api, runtime, investor, clock, monkeypatch):
    monkeypatch.setattr(runtime.services, "investor_backdate_days", 2)
    too_early = await invest_in_fund(api, investor, investor, deposit="2026-06-12")
    assert errors_of(too_early) == [("BAD_USER_INPUT", "depositDate")]
    allowed = await invest_in_fund(api, investor, investor, deposit="2026-06-13")
    assert allowed["data"]["createInvestment"]["depositDate"] == "2026-06-13"


async def test_staff_back_date_only_with_a_reason_which_is_audited(api, world, investor, clock):
    manager = world("acme", "manager")
    for reason in (None, "   ", "x" * 2001):
        body = await invest_in_fund(
            api, manager, investor, deposit="2026-03-01", key="k", backdateReason=reason
        )
        assert errors_of(body) == [("BAD_USER_INPUT", "backdateReason")], reason
    assert await Investment.find({}).count() == 0
    today = await invest_in_fund(
        api, manager, investor, deposit="2026-06-15", key="today", backdateReason=None
    )
    assert today["data"]["createInvestment"]["depositDate"] == "2026-06-15"
    body = await invest_in_fund(
        api, manager, investor, deposit="2026-03-01", backdateReason=" wire of 1 March "
    )
    created = body["data"]["createInvestment"]
    assert (created["depositDate"], created["status"]) == ("2026-03-01", "ACTIVE")
    entry = await AuditEntry.find_one(
        {"action": "investment.create", "target_id": PydanticObjectId(created["id"])}
    )
    assert entry is not None
    assert entry.actor_id is not None and str(entry.actor_id) == manager.id
    assert entry.detail["backdate_reason"] == "wire of 1 March"
    assert entry.detail["deposit_date"] == "2026-03-01"
    stored = await Investment.get(created["id"])
    assert (stored.recorded_on, stored.backdate_reason) == (date(2026, 6, 15), "wire of 1 March")


async def test_interest_accrued_before_recording_is_not_redeemable(api, world, investor, clock):
    # deposited 2026-03-01 (interest from 05-01), recorded 06-01, asked for on 06-15:
    # 220.00 accrued, of which 150.00 (May) before the investment was recorded
    clock.now = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)
    body = await invest_in_fund(
        api, world("acme", "manager"), investor, deposit="2026-03-01", backdateReason="late"
    )
    investment = body["data"]["createInvestment"]["id"]
    clock.now = datetime(2026, 6, 15, 12, 0, tzinfo=UTC)
    details = await api.gql(
        "query($id: ID!) { investment(id: $id) { accruedInterest } }",
        {"id": investment},
        token=investor.token,
    )
    assert details.ok()["investment"]["accruedInterest"] == "220.00"  # valuation unchanged
    too_much = await request(api, investor, investment, "70.01")
    assert too_much.code == "CONFLICT"
    assert "At most 70.00" in too_much.errors[0]["message"]
    results = await asyncio.gather(*[request(api, investor, investment, "30.00") for _ in range(6)])
    assert len([r for r in results if not r.errors]) == 2  # reservations are atomic
    assert all(r.code == "CONFLICT" for r in results if r.errors)
    assert (await request(api, investor, investment, "10.00")).ok()
    assert (await request(api, investor, investment, "0.01")).code == "CONFLICT"
