"""Analytics pipelines: AUM by fund, net flows by month, opportunity pipeline, top
holdings — tenant-scoped, for ADMIN/MANAGER/ANALYST only."""

from tests.support.domain import invest_in_fund, make_ready
from tests.support.opportunities import INVEST, open_deal
from tests.support.portfolios import default_portfolio_id, record

ANALYTICS = """query($f: Date!, $t: Date!) { analytics {
  aumByFund { fundCode investments principal }
  netFlowsByMonth(from: $f, to: $t) { month deposits withdrawals net }
  opportunityPipeline { name status targetRaise raisedAmount }
  topHoldings(limit: 2) { symbol quantity cost portfolios } } }"""


async def test_analytics_figures(api, world):
    manager = world("acme", "manager")
    one, two = world("acme", "investor"), world("acme", "investor2")
    for member in (one, two):
        await make_ready(member)
    await invest_in_fund(api, manager, one, amount="10000.00", key="a")
    await invest_in_fund(api, manager, two, amount="20000.00", key="b")
    await invest_in_fund(api, manager, two, fund="BALANCE", amount="50000.00", key="c")
    deal = await open_deal(api, world, name="Clinic", target="10000.00", minimum="1000.00")
    await api.gql(INVEST, {"id": deal["id"], "a": "4000.00", "k": "x"}, token=one.token)
    p1, p2 = await default_portfolio_id(api, one), await default_portfolio_id(api, two)
    rows = [
        (p1, "DEPOSIT", "2026-01-10", {"amount": "1000.00"}),
        (p1, "WITHDRAWAL", "2026-01-20", {"amount": "300.00"}),
        (p2, "DEPOSIT", "2026-02-03", {"amount": "5000.00"}),
        (p1, "BUY", "2026-02-04", {"symbol": "GOLD", "quantity": "2", "price": "300"}),
        (p2, "BUY", "2026-02-05", {"symbol": "GOLD", "quantity": "1", "price": "310"}),
        (p2, "BUY", "2026-02-06", {"symbol": "OIL", "quantity": "10", "price": "70"}),
    ]
    for i, (pid, kind, day, fields) in enumerate(rows):
        result = await record(
            api, manager, pid, kind, f"r{i}", occurredAt=f"{day}T12:00:00Z", **fields
        )
        assert not result.errors, result.errors
    # another tenant's data never shows
    await record(
        api,
        world("globex", "manager"),
        await default_portfolio_id(api, world("globex", "investor")),
        "DEPOSIT",
        "g",
        amount="999.00",
        occurredAt="2026-01-15T00:00:00Z",
    )

    result = await api.gql(
        ANALYTICS, {"f": "2026-01-01", "t": "2026-03-31"}, token=world("acme", "analyst").token
    )
    analytics = result.ok()["analytics"]
    assert analytics["aumByFund"] == [
        {"fundCode": "BALANCE", "investments": 1, "principal": "50000.00"},
        {"fundCode": "CORE", "investments": 2, "principal": "30000.00"},
    ]
    assert analytics["netFlowsByMonth"] == [
        {"month": "2026-01", "deposits": "1000.00", "withdrawals": "300.00", "net": "700.00"},
        {"month": "2026-02", "deposits": "5000.00", "withdrawals": "0.00", "net": "5000.00"},
    ]
    assert analytics["opportunityPipeline"] == [
        {"name": "Clinic", "status": "OPEN", "targetRaise": "10000.00", "raisedAmount": "4000.00"}
    ]
    assert analytics["topHoldings"] == [
        {"symbol": "GOLD", "quantity": "3", "cost": "910.00", "portfolios": 2},
        {"symbol": "OIL", "quantity": "10", "cost": "700.00", "portfolios": 1},
    ]


async def test_analytics_are_not_for_investors(api, world):
    result = await api.gql(
        ANALYTICS, {"f": "2026-01-01", "t": "2026-03-31"}, token=world("acme", "investor").token
    )
    assert result.code == "FORBIDDEN"
