"""`fidus demo`: a tenant seeded through the use cases (seen through GraphQL as the
investor and the ADMIN whose passwords it prints), idempotent when run again, and, as a
real process on the embedded database, ticks and portfolio values moving at once."""

import re
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path

from app.demo_data import INVESTORS, PROSPECTS, seed_demo
from app.embedded import free_port
from models.crm import Prospect
from models.documents.records import DocumentRecord
from models.events import Event
from models.investments import Investment
from models.opportunities import Opportunity
from models.portfolios.records import Portfolio, Transaction
from models.users import User
from tests.support.api import LOGIN
from tests.support.served import Served, served_env
from tests.support.ws import Socket

INVESTOR_VIEW = """{
  myPortfolios { id name cash holdings { symbol quantity averageCost }
    investments { fundCode amount status depositDate } }
  opportunities(status: OPEN) { edges { node { name status minimumInvestment } } }
  events { edges { node { title status isVirtual } } }
}"""
ADMIN_VIEW = """{
  prospects(first: 50) { edges { node { fullName stage owner { role } } } }
  pipeline { stage count }
  users(role: INVESTOR, first: 50) { edges { node { email kycStatus } } }
}"""
TICKS = 'subscription { ticks(symbols: ["EURUSD"]) { symbol bid ask } }'
UPDATES = "subscription($p: ID!) { portfolioUpdated(portfolioId: $p) { totalValue reason } }"
LEDGER = "{ myPortfolios { holdings { symbol } transactions { edges { node { id type } } } } }"
CREDENTIALS = re.compile(r"ADMIN\s+(\S+)\s+(\S+)\n\s+INVESTOR\s+(\S+)\s+(\S+)")
COLLECTIONS = (User, Investment, Portfolio, Transaction, Prospect, Opportunity, Event)


async def counts() -> dict[str, int]:
    found = {model.__name__: await model.find({}).count() for model in COLLECTIONS}
    found["Document"] = await DocumentRecord.find({}).count()
    return found


async def test_seeding_fills_a_tenant_once(api, runtime):
    demo = await seed_demo(runtime.services, "demo")
    investor = await api.login("demo", demo.investor.email, demo.investor.password)
    admin = await api.login("demo", demo.admin.email, demo.admin.password)
    assert (investor["user"]["role"], admin["user"]["role"]) == ("INVESTOR", "ADMIN")

    seen = (await api.gql(INVESTOR_VIEW, token=investor["accessToken"])).ok()
    [main] = seen["myPortfolios"]
    spec = INVESTORS[0]
    assert main["id"] == demo.portfolio_id
    held = {h["symbol"]: h for h in main["holdings"]}
    assert set(held) == {h.symbol for h in spec.holdings}
    for holding in spec.holdings:  # bought at their cost price, through the ledger
        assert Decimal(held[holding.symbol]["quantity"]) == Decimal(holding.quantity)
        assert Decimal(held[holding.symbol]["averageCost"]) == Decimal(holding.price)
    spent = sum(Decimal(h.quantity) * Decimal(h.price) for h in spec.holdings)
    assert Decimal(main["cash"]) == Decimal(spec.cash) - spent
    funds = {i["fundCode"]: i for i in main["investments"]}
    assert set(funds) == {"CORE", "BALANCE"}
    assert all(i["depositDate"] < str(runtime.services.clock().date()) for i in funds.values())
    assert [Decimal(funds[f]["amount"]) for f in ("CORE", "BALANCE")] == [
        Decimal(amount) for _, amount, _ in spec.funds
    ]
    assert [o["node"]["status"] for o in seen["opportunities"]["edges"]] == ["OPEN"]
    [event] = [e["node"] for e in seen["events"]["edges"]]
    assert (event["status"], event["isVirtual"]) == ("PUBLISHED", True)

    staff = (await api.gql(ADMIN_VIEW, token=admin["accessToken"])).ok()
    stages = {p["node"]["fullName"]: p["node"]["stage"] for p in staff["prospects"]["edges"]}
    assert stages == {name: stage.value for name, _, stage in PROSPECTS}
    assert {p["node"]["owner"]["role"] for p in staff["prospects"]["edges"]} == {"MANAGER"}
    pipeline = {row["stage"]: row["count"] for row in staff["pipeline"]}
    assert sum(1 for count in pipeline.values() if count) >= 4
    investors = [u["node"] for u in staff["users"]["edges"]]
    assert len(investors) == len(INVESTORS)
    assert {u["kycStatus"] for u in investors} == {"APPROVED"}

    before = await counts()
    again = await seed_demo(runtime.services, "demo")
    assert await counts() == before  # nothing twice
    assert again.investor.password != demo.investor.password
    old = {"tenant": "demo", "email": demo.investor.email, "password": demo.investor.password}
    assert (await api.gql(LOGIN, old)).code == "UNAUTHENTICATED"
    assert (await api.gql("{ me { id } }", token=admin["accessToken"])).code == "UNAUTHENTICATED"
    assert await api.login("demo", again.admin.email, again.admin.password)


class Demo(Served):
    """`fidus demo` as a real process on the embedded database (as Served runs serve)."""

    def __init__(self, data_dir: Path) -> None:
        argv = [sys.executable, "-m", "app.cli", "demo", "--rate", "20", "--seed", "4"]
        super().__init__(data_dir, argv, FIDUS_LOG_FORMAT="text")

    def credentials(self, timeout: float = 120) -> tuple[str, str, str, str]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.process.poll() is None, self.output()
            found = CREDENTIALS.search(self.output())
            if found:
                admin_email, admin_password, email, password = found.groups()
                return admin_email, admin_password, email, password
            time.sleep(0.2)
        raise AssertionError(f"no credentials: {self.output()}")


def login(demo: Demo, email: str, password: str) -> str:
    answer = demo.gql(LOGIN, {"tenant": "demo", "email": email, "password": password})
    assert "errors" not in answer, answer
    return str(answer["data"]["login"]["accessToken"])


async def test_the_demo_process_moves_ticks_and_portfolios_at_once(tmp_path):
    data_dir = tmp_path / "fidus-data"
    demo = Demo(data_dir)
    try:
        _, _, email, password = demo.credentials()
        assert f"Open {demo.url}/graphql" in demo.output()
        assert "Created tenant 'demo'" not in demo.output()  # no password that is replaced
        token = login(demo, email, password)
        [portfolio] = demo.gql("{ myPortfolios { id } }", token=token)["data"]["myPortfolios"]
        socket = await Socket.open(demo.url, token)
        try:
            await socket.subscribe("t", TICKS)
            await socket.subscribe("p", UPDATES, {"p": portfolio["id"]})
            seen: dict[str, dict] = {}
            for _ in range(10_000):  # ticks flow at 20/s; a TICK update follows within 250 ms
                if len(seen) == 2:
                    break
                frame = await socket.next(30)
                assert frame["type"] == "next", frame
                data = frame["payload"]["data"]
                if frame["id"] == "t" or data["portfolioUpdated"]["reason"] == "TICK":
                    seen.setdefault(frame["id"], data)
        finally:
            await socket.close()
        tick = seen["t"]["ticks"]
        assert tick["symbol"] == "EURUSD" and 1.0 < tick["bid"] < tick["ask"] < 1.2
        assert Decimal(seen["p"]["portfolioUpdated"]["totalValue"]) > Decimal("100000")
        ledger = demo.gql(LEDGER, token=token)["data"]
    finally:
        demo.stop()
    assert demo.process.returncode == 0, demo.output()
    assert "Traceback" not in demo.output() and "ERROR" not in demo.output(), demo.output()

    again = Demo(data_dir)  # the same data: nothing added twice, new passwords
    try:
        admin_email, admin_password, email_again, password_again = again.credentials()
        assert email_again == email and password_again != password
        old = again.gql(LOGIN, {"tenant": "demo", "email": email, "password": password})
        assert old["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
        token = login(again, email_again, password_again)
        assert again.gql(LEDGER, token=token)["data"] == ledger
        staff = again.gql(ADMIN_VIEW, token=login(again, admin_email, admin_password))["data"]
        assert len(staff["prospects"]["edges"]) == len(PROSPECTS)
        assert len(staff["users"]["edges"]) == len(INVESTORS)
    finally:
        again.stop()


def test_the_demo_stays_off_a_configured_database(tmp_path, mongo_url):
    env = served_env(tmp_path / "data", free_port(), MONGODB_URL=mongo_url)
    done = subprocess.run(
        [sys.executable, "-m", "app.cli", "demo"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2, done.stdout
    assert "embedded database only (unset MONGODB_URL)" in done.stderr
    assert not (tmp_path / "data").exists()
