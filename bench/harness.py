"""What every benchmark needs: real servers (SecantusDB and redis-server started here, or
MONGODB_URL / REDIS_URL), Fidus as its own uvicorn process, tokens, process CPU and memory,
and a results table printed and written as JSON under bench/results/."""

import contextlib
import json
import os
import platform
import secrets
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psutil

from app.embedded import EmbeddedMongo, free_port
from tests.support.servers import RedisProcess

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
TENANT, ADMIN_EMAIL = "bench", "admin@bench.test"


@dataclass(frozen=True)
class Backends:
    mongodb_url: str
    redis_url: str


@contextlib.contextmanager
def backends() -> Iterator[Backends]:
    """MONGODB_URL / REDIS_URL when set, else a SecantusDB and a redis-server of our own."""
    with contextlib.ExitStack() as stack:
        mongo_url = os.environ.get("MONGODB_URL")
        if not mongo_url:
            mongo = EmbeddedMongo(Path(stack.enter_context(tempfile.TemporaryDirectory())))
            mongo_url = mongo.start()
            stack.callback(mongo.stop)
        redis_url = os.environ.get("REDIS_URL")
        if not redis_url:
            redis = RedisProcess()
            redis_url = redis.start()
            stack.callback(redis.stop)
        yield Backends(mongo_url, redis_url)


def wait_ready(url: str, process: subprocess.Popen[bytes], within: float = 90) -> None:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{url} exited with {process.returncode}")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"{url}/health/ready", timeout=2).status_code == 200:
                return
        time.sleep(0.2)
    raise RuntimeError(f"{url} did not become ready")


@dataclass
class Server:
    """A uvicorn server process (Fidus, or a baseline app), one worker."""

    url: str
    process: subprocess.Popen[bytes]
    grace: float = 20  # seconds of graceful shutdown before the kill
    ps: psutil.Process = field(init=False)

    def __post_init__(self) -> None:
        self.ps = psutil.Process(self.process.pid)

    @property
    def rss(self) -> int:
        return int(self.ps.memory_info().rss)

    def cpu_seconds(self) -> float:
        times = self.ps.cpu_times()
        return float(times.user + times.system)

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(self.grace)
        except subprocess.TimeoutExpired:
            self.process.kill()


def fidus_env(backends: Backends, db_name: str, **settings: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FIDUS_")}
    env.update(
        MONGODB_URL=backends.mongodb_url,
        REDIS_URL=backends.redis_url,
        FIDUS_DB_NAME=db_name,
        FIDUS_BOOTSTRAP_TENANT=TENANT,
        FIDUS_BOOTSTRAP_EMAIL=ADMIN_EMAIL,
        FIDUS_BOOTSTRAP_PASSWORD=ADMIN_PASSWORD,
        FIDUS_LOG_LEVEL="WARNING",
        FIDUS_ACCESS_TOKEN_MINUTES="120",
        # set-up signs in and writes far faster than people do; what the scenarios measure
        # (queries, subscriptions, ingest) is not rate limited
        FIDUS_MUTATIONS_PER_MINUTE_PER_USER="1000000",
        FIDUS_MUTATIONS_PER_MINUTE_PER_ADDRESS="1000000",
        FIDUS_SIGN_INS_PER_MINUTE_PER_ADDRESS="1000000",
        # the load clients open every subscriber's socket with one user's token
        FIDUS_MAX_CONNECTIONS_PER_USER="1000",
        **{f"FIDUS_{k.upper()}": v for k, v in settings.items()},
    )
    return env


ADMIN_PASSWORD = secrets.token_urlsafe(18)  # generated per run, never stored


@contextlib.contextmanager
def serving(command: Sequence[str], env: dict[str, str], cwd: Path) -> Iterator[Server]:
    """Run ``command`` until its readiness answers 200; stopped on exit. ``{port}`` as an
    argument or as an environment value stands for the free port it is given."""
    port = str(free_port())
    process = subprocess.Popen(
        [port if part == "{port}" else part for part in command],
        env={name: port if value == "{port}" else value for name, value in env.items()},
        cwd=cwd,
    )
    server = Server(f"http://127.0.0.1:{port}", process)
    try:
        wait_ready(server.url, process)
        yield server
    finally:
        server.stop()


def fidus(
    backends: Backends, db_name: str, **settings: str
) -> contextlib.AbstractContextManager[Server]:
    return serving(
        [sys.executable, "-m", "app.cli", "serve", "--port", "{port}"],
        fidus_env(backends, db_name, **settings),
        ROOT,
    )


def uvicorn_app(target: str, env: dict[str, str]) -> contextlib.AbstractContextManager[Server]:
    """A baseline app (``module:attr``) under uvicorn with the same options as Fidus
    (one worker, no WebSocket compression)."""
    return serving(
        [
            *(sys.executable, "-m", "uvicorn", target, "--port", "{port}"),
            *("--log-level", "warning", "--ws-per-message-deflate", "false"),
        ],
        {**os.environ, **env},
        ROOT,
    )


def gql(url: str, query: str, variables: dict[str, Any] | None = None, token: str = "") -> Any:
    headers = {"authorization": f"Bearer {token}"} if token else {}
    response = httpx.post(
        f"{url}/graphql", json={"query": query, "variables": variables}, headers=headers, timeout=60
    )
    body = response.json()
    if body.get("errors"):
        raise RuntimeError(body["errors"])
    return body["data"]


def admin_token(url: str) -> str:
    data = gql(
        url,
        "mutation($t: String!, $e: String!, $p: String!) { login(tenant: $t, email: $e, "
        "password: $p) { accessToken } }",
        {"t": TENANT, "e": ADMIN_EMAIL, "p": ADMIN_PASSWORD},
    )
    token: str = data["login"]["accessToken"]
    return token


def ingest_token(url: str, admin: str) -> str:
    data = gql(
        url,
        'mutation { createServiceToken(name: "bench", scopes: ["mt5:ingest"]) { token } }',
        token=admin,
    )
    token: str = data["createServiceToken"]["token"]
    return token


def percentile(values: Sequence[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(p / 100 * (len(ordered) - 1))))
    return ordered[index]


def _cpu_model() -> str:
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine()


def machine() -> dict[str, Any]:
    return {
        "cpu": _cpu_model(),
        "cpus": psutil.cpu_count(),
        "memory_gib": round(psutil.virtual_memory().total / 2**30, 1),
        "python": sys.version.split()[0],
        "platform": sys.platform,
    }


def report(scenario: str, columns: list[str], rows: list[dict[str, Any]], **extra: Any) -> None:
    """Print a markdown table and write bench/results/<scenario>.json."""
    print(f"\n### {scenario}\n")
    print("| " + " | ".join(columns) + " |")
    print("|" + "---|" * len(columns))
    for row in rows:
        cells = [
            f"{row[c]:,.1f}" if isinstance(row.get(c), float) else str(row.get(c, ""))
            for c in columns
        ]
        print("| " + " | ".join(cells) + " |")
    RESULTS.mkdir(parents=True, exist_ok=True)
    payload = {"scenario": scenario, "machine": machine(), "rows": rows, **extra}
    (RESULTS / f"{scenario}.json").write_text(json.dumps(payload, indent=2) + "\n")
