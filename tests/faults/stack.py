"""A Fidus deployment of real processes that a test may break: SecantusDB (killed and
restarted on the same port and data dir), redis-server (likewise) and one ``fidus serve``."""

import asyncio
import contextlib
import shutil
import signal
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
from bson import ObjectId
from pymongo import MongoClient

from app.embedded import EmbeddedMongo, free_port
from tests.support.api_process import ApiProcess, serve_env
from tests.support.servers import RedisProcess

# a request during an outage fails after about this (FIDUS_MONGO_TIMEOUT_MS)
MONGO_TIMEOUT_MS = 2000
DEPOSIT = (
    "mutation($p: ID!, $k: String!, $a: Decimal!) { recordTransaction(input: {portfolioId: $p,"
    " type: DEPOSIT, amount: $a, idempotencyKey: $k}) { id amount } }"
)


class RestartableMongo(EmbeddedMongo):
    """SecantusDB on a fixed port with a durable journal (as ``fidus serve`` runs it), and
    its test commands on (``configureFailPoint``: a test may hold one client's command)."""

    def __init__(self, data_dir: Path) -> None:
        super().__init__(data_dir, port=free_port(), sync_on_commit=True)
        data_dir.mkdir(parents=True, exist_ok=True)
        (data_dir / "secantusd.toml").write_text("[server]\nenable_test_commands = true\n")

    def kill(self) -> None:
        """SIGKILL: no shutdown, no checkpoint; the journal is all that is left."""
        process, self._process = self._process, None
        assert process is not None
        process.send_signal(signal.SIGKILL)
        process.wait(10)

    def pause(self) -> None:
        """SIGSTOP: connections stay open, nothing is answered until ``resume``."""
        assert self._process is not None
        self._process.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        assert self._process is not None
        self._process.send_signal(signal.SIGCONT)


class KillableRedis(RedisProcess):
    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)
        self.process = None


@dataclass
class Stack:
    mongo: RestartableMongo
    redis: KillableRedis
    api: ApiProcess
    db_name: str
    client: httpx.AsyncClient = field(default_factory=lambda: httpx.AsyncClient(timeout=30))
    env: dict[str, str] = field(default_factory=dict)  # of the ``fidus serve`` processes
    more_apis: list[ApiProcess] = field(default_factory=list)

    @property
    def url(self) -> str:
        return self.api.url

    async def gql(self, query: str, variables: dict[str, Any], token: str) -> dict[str, Any]:
        response = await self.client.post(
            f"{self.url}/graphql",
            json={"query": query, "variables": variables},
            headers={"authorization": f"Bearer {token}"},
        )
        body: dict[str, Any] = response.json()
        return body

    async def start_api(self, log: Path) -> ApiProcess:
        """Another ``fidus serve`` on the same servers and settings (stopped with the stack)."""
        api = ApiProcess(self.env, log)
        self.more_apis.append(api)
        await api.wait_ready()
        return api

    async def ready(self) -> httpx.Response:
        return await self.client.get(f"{self.url}/health/ready", timeout=10)

    async def seconds_until_ready(self, status: int, within: float = 30) -> float:
        """Poll readiness until it answers ``status``; how long that took."""
        started = time.monotonic()
        while time.monotonic() - started < within:
            if (await self.ready()).status_code == status:
                return time.monotonic() - started
            await asyncio.sleep(0.1)
        raise AssertionError(f"readiness did not turn {status} within {within} s")

    def database(self) -> Any:
        client: MongoClient[dict[str, Any]] = MongoClient(
            self.mongo.url, serverSelectionTimeoutMS=10_000
        )
        return client[self.db_name]


@contextlib.asynccontextmanager
async def fault_stack(log_dir: Path, **settings: str) -> Any:
    """The servers, and one ``fidus serve`` with these ``settings`` (FIDUS_* variables) on
    top of the stack's own."""
    data_dir = Path(tempfile.mkdtemp(prefix="fidus-faults-"))
    mongo = RestartableMongo(data_dir)
    redis = KillableRedis()
    api: ApiProcess | None = None
    try:
        await asyncio.to_thread(mongo.start)
        await asyncio.to_thread(redis.start)
        db_name = f"fidus_faults_{uuid.uuid4().hex[:8]}"
        env = serve_env(
            mongo.url,
            redis.url,
            db_name,
            FIDUS_MONGO_TIMEOUT_MS=str(MONGO_TIMEOUT_MS),
            FIDUS_MUTATIONS_PER_MINUTE_PER_USER="100000",
            FIDUS_MUTATIONS_PER_MINUTE_PER_ADDRESS="100000",
            FIDUS_WEBHOOK_DISPATCHER="false",
        )
        env.update(settings)
        api = ApiProcess(env, log_dir / "fidus.log")
        await api.wait_ready()
        stack = Stack(mongo, redis, api, db_name, env=env)
        try:
            yield stack
        finally:
            await stack.client.aclose()
            for more in stack.more_apis:
                more.stop()
    finally:
        if api is not None:
            api.stop()
        redis.stop()
        mongo.stop()
        shutil.rmtree(data_dir, ignore_errors=True)


@dataclass
class Ledger:
    """Deposits by idempotency key: the amount asked, and the last outcome."""

    portfolio: str
    amounts: dict[str, Decimal] = field(default_factory=dict)
    failures: dict[str, dict[str, Any]] = field(default_factory=dict)  # key → last error

    def new_key(self) -> str:
        key = uuid.uuid4().hex
        self.amounts[key] = Decimal(len(self.amounts) + 1) / 100 + 1
        return key

    async def deposit(self, stack: Stack, token: str, key: str) -> dict[str, Any]:
        started = time.monotonic()
        try:
            body = await stack.gql(
                DEPOSIT, {"p": self.portfolio, "k": key, "a": str(self.amounts[key])}, token
            )
        except httpx.TimeoutException:  # reported by the test as an unexpected failure
            took = time.monotonic() - started
            body = {"errors": [{"message": f"no answer within {took:.0f} s (client timeout)"}]}
        if body.get("errors"):
            self.failures[key] = body["errors"][0]
        else:
            self.failures.pop(key, None)
        return body

    @property
    def total(self) -> Decimal:
        return sum(self.amounts.values(), Decimal(0))


def assert_ledger_is_exact(stack: Stack, ledger: Ledger, portfolio: str) -> None:
    """What the database holds matches ``ledger``: one entry per idempotency key with its
    amount, the portfolio's cash their sum and its version their count."""
    db = stack.database()
    entries = list(db.transactions.find({"portfolio_id": ObjectId(portfolio)}))
    keys = [entry["idempotency_key"] for entry in entries]
    assert len(keys) == len(set(keys)), "an idempotency key was written twice"
    assert set(keys) == set(ledger.amounts), "a deposit is missing or unknown"
    assert {e["idempotency_key"]: e["amount"].to_decimal() for e in entries} == ledger.amounts
    snapshot = db.portfolios.find_one({"_id": ObjectId(portfolio)})
    assert snapshot["cash"].to_decimal() == ledger.total
    assert snapshot["version"] == len(entries)
    db.client.close()


async def keep_depositing(
    stack: Stack, token: str, ledger: Ledger, stop: asyncio.Event, concurrency: int = 3
) -> None:
    """Concurrent deposits with fresh keys until ``stop`` is set."""

    async def lane() -> None:
        while not stop.is_set():
            await ledger.deposit(stack, token, ledger.new_key())
            await asyncio.sleep(0.05)

    await asyncio.gather(*(lane() for _ in range(concurrency)))


async def update_with_cash(updates: asyncio.Queue[dict[str, Any]], total: Decimal) -> bool:
    """Whether a ``portfolioUpdated`` with this cash has arrived on ``updates`` (those before
    it are consumed): a poll for ``until``."""
    while not updates.empty():
        if Decimal(updates.get_nowait()["cash"]) == total:
            return True
    return False


async def until(predicate: Callable[[], Awaitable[bool]], within: float, what: str) -> None:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if await predicate():
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"{what}: not within {within} s")
