"""Client toolchains (Node projects under tests/clients/node, installed by scripts/node-setup
with their lockfiles), Debian's Chromium for the browser test, and a server started from
the installed wheel for it."""

import asyncio
import contextlib
import json
import os
import shutil
import subprocess
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest

from app.settings import Settings
from tests.support.api import Api
from tests.support.api_process import ApiProcess, serve_env
from tests.support.packaging import InstalledWheel

ROOT = Path(__file__).resolve().parents[2]
NODE_DIR = Path(__file__).parent / "node"
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = Path(os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"))


@pytest.fixture(scope="session")
def node_projects() -> Path:
    """npm ci of every pinned Node project (no-ops when up to date); GraphiQL's committed
    bundle is left as it is: tests/clients/test_graphiql_bundle.py checks it."""
    assert shutil.which("node") and shutil.which("npm"), "Node.js 20+ and npm are needed"
    setup = subprocess.run(
        [str(ROOT / "scripts" / "node-setup"), "projects"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert setup.returncode == 0, f"scripts/node-setup failed:\n{setup.stdout}\n{setup.stderr}"
    return NODE_DIR


@pytest.fixture(scope="module")
async def wheel_server(
    installed_wheel: InstalledWheel, settings: Settings, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[ApiProcess]:
    """``fidus serve`` of the wheel installed in a fresh venv, run from outside the checkout,
    on this session's database and Redis with its JWT secret, so the test's users, tokens
    and ticks work on it as on the session's app (which alone runs the valuation worker and
    the webhook dispatcher)."""
    assert settings.mongodb_url and settings.redis_url and settings.jwt_secret
    env = serve_env(
        settings.mongodb_url,
        settings.redis_url,
        settings.db_name,
        FIDUS_GRAPHIQL="true",
        FIDUS_WORKER="false",
        FIDUS_WEBHOOK_DISPATCHER="false",
        FIDUS_MUTATIONS_PER_MINUTE_PER_USER="100000",
        FIDUS_MUTATIONS_PER_MINUTE_PER_ADDRESS="100000",
    )
    env["FIDUS_JWT_SECRET"] = settings.jwt_secret.get_secret_value()
    # no bootstrap tenant in the session's database; nothing that could import the checkout
    for name in [*(k for k in env if k.startswith("FIDUS_BOOTSTRAP_")), "PYTHONPATH", "PYTHONHOME"]:
        env.pop(name, None)
    log = tmp_path_factory.mktemp("wheel-serve") / "fidus.log"
    server = ApiProcess(
        env, log, fidus=(str(installed_wheel.fidus),), cwd=installed_wheel.elsewhere
    )
    try:
        await server.wait_ready()
        yield server
    finally:
        server.stop()


@pytest.fixture(params=["checkout", "wheel"])
def served(request: pytest.FixtureRequest, api: Api) -> Api:
    """The server under test: the session's app (this checkout), or ``fidus serve`` of the
    installed wheel (``wheel_server``)."""
    if request.param == "checkout":
        return api
    server: ApiProcess = request.getfixturevalue("wheel_server")
    return Api(server.url, api.client, settle=api.settle)


@pytest.fixture(scope="session")
def chromium() -> Path:
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(
            f"Debian's Chromium is not installed at {CHROMIUM}: run scripts/install-browser "
            "(apt-get install chromium) or set CHROMIUM_PATH; CI's .ci/run installs it",
            pytrace=False,
        )
    return CHROMIUM


class NodeScript:
    """A Node script printing JSON lines, read one at a time."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process
        self.seen: list[dict] = []

    @classmethod
    async def start(cls, script: Path, *args: str, env: dict[str, str] | None = None):
        process = await asyncio.create_subprocess_exec(
            "node",
            str(script),
            *args,
            cwd=script.parent,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env={**os.environ, **(env or {})},
        )
        return cls(process)

    async def line(self, within: float = 30) -> dict:
        try:
            raw = await asyncio.wait_for(self.process.stdout.readline(), within)
        except TimeoutError:
            message = f"no line from the Node script in {within} s; seen {self.seen}"
            raise AssertionError(message) from None
        if not raw:
            stderr = (await self.process.stderr.read()).decode()
            raise AssertionError(f"the Node script ended; seen {self.seen}\n{stderr}")
        line = json.loads(raw)
        if "error" in line:
            raise AssertionError(f"the Node script failed:\n{json.dumps(line, indent=1)}")
        self.seen.append(line)
        return line

    async def until(self, key: str, within: float = 30) -> dict:
        while True:
            line = await self.line(within)
            if key in line:
                return line

    async def until_while(
        self, key: str, action: Callable[[int], Awaitable[object]], attempts: int = 40
    ) -> dict:
        """Repeat ``action`` (e.g. post a tick) until a line with ``key`` arrives."""
        pending = asyncio.ensure_future(self.until(key))
        for attempt in range(attempts):
            await action(attempt)
            done, _ = await asyncio.wait({pending}, timeout=0.5)
            if done:
                return pending.result()
        pending.cancel()
        raise AssertionError(f"no {key!r} line from the Node script; seen {self.seen}")

    async def finish(self, within: float = 30) -> int:
        return await asyncio.wait_for(self.process.wait(), within)

    async def stop(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            self.process.kill()
        await self.process.wait()
