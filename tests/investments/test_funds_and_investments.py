"""Fund products, simulation, and investing in them: eligibility, readiness gate with an
audited ADMIN override, invitations, idempotency, visibility."""

import asyncio
from datetime import UTC, datetime

from models.audit import AuditEntry
from models.investments import Investment
from tests.support.api import errors_of
from tests.support.domain import invest_in_fund, make_ready

FUNDS = """{ funds { code name minimumInvestment monthlyRate payoutFrequencyMonths
  incubationMonths termMonths invitationOnly } }"""
SIMULATE = """query($f: String!, $a: Decimal!, $d: Date!) {
  simulateInvestment(fundCode: $f, amount: $a, startDate: $d) {
    fundCode amount interestStartDate maturityDate totalInterest finalValue
    payouts { date amount kind } } }"""
INVESTMENT = """query($id: ID!) { investment(id: $id) { id status amount
  accruedInterest(asOf: "2025-04-30") schedule { date amount kind } currentValue
  investor { email } } }"""


async def test_every_tenant_gets_the_four_products(api, world):
    funds = (await api.gql(FUNDS, token=world("acme", "investor").token)).ok()["funds"]
    by_code = {f["code"]: f for f in funds}
    assert set(by_code) == {"CORE", "BALANCE", "DYNAMIC", "UNLIMITED"}
    assert by_code["CORE"]["minimumInvestment"] == "10000.00"
    assert by_code["BALANCE"]["monthlyRate"] == "0.025"
    assert by_code["DYNAMIC"]["invitationOnly"] is True
    assert by_code["UNLIMITED"]["monthlyRate"] is None
    assert {f["incubationMonths"] for f in funds} == {2}
    assert {f["termMonths"] for f in funds} == {12}


async def test_simulation_matches_the_rules(api, world):
    result = await api.gql(
        SIMULATE,
        {"f": "CORE", "a": "10000.00", "d": "2025-12-31"},
        token=world("acme", "investor").token,
    )
    sim = result.ok()["simulateInvestment"]
    assert (sim["interestStartDate"], sim["maturityDate"]) == ("2026-02-28", "2027-02-28")
    assert sim["totalInterest"] == "1800.00"
    assert sim["finalValue"] == "11800.00"
    assert sim["payouts"][0] == {"date": "2026-03-31", "amount": "150.00", "kind": "INTEREST"}
    assert sim["payouts"][-1] == {"date": "2027-02-28", "amount": "10000.00", "kind": "PRINCIPAL"}
    for amount, field in [
        ("9999.99", "amount"),
        ("10000.001", "amount"),
        ("-5", "amount"),
        ("NaN", "amount"),
    ]:
        bad = await api.gql(
            SIMULATE,
            {"f": "CORE", "a": amount, "d": "2025-12-31"},
            token=world("acme", "investor").token,
        )
        assert (bad.code, bad.errors[0]["extensions"].get("field")) == ("BAD_USER_INPUT", field)
    unknown = await api.gql(
        SIMULATE,
        {"f": "NOPE", "a": "10000", "d": "2025-12-31"},
        token=world("acme", "investor").token,
    )
    assert unknown.errors[0]["extensions"]["field"] == "fundCode"
    garbage = await api.gql(
        SIMULATE,
        {"f": "CORE", "a": "ten", "d": "2025-12-31"},
        token=world("acme", "investor").token,
    )
    assert garbage.code == "BAD_USER_INPUT"


async def test_readiness_gate_and_audited_admin_override(api, world):
    admin, manager, investor = (
        world("acme", "admin"),
        world("acme", "manager"),
        world("acme", "investor"),
    )
    blocked = await invest_in_fund(api, manager, investor)
    assert errors_of(blocked) == [("CONFLICT", None)]
    assert (
        "KYC" in blocked["errors"][0]["message"] and "AGREEMENT" in blocked["errors"][0]["message"]
    )
    by_manager = await invest_in_fund(api, manager, investor, overrideReadinessReason="trust me")
    assert errors_of(by_manager) == [("FORBIDDEN", None)]
    by_admin = await invest_in_fund(
        api, admin, investor, overrideReadinessReason="documents received by post"
    )
    assert by_admin["data"]["createInvestment"]["fundCode"] == "CORE"
    [entry] = await AuditEntry.find({"action": "investment.create"}).to_list()
    assert entry.detail["readiness_override"] == "documents received by post"


async def test_ready_investor_invests_for_themself(api, world, runtime, monkeypatch):
    monkeypatch.setattr(runtime.services, "clock", lambda: datetime(2025, 1, 15, 9, tzinfo=UTC))
    investor = world("acme", "investor")
    await make_ready(investor)
    created = (await invest_in_fund(api, investor, investor, deposit="2025-01-15"))["data"]
    investment = created["createInvestment"]
    assert investment["investor"]["email"] == investor.email
    assert (investment["interestStartDate"], investment["maturityDate"]) == (
        "2025-03-15",
        "2026-03-15",
    )
    details = (await api.gql(INVESTMENT, {"id": investment["id"]}, token=investor.token)).ok()
    # 1.5 interest months by 2025-04-30: 150 + 150 × 15/30
    assert details["investment"]["accruedInterest"] == "225.00"
    assert len(details["investment"]["schedule"]) == 13
    reused = await invest_in_fund(
        api,
        investor,
        investor,
        deposit="2025-01-15",
        amount="20000.00",
        key="CORE-2025-01-15-10000.00",
    )
    assert errors_of(reused) == [("CONFLICT", "idempotencyKey")]
    other = await invest_in_fund(api, investor, world("acme", "investor2"), key="other")
    assert errors_of(other) == [("NOT_FOUND", None)]


async def test_only_kyc_missing_is_still_a_conflict(api, world):
    investor = world("acme", "investor")
    await make_ready(investor, kyc=False)
    blocked = await invest_in_fund(api, world("acme", "manager"), investor)
    assert errors_of(blocked) == [("CONFLICT", None)]
    assert "AGREEMENT" not in blocked["errors"][0]["message"]


async def test_amount_fund_and_date_are_validated(api, world):
    manager, investor = world("acme", "manager"), world("acme", "investor")
    await make_ready(investor)
    cases = [
        ({"amount": "9999.99"}, "amount"),
        ({"amount": "10000.005"}, "amount"),
        ({"amount": "0"}, "amount"),
        ({"fund": "GOLD"}, "fundCode"),
        ({"deposit": "2999-01-01"}, "depositDate"),
    ]
    for override, field in cases:
        body = await invest_in_fund(
            api,
            manager,
            investor,
            key=f"bad-{field}-{override}",
            **{k: v for k, v in override.items()},
        )
        assert errors_of(body) == [("BAD_USER_INPUT", field)], body
    not_investor = await invest_in_fund(api, manager, world("acme", "analyst"))
    assert errors_of(not_investor) == [("BAD_USER_INPUT", "investorId")]
    foreign = await invest_in_fund(api, manager, world("globex", "investor"))
    assert errors_of(foreign) == [("NOT_FOUND", None)]
    assert await Investment.find({}).count() == 0


async def test_invitation_only_products(api, world):
    manager, investor = world("acme", "manager"), world("acme", "investor")
    await make_ready(investor)
    denied = await invest_in_fund(api, manager, investor, fund="DYNAMIC", amount="250000.00")
    assert errors_of(denied) == [("FORBIDDEN", None)]
    invite = (
        """mutation($i: ID!) { inviteToFund(investorId: $i, fundCode: "DYNAMIC") { fundCode } }"""
    )
    assert (await api.gql(invite, {"i": investor.id}, token=manager.token)).ok()
    assert (await api.gql(invite, {"i": investor.id}, token=manager.token)).code == "CONFLICT"
    allowed = await invest_in_fund(api, manager, investor, fund="DYNAMIC", amount="250000.00")
    assert allowed["data"]["createInvestment"]["fundCode"] == "DYNAMIC"
    open_fund = (
        """mutation($i: ID!) { inviteToFund(investorId: $i, fundCode: "CORE") { fundCode } }"""
    )
    assert (await api.gql(open_fund, {"i": investor.id}, token=manager.token)).code == "CONFLICT"


async def test_same_idempotency_key_returns_the_same_investment(api, world):
    manager, investor = world("acme", "manager"), world("acme", "investor")
    await make_ready(investor)
    bodies = await asyncio.gather(
        *[invest_in_fund(api, manager, investor, key="deposit-42") for _ in range(6)]
    )
    ids = {b["data"]["createInvestment"]["id"] for b in bodies}
    assert len(ids) == 1
    assert await Investment.find({}).count() == 1
    # the key is the caller's: another caller with the same key makes its own
    again = await invest_in_fund(api, world("acme", "admin"), investor, key="deposit-42")
    assert again["data"]["createInvestment"]["id"] not in ids


async def test_investors_cannot_see_each_others_investments(api, world):
    manager, investor = world("acme", "manager"), world("acme", "investor")
    await make_ready(investor)
    investment_id = (await invest_in_fund(api, manager, investor))["data"]["createInvestment"]["id"]
    for outsider in (world("acme", "investor2"), world("globex", "admin")):
        result = await api.gql(INVESTMENT, {"id": investment_id}, token=outsider.token)
        assert result.code == "NOT_FOUND"
    for insider in (world("acme", "analyst"), manager, investor):
        assert (await api.gql(INVESTMENT, {"id": investment_id}, token=insider.token)).ok()


async def test_update_fund_is_admin_only_and_audited(api, world):
    update = """mutation($c: String!, $i: UpdateFundInput!) { updateFund(code: $c, input: $i) {
      code minimumInvestment monthlyRate invitationOnly } }"""
    admin, manager = world("acme", "admin"), world("acme", "manager")
    changed = await api.gql(
        update,
        {"c": "core", "i": {"minimumInvestment": "5000.00", "monthlyRate": "0.012"}},
        token=admin.token,
    )
    assert changed.ok()["updateFund"] == {
        "code": "CORE",
        "minimumInvestment": "5000.00",
        "monthlyRate": "0.012",
        "invitationOnly": False,
    }
    assert (
        await api.gql(update, {"c": "CORE", "i": {"name": "x"}}, token=manager.token)
    ).code == "FORBIDDEN"
    for payload, field in [
        ({"monthlyRate": "0.9"}, "monthlyRate"),
        ({"monthlyRate": "0.0000001"}, "monthlyRate"),
        ({"minimumInvestment": "-1"}, "minimumInvestment"),
        ({"name": ""}, "name"),
    ]:
        bad = await api.gql(update, {"c": "CORE", "i": payload}, token=admin.token)
        assert (bad.code, bad.errors[0]["extensions"]["field"]) == ("BAD_USER_INPUT", field)
    unlimited = await api.gql(
        update, {"c": "UNLIMITED", "i": {"monthlyRate": "0.01"}}, token=admin.token
    )
    assert unlimited.code == "CONFLICT"
    assert await AuditEntry.find({"action": "fund.update"}).count() == 1
    # globex is untouched
    other = (await api.gql(FUNDS, token=world("globex", "admin").token)).ok()["funds"]
    assert next(f for f in other if f["code"] == "CORE")["minimumInvestment"] == "10000.00"
