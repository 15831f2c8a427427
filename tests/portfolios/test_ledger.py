"""The portfolio ledger: transactions derive cash and holdings, overdrafts and oversells are
refused, replays are idempotent, concurrent writes stay consistent; valuation and
visibility."""

import asyncio

from models.portfolios.records import Portfolio, Transaction
from tests.support.domain import invest_in_fund, make_ready, set_price
from tests.support.portfolios import MINE, PORTFOLIO, default_portfolio_id, record


async def test_every_investor_has_a_default_portfolio(api, world):
    investor = world("acme", "investor")
    first = (await api.gql(MINE, token=investor.token)).ok()["myPortfolios"]
    again = (await api.gql(MINE, token=investor.token)).ok()["myPortfolios"]
    assert first == again
    assert len(first) == 1
    assert (first[0]["name"], first[0]["cash"], first[0]["baseCurrency"]) == ("Main", "0.00", "USD")
    created = await api.gql(
        'mutation { createPortfolio(name: "Growth", baseCurrency: "eur") { id baseCurrency } }',
        token=investor.token,
    )
    assert created.ok()["createPortfolio"]["baseCurrency"] == "EUR"
    assert len((await api.gql(MINE, token=investor.token)).ok()["myPortfolios"]) == 2


async def test_ledger_derives_cash_and_holdings(api, world, runtime):
    manager, investor = world("acme", "manager"), world("acme", "investor")
    pid = await default_portfolio_id(api, investor)
    assert (await record(api, manager, pid, "DEPOSIT", "d1", amount="10000.00")).ok()
    assert (
        await record(api, manager, pid, "BUY", "b1", symbol="XAUUSD", quantity="2", price="2000.10")
    ).ok()["recordTransaction"]["amount"] == "4000.20"
    assert (
        await record(api, manager, pid, "BUY", "b2", symbol="XAUUSD", quantity="1", price="2100.00")
    ).ok()
    assert (
        await record(
            api, manager, pid, "SELL", "s1", symbol="XAUUSD", quantity="1.5", price="2200.00"
        )
    ).ok()
    assert (await record(api, manager, pid, "FEE", "f1", amount="10.00")).ok()
    assert (await record(api, manager, pid, "DISTRIBUTION", "i1", amount="5.25")).ok()
    assert (
        await record(api, manager, pid, "BUY", "b3", symbol="EURUSD", quantity="1000", price="1.08")
    ).ok()
    # cash: 10000 − 4000.20 − 2100 + 3300 − 10 + 5.25 − 1080 = 6115.05
    view = (await api.gql(PORTFOLIO, {"id": pid}, token=investor.token)).ok()["portfolio"]
    assert view["cash"] == "6115.05"
    holdings = {h["symbol"]: h for h in view["holdings"]}
    assert holdings["XAUUSD"]["quantity"] == "1.5"
    assert holdings["XAUUSD"]["averageCost"] == "2033.40000000"  # (4000.20 + 2100) / 3
    # never-seen symbols are valued at cost
    assert holdings["XAUUSD"]["lastPrice"] is None
    assert holdings["XAUUSD"]["marketValue"] == "3050.10"
    assert view["marketValue"] == "4130.10"
    # a tick arrives: longs are marked at the bid
    await set_price(runtime, investor, "XAUUSD", 2300.0, 2300.5)
    view = (await api.gql(PORTFOLIO, {"id": pid}, token=investor.token)).ok()["portfolio"]
    holdings = {h["symbol"]: h for h in view["holdings"]}
    assert (holdings["XAUUSD"]["lastPrice"], holdings["XAUUSD"]["marketValue"]) == (
        2300.0,
        "3450.00",
    )
    assert view["marketValue"] == "4530.00"
    assert view["totalValue"] == "10645.05"
    snapshot = await Portfolio.get(pid)
    assert snapshot.version == 7


async def test_overdrafts_and_oversells_are_conflicts(api, world):
    manager, investor = world("acme", "manager"), world("acme", "investor")
    pid = await default_portfolio_id(api, investor)
    await record(api, manager, pid, "DEPOSIT", "d1", amount="100.00")
    cases = [
        ("WITHDRAWAL", {"amount": "100.01"}),
        ("FEE", {"amount": "500.00"}),
        ("BUY", {"symbol": "AAPL", "quantity": "1", "price": "100.01"}),
        ("SELL", {"symbol": "AAPL", "quantity": "1", "price": "1"}),
    ]
    for i, (kind, fields) in enumerate(cases):
        result = await record(api, manager, pid, kind, f"bad{i}", **fields)
        assert result.code == "CONFLICT", (kind, result.body)
    assert await Transaction.find({}).count() == 1
    assert str((await Portfolio.get(pid)).cash) == "100.00"


async def test_transaction_shape_is_validated(api, world):
    manager = world("acme", "manager")
    pid = await default_portfolio_id(api, world("acme", "investor"))
    cases = [
        ("DEPOSIT", {}, "amount"),
        ("DEPOSIT", {"amount": "-1"}, "amount"),
        ("DEPOSIT", {"amount": "1", "symbol": "X"}, "symbol"),
        ("BUY", {"quantity": "1", "price": "1"}, "symbol"),
        ("BUY", {"symbol": "bad symbol", "quantity": "1", "price": "1"}, "symbol"),
        ("BUY", {"symbol": "X", "quantity": "0", "price": "1"}, "quantity"),
        ("BUY", {"symbol": "X", "quantity": "0.000000001", "price": "1"}, "quantity"),
        ("SELL", {"symbol": "X", "quantity": "1"}, "price"),
        ("DEPOSIT", {"amount": "1.001"}, "amount"),
    ]
    for i, (kind, fields, field) in enumerate(cases):
        result = await record(api, manager, pid, kind, f"k{i}", **fields)
        assert (result.code, result.errors[0]["extensions"].get("field")) == (
            "BAD_USER_INPUT",
            field,
        )
    empty_key = await record(api, manager, pid, "DEPOSIT", " ", amount="1")
    assert empty_key.errors[0]["extensions"]["field"] == "idempotencyKey"
    assert (
        await record(api, manager, "bogus", "DEPOSIT", "k", amount="1")
    ).code == "BAD_USER_INPUT"


async def test_replays_are_idempotent_and_keys_cannot_be_reused(api, world):
    manager = world("acme", "manager")
    pid = await default_portfolio_id(api, world("acme", "investor"))
    results = await asyncio.gather(
        *[record(api, manager, pid, "DEPOSIT", "same", amount="50.00") for _ in range(5)]
    )
    assert len({r.ok()["recordTransaction"]["id"] for r in results}) == 1
    assert str((await Portfolio.get(pid)).cash) == "50.00"
    reused = await record(api, manager, pid, "DEPOSIT", "same", amount="60.00")
    assert (reused.code, reused.errors[0]["extensions"]["field"]) == ("CONFLICT", "idempotencyKey")


async def test_concurrent_writes_keep_the_snapshot_exact(api, world):
    manager = world("acme", "manager")
    pid = await default_portfolio_id(api, world("acme", "investor"))
    deposits = await asyncio.gather(
        *[record(api, manager, pid, "DEPOSIT", f"d{i}", amount="10.00") for i in range(10)]
    )
    assert all(not r.errors for r in deposits)
    withdrawals = await asyncio.gather(
        *[record(api, manager, pid, "WITHDRAWAL", f"w{i}", amount="30.00") for i in range(6)]
    )
    assert sum(1 for r in withdrawals if not r.errors) == 3  # 100.00 of cash covers three
    snapshot = await Portfolio.get(pid)
    ledger = await Transaction.find({"portfolio_id": snapshot.id}).to_list()
    assert str(snapshot.cash) == "10.00"
    assert (
        sum(t.amount if t.type.value == "DEPOSIT" else -t.amount for t in ledger) == snapshot.cash
    )


async def test_only_staff_record_and_only_insiders_see(api, world):
    investor = world("acme", "investor")
    pid = await default_portfolio_id(api, investor)
    for member, code in [
        (investor, "FORBIDDEN"),
        (world("acme", "analyst"), "FORBIDDEN"),
        (world("globex", "admin"), "NOT_FOUND"),
    ]:
        assert (await record(api, member, pid, "DEPOSIT", "x", amount="1")).code == code
    for outsider in (world("acme", "investor2"), world("globex", "manager")):
        assert (await api.gql(PORTFOLIO, {"id": pid}, token=outsider.token)).code == "NOT_FOUND"
    for insider in (world("acme", "analyst"), world("acme", "admin")):
        assert (await api.gql(PORTFOLIO, {"id": pid}, token=insider.token)).ok()


async def test_investments_appear_with_their_current_value(api, world):
    investor = world("acme", "investor")
    await make_ready(investor)
    await invest_in_fund(api, world("acme", "manager"), investor, deposit="2020-01-15")
    pid = await default_portfolio_id(api, investor)
    view = (await api.gql(PORTFOLIO, {"id": pid}, token=investor.token)).ok()["portfolio"]
    [investment] = view["investments"]
    assert investment["currentValue"] == "11800.00"  # matured: principal + all interest
    assert view["totalValue"] == "11800.00"
    page = view["transactions"]
    assert page["edges"] == [] and page["pageInfo"]["hasNextPage"] is False
