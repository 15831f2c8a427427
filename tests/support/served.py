"""`fidus serve` (or a script that ends in it) as a real process on a free port, with its
own data directory and no FIDUS_*/MONGODB_URL/REDIS_URL from the test environment: the
embedded default a newcomer gets."""

import os
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import httpx

from app.embedded import free_port

REPO = Path(__file__).parents[2]


def served_env(data_dir: Path, port: int, **extra: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("FIDUS_") and k not in ("MONGODB_URL", "REDIS_URL")
    }
    env.update(
        FIDUS_DATA_DIR=str(data_dir),
        FIDUS_PORT=str(port),
        FIDUS_ARGON2_MEMORY_KIB="1024",
        FIDUS_ARGON2_TIME_COST="1",
        **extra,
    )
    return env


class Served:
    """``argv`` defaults to ``python -m app.cli serve``; ``env``: settings on top of
    :func:`served_env`; the output goes to a log file."""

    def __init__(self, data_dir: Path, argv: Sequence[str] | None = None, **env: str) -> None:
        self.data_dir = data_dir
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = data_dir.parent / f"serve-{self.port}.log"
        self.process = subprocess.Popen(
            list(argv or [sys.executable, "-m", "app.cli", "serve"]),
            cwd=REPO,
            env=served_env(data_dir, self.port, **env),
            stdout=self.log.open("wb"),
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: the embedded database with it
        )

    def wait_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.process.poll() is None, self.output()
            try:
                if httpx.get(f"{self.url}/health/ready", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise AssertionError(f"not ready: {self.output()}")

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def stop(self, grace: float = 60) -> None:
        """Ctrl+C, as a user stops it; one that has not ended within ``grace`` seconds is
        killed with its process group (so no database process outlives the test) and the
        test fails with its log."""
        if self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGINT)
        try:
            self.process.wait(grace)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(10)
            raise AssertionError(
                f"still running {grace} s after Ctrl+C:\n{self.output()}"
            ) from None

    def gql(
        self, query: str, variables: dict[str, Any] | None = None, token: str | None = None
    ) -> dict[str, Any]:
        headers = {"authorization": f"Bearer {token}"} if token else {}
        answer: dict[str, Any] = httpx.post(
            f"{self.url}/graphql",
            json={"query": query, "variables": variables},
            headers=headers,
            timeout=30,
        ).json()
        return answer
