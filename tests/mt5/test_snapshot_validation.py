"""POST /mt5/accounts validates before it stores: each position and deal on its own (bad ones
listed with index and reason, as ticks are), the account's own fields whole; and a stored
snapshot, however old, cannot make a portfolio valuation fail."""

import json
import time
from decimal import Decimal

from beanie import PydanticObjectId
from bson.decimal128 import Decimal128

from models.mt5 import Mt5Account, Mt5Deal
from resolvers.mt5.snapshots import MAX_DEALS, MAX_POSITIONS
from tests.support.domain import invest_in_fund, make_ready, tenant_of
from tests.support.mt5 import MAP, post_snapshot, snapshot
from tests.support.portfolios import PORTFOLIO, default_portfolio_id

NaN = float("nan")
GOOD_POSITION = snapshot()["positions"][0]
GOOD_DEAL = snapshot()["deals"][0]
BALANCE_DEAL = {
    "ticket": 8,
    "time_msc": 1763780000000,
    "type": "BALANCE",
    "entry": "IN",
    "symbol": "",
    "volume": "0.00",
    "price": "0.00",
    "profit": "100000.00",
}


def without(item, name):
    return {key: value for key, value in item.items() if key != name}


async def post_raw(api, token, body):
    """The body as Python's json writes it: NaN and Infinity stay literals."""
    return await api.client.post(
        f"{api.base_url}/mt5/accounts",
        content=json.dumps(body),
        headers={"authorization": f"Bearer {token}", "content-type": "application/json"},
    )


async def test_positions_of_the_wrong_shape_are_rejected_one_by_one(api, ingest_token):
    bad = {
        1: (without(GOOD_POSITION, "price_open"), "price_open is missing"),
        2: ({**GOOD_POSITION, "ticket": 3, "volume": NaN}, "volume must be finite"),
        3: ({**GOOD_POSITION, "ticket": 4, "volume": "-1.00"}, "volume must be between"),
        4: ({**GOOD_POSITION, "ticket": 5, "volume": "0"}, "volume must be greater than 0"),
        5: ({**GOOD_POSITION, "ticket": 6, "type": "LONG"}, "type must be one of BUY, SELL"),
        6: ({**GOOD_POSITION, "ticket": 7, "symbol": "XAU/USD"}, "symbol must be"),
        7: ({**GOOD_POSITION, "ticket": 8, "volume": "1E+30"}, "volume must be a decimal"),
        8: ({**GOOD_POSITION, "ticket": 9, "volume": 1e30}, "volume must be between"),
        9: ({**GOOD_POSITION, "ticket": 10, "profit": {"$gt": 0}}, "profit must be a decimal"),
        10: ({**GOOD_POSITION, "ticket": 2**64}, "ticket must be an integer"),
        11: ("XAUUSD", "a position must be an object"),
        12: (GOOD_POSITION, "ticket repeats an earlier position"),
        13: ({**GOOD_POSITION, "ticket": 11, "price_current": "Infinity"}, "price_current must"),
        14: ({**GOOD_POSITION, "ticket": 12, "time_msc": 2**62}, "time_msc is more than 60 s"),
    }
    positions = [GOOD_POSITION, *(item for item, _ in bad.values())]
    positions.append({**GOOD_POSITION, "ticket": 2, "type": "SELL", "volume": 0.5})
    response = await post_raw(api, ingest_token, {**snapshot(), "positions": positions})
    assert response.status_code == 200, response.text
    result = response.json()["positions"]
    assert result["accepted"] == 2
    reasons = {r["index"]: r["reason"] for r in result["rejected"]}
    assert set(reasons) == set(bad)
    for index, (_, reason) in bad.items():
        assert reasons[index].startswith(reason), (index, reasons[index])
    [account] = await Mt5Account.find({}).to_list()
    assert [p["ticket"] for p in account.positions] == [1, 2]
    assert [str(p["volume"]) for p in account.positions] == ["1.00", "0.5"]


async def test_deals_of_the_wrong_shape_are_rejected_one_by_one(api, ingest_token):
    bad = {
        2: (without(GOOD_DEAL, "ticket"), "ticket is missing"),
        3: ({**GOOD_DEAL, "ticket": -1}, "ticket must be an integer"),
        4: ({**GOOD_DEAL, "ticket": 20, "type": "17"}, "type must be one of BUY, SELL"),
        5: ({**GOOD_DEAL, "ticket": 21, "entry": "SIDEWAYS"}, "entry must be one of IN"),
        6: ({**GOOD_DEAL, "ticket": 22, "symbol": ""}, "symbol must be"),
        7: ({**GOOD_DEAL, "ticket": 23, "volume": -NaN}, "volume must be finite"),
        8: ({**GOOD_DEAL, "ticket": 24, "price": "-2001.10"}, "price must be between"),
        9: ({**GOOD_DEAL, "ticket": 25, "commission": True}, "commission must be a decimal"),
        10: ({**GOOD_DEAL, "ticket": 26, "volume": "0." + "0" * 11 + "1"}, "volume may have at"),
        11: ({**GOOD_DEAL, "ticket": 27, "time_msc": "yesterday"}, "time_msc must be"),
        12: ([GOOD_DEAL], "a deal must be an object"),
    }
    deals = [GOOD_DEAL, BALANCE_DEAL, *(item for item, _ in bad.values())]
    response = await post_raw(api, ingest_token, snapshot(deals=deals))
    assert response.status_code == 200, response.text
    result = response.json()["deals"]
    assert (result["new"], result["known"]) == (2, 0)
    reasons = {r["index"]: r["reason"] for r in result["rejected"]}
    assert set(reasons) == set(bad)
    for index, (_, reason) in bad.items():
        assert reasons[index].startswith(reason), (index, reasons[index])
    stored = {d.ticket: d for d in await Mt5Deal.find({}).to_list()}
    assert set(stored) == {7, 8}
    assert (stored[8].type, stored[8].symbol, str(stored[8].profit)) == ("BALANCE", "", "100000.00")


async def test_a_malformed_account_or_too_many_items_rejects_the_snapshot_whole(api, ingest_token):
    future = int(time.time() * 1000) + 3_600_000
    cases = {
        "equity": {**snapshot(), "equity": "1E+30"},  # stored before, broke valuations
        "balance": {**snapshot(), "balance": NaN},
        "margin": without(snapshot(), "margin"),
        "leverage": {**snapshot(), "leverage": 2**70},
        "login": {**snapshot(), "login": 2**64},
        "time_msc": {**snapshot(), "time_msc": future},  # would shadow every later snapshot
        "positions": {**snapshot(), "positions": [GOOD_POSITION] * (MAX_POSITIONS + 1)},
        "deals": snapshot(deals=[{}] * (MAX_DEALS + 1)),
    }
    for field, body in cases.items():
        response = await post_raw(api, ingest_token, body)
        assert response.status_code == 400, (field, response.text)
        assert response.json()["code"] == "BAD_USER_INPUT"
        assert response.json()["field"] == field
    assert await Mt5Account.find({}).count() == 0
    assert await Mt5Deal.find({}).count() == 0


async def test_a_stored_edge_value_cannot_break_portfolio_valuation(api, world, ingest_token):
    """Accounts stored before snapshots were bounded (equity 1E+30 passed as a finite
    decimal) are left out of the UNLIMITED fund instead of failing the valuation."""
    admin, investor = world("acme", "admin"), world("acme", "investor")
    await make_ready(investor)
    await invest_in_fund(
        api, world("acme", "manager"), investor, fund="UNLIMITED", amount="250000.00"
    )
    pid = await default_portfolio_id(api, investor)
    assert (
        await post_snapshot(api, ingest_token, snapshot(equity="1100000.00"))
    ).status_code == 200
    mapped = await api.gql(
        MAP,
        {"l": 886528, "s": "Broker-Live", "f": "UNLIMITED", "a": "1000000.00", "p": pid},
        token=admin.token,
    )
    assert mapped.ok()
    await Mt5Account.get_pymongo_collection().insert_one(
        {
            "tenant_id": PydanticObjectId(await tenant_of(investor)),
            "login": 1,
            "server": "Legacy",
            "currency": "USD",
            "leverage": 100,
            "balance": Decimal128("1E+30"),
            "equity": Decimal128("1E+30"),
            "margin": Decimal128("0"),
            "profit": Decimal128("0"),
            "time_msc": 1,
            "positions": [{"volume": "NaN", "symbol": None}],
            "fund_code": "UNLIMITED",
            "initial_allocation": Decimal128("1000000.00"),
        }
    )
    view = await api.gql(PORTFOLIO, {"id": pid}, token=investor.token)
    # the legacy account is left out: profit 100,000 of the mapped one, half to investors
    assert view.ok()["portfolio"]["investments"][0]["currentValue"] == "300000.00"
    too_large = await api.gql(
        MAP,
        {"l": 886528, "s": "Broker-Live", "f": "UNLIMITED", "a": "1E+30"},
        token=admin.token,
    )
    assert (too_large.code, too_large.errors[0]["extensions"]["field"]) == (
        "BAD_USER_INPUT",
        "initialAllocation",
    )
    assert Decimal(mapped.ok()["mapMt5Account"]["initialAllocation"]) == Decimal("1000000.00")
