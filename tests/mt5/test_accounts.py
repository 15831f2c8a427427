"""POST /mt5/accounts snapshots, deals idempotent by ticket, the ADMIN mapping of an account
to UNLIMITED, and the profit share in the investor's portfolio value."""

from models.mt5 import Mt5Account, Mt5Deal
from tests.support.domain import invest_in_fund, make_ready
from tests.support.mt5 import MAP, post_snapshot, snapshot
from tests.support.portfolios import PORTFOLIO, default_portfolio_id


async def test_snapshots_upsert_accounts_and_deals_once(api, ingest_token):
    first = await post_snapshot(api, ingest_token, snapshot())
    assert first.status_code == 200, first.text
    assert first.json()["deals"] == {"new": 1, "known": 0, "rejected": []}
    assert first.json()["positions"] == {"accepted": 1, "rejected": []}
    again = await post_snapshot(api, ingest_token, snapshot(equity="1200000.00"))
    assert again.json()["deals"] == {"new": 0, "known": 1, "rejected": []}
    assert await Mt5Account.find({}).count() == 1
    assert await Mt5Deal.find({}).count() == 1
    assert str((await Mt5Account.find_one({})).equity) == "1200000.00"
    older = await post_snapshot(api, ingest_token, snapshot(equity="1.00", time_msc=1000))
    assert older.status_code == 200
    assert str((await Mt5Account.find_one({})).equity) == "1200000.00"  # not overwritten


async def test_malformed_snapshots_are_rejected_whole(api, ingest_token):
    cases = [
        {**snapshot(), "login": "x"},
        {**snapshot(), "currency": "DOLLARS"},
        {**snapshot(), "equity": "lots"},
        {**snapshot(), "server": ""},
        ["not", "an", "object"],
    ]
    for body in cases:
        response = await post_snapshot(api, ingest_token, body)
        assert response.status_code == 400, body
        assert response.json()["code"] == "BAD_USER_INPUT"
    assert await Mt5Account.find({}).count() == 0
    assert (await post_snapshot(api, "fst_bogus", snapshot())).status_code == 401


async def test_unlimited_value_takes_the_profit_share(api, world, ingest_token):
    admin, investor = world("acme", "admin"), world("acme", "investor")
    await make_ready(investor)
    await invest_in_fund(
        api,
        world("acme", "manager"),
        investor,
        fund="UNLIMITED",
        amount="250000.00",
        deposit="2025-01-10",
    )
    pid = await default_portfolio_id(api, investor)
    await post_snapshot(api, ingest_token, snapshot(equity="1100000.00"))
    not_seen = await api.gql(
        MAP, {"l": 1, "s": "Nope", "f": "UNLIMITED", "a": "1"}, token=admin.token
    )
    assert not_seen.code == "NOT_FOUND"
    bad = await api.gql(
        MAP, {"l": 886528, "s": "Broker-Live", "f": "UNLIMITED", "a": "0"}, token=admin.token
    )
    assert (bad.code, bad.errors[0]["extensions"]["field"]) == (
        "BAD_USER_INPUT",
        "initialAllocation",
    )
    mapped = await api.gql(
        MAP,
        {"l": 886528, "s": "Broker-Live", "f": "UNLIMITED", "a": "1000000.00", "p": pid},
        token=admin.token,
    )
    assert mapped.ok()["mapMt5Account"]["fundCode"] == "UNLIMITED"
    view = (await api.gql(PORTFOLIO, {"id": pid}, token=investor.token)).ok()["portfolio"]
    # profit 100,000 → half to investors; the only UNLIMITED investor takes all of that half
    assert view["investments"][0]["currentValue"] == "300000.00"
    await post_snapshot(api, ingest_token, snapshot(equity="900000.00"))
    view = (await api.gql(PORTFOLIO, {"id": pid}, token=investor.token)).ok()["portfolio"]
    assert view["investments"][0]["currentValue"] == "150000.00"  # losses are borne in full
