"""Investment.status and Redemption.kind are the enums the contract names
(InvestmentStatus: INCUBATING ACTIVE MATURED REDEEMED) and the values the redemption
rules use (RedemptionKind: INTEREST PRINCIPAL), on the server's today."""

from datetime import UTC, datetime

import pytest

from tests.support.domain import make_ready
from tests.support.investments import APPROVE, COMPLETE, fund_investment, request
from tests.support.opportunities import INVEST, open_deal

STATUS = "query($id: ID!) { investment(id: $id) { status } }"
ENUM_TYPES = """{
  investment: __type(name: "Investment") { fields { name type { ofType { name kind } } } }
  redemption: __type(name: "Redemption") { fields { name type { ofType { name kind } } } }
  status: __type(name: "InvestmentStatus") { enumValues { name } }
  kind: __type(name: "RedemptionKind") { enumValues { name } }
}"""


def on(runtime, monkeypatch, day: str) -> None:
    moment = datetime.fromisoformat(day).replace(hour=12, tzinfo=UTC)
    monkeypatch.setattr(runtime.services, "clock", lambda: moment)


async def status(api, member, investment_id: str) -> str:
    body = await api.gql(STATUS, {"id": investment_id}, token=member.token)
    result: str = body.ok()["investment"]["status"]
    return result


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        ("2025-01-15", "INCUBATING"),  # the deposit day
        ("2025-03-14", "INCUBATING"),
        ("2025-03-15", "ACTIVE"),  # interest starts: deposit + 2 months
        ("2026-03-14", "ACTIVE"),
        ("2026-03-15", "MATURED"),  # deposit + 14 months
    ],
)
async def test_a_fund_investment_moves_through_the_calendar(
    api, world, runtime, monkeypatch, day, expected
):
    investor = world("acme", "investor")
    await make_ready(investor)
    investment = await fund_investment(api, world, investor, deposit="2025-01-15")
    on(runtime, monkeypatch, day)
    assert await status(api, investor, investment) == expected


async def test_a_redeemed_principal_is_redeemed(api, world, runtime, monkeypatch):
    investor, manager = world("acme", "investor"), world("acme", "manager")
    await make_ready(investor)
    investment = await fund_investment(api, world, investor, deposit="2025-01-15")
    on(runtime, monkeypatch, "2026-04-01")
    redemption = (await request(api, investor, investment, "10000.00", "PRINCIPAL")).ok()
    assert redemption["requestRedemption"]["kind"] == "PRINCIPAL"
    redemption_id = redemption["requestRedemption"]["id"]
    assert (await api.gql(APPROVE, {"id": redemption_id}, token=manager.token)).ok()
    assert await status(api, investor, investment) == "MATURED"  # approved, not paid yet
    assert (await api.gql(COMPLETE, {"id": redemption_id}, token=manager.token)).ok()
    assert await status(api, investor, investment) == "REDEEMED"


async def test_an_opportunity_investment_is_active(api, world):
    investor = world("acme", "investor")
    await make_ready(investor)
    deal = await open_deal(api, world)
    invested = await api.gql(
        INVEST, {"id": deal["id"], "a": "1000.00", "k": "a"}, token=investor.token
    )
    assert invested.ok()["invest"]["status"] == "ACTIVE"


async def test_the_schema_types_them_as_enums(api, world):
    types = (await api.gql(ENUM_TYPES, token=world("acme", "analyst").token)).ok()
    investment = {f["name"]: f["type"]["ofType"] for f in types["investment"]["fields"]}
    redemption = {f["name"]: f["type"]["ofType"] for f in types["redemption"]["fields"]}
    assert investment["status"] == {"name": "InvestmentStatus", "kind": "ENUM"}
    assert redemption["kind"] == {"name": "RedemptionKind", "kind": "ENUM"}
    assert [v["name"] for v in types["status"]["enumValues"]] == [
        "INCUBATING",
        "ACTIVE",
        "MATURED",
        "REDEEMED",
    ]
    assert [v["name"] for v in types["kind"]["enumValues"]] == ["INTEREST", "PRINCIPAL"]
