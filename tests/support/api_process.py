"""`fidus serve` as a real process on servers a test gives it (the session's SecantusDB and
redis-server, or a fault stack's), with a bootstrap ADMIN; two of them on the session's
servers (``two_processes``); and plain GraphQL posts to such a process."""

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

from app.embedded import free_port
from tests.support.api import LOGIN

ADMIN_PASSWORD = "scale out admin passphrase"
UPDATES = "subscription($p: ID!) { portfolioUpdated(portfolioId: $p) { cash reason } }"


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
