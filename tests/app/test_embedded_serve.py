"""`fidus serve` from nothing: embedded SecantusDB, in-memory broker, GraphiQL, the demo
admin announced once, data surviving a restart, and `fidus tenant create` attaching to
the running embedded server."""

import re
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.support.api import LOGIN
from tests.support.served import Served, served_env


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "fidus-data"


SECOND_ADMIN_PASSWORD = "a sturdy admin passphrase"


def _create_tenant(data_dir: Path, port: int) -> subprocess.CompletedProcess[str]:
    """`fidus tenant create` next to the running server (attaches to its database)."""
    argv = ["tenant", "create", "--slug", "second", "--admin-email", "boss@second.test"]
    return subprocess.run(
        [sys.executable, "-m", "app.cli", *argv],
        env=served_env(data_dir, port, FIDUS_ADMIN_PASSWORD=SECOND_ADMIN_PASSWORD),
        capture_output=True,
        text=True,
        timeout=120,
    )


def _login(served: Served, tenant: str, email: str, password: str) -> dict:
    return served.gql(LOGIN, {"tenant": tenant, "email": email, "password": password})


def test_embedded_serve_from_nothing_and_restart(data_dir: Path) -> None:
    served = Served(data_dir)
    try:
        served.wait_ready()
        announced = re.search(
            r"Created tenant 'demo' with ADMIN (\S+) and password (\S+)", served.output()
        )
        assert announced, served.output()
        email, password = announced.groups()
        assert len(password) >= 20
        assert password not in (data_dir / "secantus.log").read_text(errors="replace")
        token = _login(served, "demo", email, password)["data"]["login"]["accessToken"]
        assert served.gql("{ me { email role } }", token=token)["data"]["me"] == {
            "email": email,
            "role": "ADMIN",
        }
        graphiql = httpx.get(f"{served.url}/graphql", headers={"accept": "text/html"})
        assert graphiql.status_code == 200 and "graphiql" in graphiql.text.lower()

        cli = _create_tenant(data_dir, served.port)
        assert cli.returncode == 0, cli.stderr
        assert "Created tenant 'second'" in cli.stdout
        again = _create_tenant(data_dir, served.port)
        assert again.returncode == 1 and "already exists" in again.stderr
        assert _login(served, "second", "boss@second.test", SECOND_ADMIN_PASSWORD)["data"]
    finally:
        served.stop()
    assert not (data_dir / "secantus.json").exists()  # the database process was stopped

    restarted = Served(data_dir)
    try:
        restarted.wait_ready()
        assert "Created tenant" not in restarted.output()
        assert _login(restarted, "demo", email, password)["data"]["login"]["accessToken"]
        assert _login(restarted, "second", "boss@second.test", SECOND_ADMIN_PASSWORD)["data"]
    finally:
        restarted.stop()
