"""Returns (simple and time-weighted) and monthly statement figures on a hand-computed
ledger; holdings are marked at the last trade price known at each moment."""

from tests.support.portfolios import default_portfolio_id, record

RETURNS = """query($id: ID!, $f: Date!, $t: Date) { portfolio(id: $id) {
  returns(from: $f, to: $t) { start end openingValue closingValue netFlows simpleReturn
    timeWeightedReturn } } }"""
STATEMENT = """query($id: ID!, $m: String!) { portfolio(id: $id) { statement(month: $m) {
  month openingValue closingValue deposits withdrawals income fees
  holdings { symbol quantity averageCost } } } }"""


async def ledger(api, world):
    manager, investor = world("acme", "manager"), world("acme", "investor")
    pid = await default_portfolio_id(api, investor)
    rows = [
        ("DEPOSIT", "2026-01-05", {"amount": "10000.00"}),
        ("BUY", "2026-01-10", {"symbol": "X", "quantity": "10", "price": "100"}),
        ("BUY", "2026-02-01", {"symbol": "X", "quantity": "10", "price": "110"}),
        ("DEPOSIT", "2026-02-15", {"amount": "5000.00"}),
        ("INTEREST", "2026-02-20", {"amount": "50.00"}),
        ("FEE", "2026-02-25", {"amount": "20.00"}),
        ("SELL", "2026-03-05", {"symbol": "X", "quantity": "5", "price": "120"}),
    ]
    for i, (kind, day, fields) in enumerate(rows):
        result = await record(
            api, manager, pid, kind, f"row{i}", occurredAt=f"{day}T10:00:00Z", **fields
        )
        assert not result.errors, result.errors
    return pid, investor


async def test_monthly_statement(api, world):
    pid, investor = await ledger(api, world)
    result = await api.gql(STATEMENT, {"id": pid, "m": "2026-02"}, token=investor.token)
    statement = result.ok()["portfolio"]["statement"]
    assert statement == {
        "month": "2026-02",
        "openingValue": "10000.00",  # 9000 cash + 10 X marked at 100
        "closingValue": "15130.00",  # 7930 + 5000 + 50 − 20 ... + 20 X marked at 110
        "deposits": "5000.00",
        "withdrawals": "0.00",
        "income": "50.00",
        "fees": "20.00",
        "holdings": [{"symbol": "X", "quantity": "20", "averageCost": "105.00000000"}],
    }
    bad = await api.gql(STATEMENT, {"id": pid, "m": "2026-13"}, token=investor.token)
    assert (bad.code, bad.errors[0]["extensions"]["field"]) == ("BAD_USER_INPUT", "month")


async def test_simple_and_time_weighted_returns(api, world):
    pid, investor = await ledger(api, world)
    result = await api.gql(
        RETURNS, {"id": pid, "f": "2026-02-01", "t": "2026-02-28"}, token=investor.token
    )
    returns = result.ok()["portfolio"]["returns"]
    assert returns["openingValue"] == "10000.00"
    assert returns["closingValue"] == "15130.00"
    assert returns["netFlows"] == "5000.00"
    # gain 130 on 15,000 invested
    assert returns["simpleReturn"] == "0.008667"
    # (10100 / 10000) × (15130 / 15100) − 1: the deposit does not count as performance
    assert returns["timeWeightedReturn"] == "0.012007"
    backwards = await api.gql(
        RETURNS, {"id": pid, "f": "2026-03-01", "t": "2026-02-01"}, token=investor.token
    )
    assert (backwards.code, backwards.errors[0]["extensions"]["field"]) == ("BAD_USER_INPUT", "to")


async def test_empty_period_has_no_return(api, world):
    investor = world("acme", "investor")
    pid = await default_portfolio_id(api, investor)
    result = await api.gql(
        RETURNS, {"id": pid, "f": "2026-01-01", "t": "2026-01-31"}, token=investor.token
    )
    returns = result.ok()["portfolio"]["returns"]
    assert (returns["simpleReturn"], returns["timeWeightedReturn"]) == (None, None)
