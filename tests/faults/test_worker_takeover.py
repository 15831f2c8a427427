"""The process running the valuation worker SIGKILLed while another process stands by for
its lease: a deposit recorded in the gap (the dead process's lease has not lapsed, so no
worker runs anywhere) is pushed as ``portfolioUpdated`` once the standby takes over."""

import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from gql import gql
from redis import asyncio as aioredis

from resolvers.portfolios.valuation_worker import LOCK_KEY
from tests.faults.stack import DEPOSIT, Ledger, Stack, fault_stack, until, update_with_cash
from tests.support.api_process import UPDATES, ApiProcess, admin_with_portfolio, gql_post
from tests.support.ws import streaming

LEASE_MS = 3000


@pytest.fixture
async def takeover(tmp_path: Path) -> AsyncIterator[tuple[Stack, ApiProcess]]:
    """The stack's process (started first, so it holds the worker's lease) and a standby."""
    async with fault_stack(tmp_path, FIDUS_WORKER_LEASE_MS=str(LEASE_MS)) as stack:
        standby = await stack.start_api(tmp_path / "standby.log")
        yield stack, standby


async def worker_state(client: httpx.AsyncClient, api: ApiProcess) -> str:
    state: str = (await client.get(f"{api.url}/health/ready")).json()["checks"]["worker"]
    return state


async def deposit(client: httpx.AsyncClient, api: ApiProcess, admin: str, ledger: Ledger) -> None:
    key = ledger.new_key()
    variables = {"p": ledger.portfolio, "k": key, "a": str(ledger.amounts[key])}
    await gql_post(client, api.url, DEPOSIT, variables, token=admin)


async def test_a_deposit_recorded_during_a_worker_takeover_is_pushed(
    takeover: tuple[Stack, ApiProcess],
):
    stack, standby = takeover
    assert await worker_state(stack.client, stack.api) == "active"
    assert await worker_state(stack.client, standby) == "standby"
    admin, portfolio = await admin_with_portfolio(stack.client, standby.url, "Takeover")
    ledger = Ledger(portfolio)
    redis: Any = aioredis.Redis.from_url(stack.redis.url)
    lease = f"{stack.db_name}:{LOCK_KEY}"
    async with streaming(standby.url, admin, gql(UPDATES), {"p": portfolio}) as updates:
        try:
            # the worker of the first process values a deposit made on the standby
            await deposit(stack.client, standby, admin, ledger)
            await until(
                lambda: update_with_cash(updates, ledger.total), 15, "an update before the fault"
            )
            holder = await redis.get(lease)
            assert holder is not None

            killed = time.monotonic()
            stack.api.process.kill()  # SIGKILL: the lease is not released
            stack.api.process.wait(10)
            await deposit(stack.client, standby, admin, ledger)
            recorded = time.monotonic()
            # nobody had taken the dead process's lease yet: no worker saw that deposit
            assert await redis.get(lease) == holder

            await until(lambda: update_with_cash(updates, ledger.total), 30, "the deposit's update")
            arrived = time.monotonic()
            assert await worker_state(stack.client, standby) == "active"
            print(
                f"\nworker SIGKILL (lease {LEASE_MS} ms): deposit recorded "
                f"{recorded - killed:.2f} s after the kill; its portfolioUpdated arrived "
                f"{arrived - recorded:.2f} s later ({arrived - killed:.2f} s after the kill)"
            )
        finally:
            await redis.aclose()
