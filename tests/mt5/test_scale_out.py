"""Two API processes on one real Redis (and one MongoDB): a tick posted to process A reaches
a subscriber on process B, and the single valuation worker's portfolio update reaches
subscribers on both."""

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import httpx
import pytest
from gql import Client, gql

from app.embedded import free_port
from tests.support.api import LOGIN
from tests.support.mt5 import tick
from tests.support.ws import transport

ADMIN_PASSWORD = "scale out admin passphrase"


def serve_env(mongo_url: str, redis_url: str, db_name: str, **settings: str) -> dict[str, str]:
    """Environment of a test `fidus serve` process: this machine's, without FIDUS_* set
    outside, plus the servers, a bootstrap ADMIN, cheap hashing and ``settings``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("FIDUS_")}
    env.update(
        MONGODB_URL=mongo_url,
        REDIS_URL=redis_url,
        FIDUS_DB_NAME=db_name,
        FIDUS_JWT_SECRET="test-process-secret-" + "x" * 20,
        FIDUS_BOOTSTRAP_TENANT="scale",
        FIDUS_BOOTSTRAP_EMAIL="admin@scale.test",
        FIDUS_BOOTSTRAP_PASSWORD=ADMIN_PASSWORD,
        FIDUS_ARGON2_MEMORY_KIB="1024",
        FIDUS_ARGON2_TIME_COST="1",
        FIDUS_LOG_LEVEL="WARNING",
        **settings,
    )
    return env


class ApiProcess:
    """``fidus serve`` on a free port: by default this checkout's; ``fidus`` may be another
    install's command (then ``cwd`` keeps the checkout off its path)."""

    def __init__(
        self,
        env: dict[str, str],
        log: Path,
        fidus: tuple[str, ...] = (sys.executable, "-m", "app.cli"),
        cwd: Path | None = None,
    ) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = log
        self.process = subprocess.Popen(
            [*fidus, "serve", "--port", str(self.port)],
            env=env,
            cwd=cwd,
            stdout=log.open("wb"),
            stderr=subprocess.STDOUT,
        )

    async def wait_ready(self, within: float = 60) -> None:
        deadline = time.monotonic() + within
        async with httpx.AsyncClient() as client:
            while time.monotonic() < deadline:
                assert self.process.poll() is None, self.log.read_text()
                with contextlib.suppress(httpx.HTTPError):
                    if (await client.get(f"{self.url}/health/ready")).status_code == 200:
                        return
                await asyncio.sleep(0.2)
        raise AssertionError(self.log.read_text())

    def stop(self) -> None:
        self.process.send_signal(signal.SIGINT)
        try:
            self.process.wait(20)
        except subprocess.TimeoutExpired:
            self.process.kill()


@pytest.fixture
async def two_processes(mongo_url, redis_url, tmp_path):
    env = serve_env(
        mongo_url,
        redis_url,
        f"fidus_scale_{uuid.uuid4().hex[:8]}",
        FIDUS_WORKER_LEASE_MS="2000",
    )
    first = ApiProcess(env, tmp_path / "a.log")
    await first.wait_ready()  # bootstraps the tenant before the second one starts
    second = ApiProcess(env, tmp_path / "b.log")
    await second.wait_ready()
    yield first, second
    first.stop()
    second.stop()


async def gql_post(client, url, query, variables=None, token=None):
    headers = {"authorization": f"Bearer {token}"} if token else {}
    response = await client.post(
        f"{url}/graphql", json={"query": query, "variables": variables}, headers=headers
    )
    body = response.json()
    assert not body.get("errors"), body
    return body["data"]


async def first_of(session, document, variables, action, accept=lambda item: True):
    """Subscribe, then repeat ``action`` until an accepted item arrives."""
    received: asyncio.Queue = asyncio.Queue()

    async def consume():
        async for item in session.subscribe(gql(document), variable_values=variables):
            await received.put(item)

    task = asyncio.create_task(consume())
    try:
        for attempt in range(40):
            await action(attempt)
            with contextlib.suppress(TimeoutError):
                item = await asyncio.wait_for(received.get(), 0.5)
                if accept(item):
                    return item
        raise AssertionError("nothing arrived")
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


UPDATES = "subscription($p: ID!) { portfolioUpdated(portfolioId: $p) { cash reason } }"


async def admin_with_portfolio(client, url: str, name: str) -> tuple[str, str]:
    """The bootstrap ADMIN's access token, and a new portfolio of theirs."""
    login = await gql_post(
        client,
        url,
        LOGIN,
        {"tenant": "scale", "email": "admin@scale.test", "password": ADMIN_PASSWORD},
    )
    admin = login["login"]["accessToken"]
    created = await gql_post(
        client, url, f'mutation {{ createPortfolio(name: "{name}") {{ id }} }}', token=admin
    )
    return admin, created["createPortfolio"]["id"]


async def deposit(client, url: str, admin: str, portfolio: str) -> None:
    await gql_post(
        client,
        url,
        "mutation($p: ID!, $k: String!) { recordTransaction(input: {portfolioId: "
        '$p, type: DEPOSIT, amount: "1.00", idempotencyKey: $k}) { id } }',
        {"p": portfolio, "k": uuid.uuid4().hex},
        token=admin,
    )


async def test_ticks_and_portfolio_updates_cross_processes(two_processes):
    a, b = two_processes
    async with httpx.AsyncClient(timeout=30) as client:
        admin, portfolio = await admin_with_portfolio(client, a.url, "P")
        token = (
            await gql_post(
                client,
                a.url,
                'mutation { createServiceToken(name: "b", scopes: ["mt5:ingest"]) { token } }',
                token=admin,
            )
        )["createServiceToken"]["token"]

        async def post_tick(attempt: int) -> None:
            response = await client.post(
                f"{a.url}/mt5/ticks",
                json={"ticks": [tick(bid=1.1 + attempt / 1000, ask=1.2)]},
                headers={"authorization": f"Bearer {token}"},
            )
            assert response.json()["accepted"] == 1

        async with Client(transport=transport(b.url, admin)) as on_b:
            got = await first_of(
                on_b, 'subscription { ticks(symbols: ["XAUUSD"]) { bid } }', {}, post_tick
            )
        assert got["ticks"]["bid"] >= 1.1

        async def deposit_on_a(attempt: int) -> None:
            await deposit(client, a.url, admin, portfolio)

        for url in (a.url, b.url):
            async with Client(transport=transport(url, admin)) as session:
                update = await first_of(
                    session,
                    UPDATES,
                    {"p": portfolio},
                    deposit_on_a,
                    lambda item: item["portfolioUpdated"]["reason"] == "TRANSACTION",
                )
                assert update["portfolioUpdated"]["cash"] != "0.00"


async def worker_state(client, process: ApiProcess) -> str:
    state: str = (await client.get(f"{process.url}/health/ready")).json()["checks"]["worker"]
    return state


@pytest.mark.parametrize("how", ["stopped", "killed"])
async def test_the_worker_fails_over_when_its_process_goes(two_processes, how):
    """A started first and holds the lease; B stands by. When A stops (releasing the lease)
    or is killed (the lease lapses), B's worker takes over and publishes."""
    a, b = two_processes
    async with httpx.AsyncClient(timeout=30) as client:
        assert (await worker_state(client, a), await worker_state(client, b)) == (
            "active",
            "standby",
        )
        admin, portfolio = await admin_with_portfolio(client, b.url, "F")
        gone = time.monotonic()
        if how == "killed":
            a.process.kill()  # SIGKILL: no chance to release the lease
            a.process.wait(10)
        else:
            a.stop()

        async def deposit_on_b(attempt: int) -> None:
            await asyncio.sleep(0.5)
            await deposit(client, b.url, admin, portfolio)

        async with Client(transport=transport(b.url, admin)) as session:
            update = await first_of(session, UPDATES, {"p": portfolio}, deposit_on_b)
        assert update["portfolioUpdated"]["reason"] == "TRANSACTION"
        assert await worker_state(client, b) == "active"
        print(f"worker failover after A {how}: first update on B {time.monotonic() - gone:.1f} s")
