"""Redemption eligibility (fund-rules.md) and the request → decision → completion flow."""

import asyncio
from datetime import UTC, datetime

import pytest

from models.investments import Investment
from models.portfolios.records import Transaction
from tests.support.domain import make_ready
from tests.support.investments import APPROVE, COMPLETE, fund_investment, request

REJECT = (
    "mutation($id: ID!, $r: String!) { rejectRedemption(id: $id, reason: $r) { id status reason } }"
)
CANCEL = "mutation($id: ID!) { cancelRedemption(id: $id) { id status } }"
TODAY = datetime(2026, 6, 15, 12, 0, tzinfo=UTC)


@pytest.fixture
def today(runtime, monkeypatch):
    monkeypatch.setattr(runtime.services, "clock", lambda: TODAY)
    return TODAY


@pytest.fixture
async def investor(world):
    member = world("acme", "investor")
    await make_ready(member)
    return member


async def test_nothing_during_incubation(api, world, investor, today):
    investment = await fund_investment(api, world, investor, deposit="2026-05-01")
    for kind in ("INTEREST", "PRINCIPAL"):
        result = await request(api, investor, investment, "1.00", kind)
        assert result.code == "CONFLICT"
        assert "incubation" in result.errors[0]["message"]


async def test_interest_up_to_what_has_accrued(api, world, investor, today):
    investment = await fund_investment(api, world, investor, deposit="2026-03-01")
    # interest started 2026-05-01; by 06-15: 150 × (1 + 14/30) = 220.00
    assert (await request(api, investor, investment, "200.00")).ok()
    too_much = await request(api, investor, investment, "30.00")
    assert too_much.code == "CONFLICT"
    assert "20.00" in too_much.errors[0]["message"]
    assert (await request(api, investor, investment, "20.00")).ok()
    assert (await request(api, investor, investment, "0.01")).code == "CONFLICT"
    early = await request(api, investor, investment, "10000.00", "PRINCIPAL")
    assert early.code == "CONFLICT"
    assert "2027-05-01" in early.errors[0]["message"]


async def test_interest_waits_for_a_full_payout_period(api, world, investor, today):
    investment = await fund_investment(
        api, world, investor, fund="BALANCE", amount="50000.00", deposit="2026-03-10"
    )
    result = await request(api, investor, investment, "10.00")
    assert result.code == "CONFLICT"
    assert "2026-08-10" in result.errors[0]["message"]


async def test_principal_whole_and_once_after_maturity(api, world, investor, today):
    investment = await fund_investment(api, world, investor, deposit="2024-12-01")
    partial = await request(api, investor, investment, "5000.00", "PRINCIPAL")
    assert partial.code == "CONFLICT"
    assert (await request(api, investor, investment, "10000.00", "PRINCIPAL")).ok()
    again = await request(api, investor, investment, "10000.00", "PRINCIPAL")
    assert again.code == "CONFLICT"


async def test_bad_input(api, world, investor, today):
    investment = await fund_investment(api, world, investor)
    for amount, kind, field in [
        ("-1", "INTEREST", "amount"),
        ("1.001", "INTEREST", "amount"),
        ("1", "BONUS", "kind"),
    ]:
        result = await request(api, investor, investment, amount, kind)
        assert (result.code, result.errors[0]["extensions"]["field"]) == ("BAD_USER_INPUT", field)
    assert (await request(api, investor, "nope", "1")).code == "BAD_USER_INPUT"
    assert (await request(api, world("acme", "investor2"), investment, "1")).code == "NOT_FOUND"
    assert (await request(api, world("globex", "admin"), investment, "1")).code == "NOT_FOUND"
    assert (await request(api, world("acme", "analyst"), investment, "1")).code == "FORBIDDEN"


async def test_decisions_and_completion(api, world, investor, today):
    manager = world("acme", "manager")
    investment = await fund_investment(api, world, investor)
    first = (await request(api, investor, investment, "100.00")).ok()["requestRedemption"]
    assert first["status"] == "PENDING"
    assert (await api.gql(APPROVE, {"id": first["id"]}, token=investor.token)).code == "FORBIDDEN"
    assert (await api.gql(APPROVE, {"id": first["id"]}, token=manager.token)).ok()[
        "approveRedemption"
    ]["status"] == "APPROVED"
    assert (await api.gql(APPROVE, {"id": first["id"]}, token=manager.token)).code == "CONFLICT"
    assert (await api.gql(CANCEL, {"id": first["id"]}, token=investor.token)).code == "CONFLICT"
    completed = await api.gql(COMPLETE, {"id": first["id"]}, token=manager.token)
    assert completed.ok()["completeRedemption"]["status"] == "COMPLETED"
    assert (await api.gql(COMPLETE, {"id": first["id"]}, token=manager.token)).code == "CONFLICT"
    stored = await Investment.get(investment)
    assert str(stored.withdrawn) == "100.00"
    [withdrawal] = await Transaction.find({"investment_id": stored.id}).to_list()
    assert (withdrawal.type.value, str(withdrawal.amount)) == ("WITHDRAWAL", "100.00")
    # the completed redemption still counts against what has accrued: 220 − 100 = 120
    assert (await request(api, investor, investment, "120.01")).code == "CONFLICT"

    second = (await request(api, investor, investment, "50.00")).ok()["requestRedemption"]
    no_reason = await api.gql(REJECT, {"id": second["id"], "r": "  "}, token=manager.token)
    assert (no_reason.code, no_reason.errors[0]["extensions"]["field"]) == (
        "BAD_USER_INPUT",
        "reason",
    )
    rejected = await api.gql(
        REJECT, {"id": second["id"], "r": "liquidity window"}, token=manager.token
    )
    assert rejected.ok()["rejectRedemption"] == {
        "id": second["id"],
        "status": "REJECTED",
        "reason": "liquidity window",
    }

    third = (await request(api, investor, investment, "50.00")).ok()["requestRedemption"]
    assert (await api.gql(CANCEL, {"id": third["id"]}, token=manager.token)).code == "FORBIDDEN"
    assert (await api.gql(CANCEL, {"id": third["id"]}, token=investor.token)).ok()[
        "cancelRedemption"
    ]["status"] == "CANCELLED"
    foreign = await api.gql(APPROVE, {"id": third["id"]}, token=world("globex", "admin").token)
    assert foreign.code == "NOT_FOUND"


async def test_concurrent_requests_never_exceed_the_available_interest(api, world, investor, today):
    investment = await fund_investment(api, world, investor)
    results = await asyncio.gather(
        *[request(api, investor, investment, "100.00") for _ in range(6)]
    )
    granted = [r for r in results if not r.errors]
    assert len(granted) == 2  # 220.00 available: reservations are atomic
    assert all(r.code == "CONFLICT" for r in results if r.errors)
    assert str((await Investment.get(investment)).requested) == "200.00"
    # a rejection gives its share back
    first = granted[0].ok()["requestRedemption"]["id"]
    await api.gql(REJECT, {"id": first, "r": "no"}, token=world("acme", "manager").token)
    assert (await request(api, investor, investment, "100.00")).ok()
    assert (await request(api, investor, investment, "20.01")).code == "CONFLICT"


async def test_profit_share_product_redeems_up_to_its_value(api, world, investor, today):
    investment = await fund_investment(
        api, world, investor, fund="UNLIMITED", amount="250000.00", deposit="2026-01-01"
    )
    assert (await request(api, investor, investment, "100000.00", "PRINCIPAL")).ok()
    assert (await request(api, investor, investment, "150000.01", "PRINCIPAL")).code == "CONFLICT"
    assert (await request(api, investor, investment, "150000.00", "INTEREST")).ok()
    assert (await request(api, investor, investment, "0.01", "PRINCIPAL")).code == "CONFLICT"
