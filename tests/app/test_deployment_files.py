"""docker-compose.yml and the Dockerfile are validated by parsing (no Docker engine here)."""

import os
import re
import shlex
from pathlib import Path

import pytest
import yaml

from app.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
INNERMOST = re.compile(r"\$\{([^${}]*)\}")
SECRETS = {"FIDUS_JWT_SECRET": "j" * 48, "FIDUS_BOOTSTRAP_PASSWORD": "a long passphrase"}


def interpolate(value: str, env: dict[str, str]) -> str:
    """Compose's ``${NAME}``, ``${NAME:-default}``, ``${NAME-default}`` and
    ``${NAME:?message}``, nested ones included (innermost first)."""

    def one(match: re.Match[str]) -> str:
        name, op, arg = re.fullmatch(r"(\w+)(?:(:?[-?])(.*))?", match.group(1), re.S).groups()
        present = name in env and (env[name] != "" or not (op or "").startswith(":"))
        if op and op.endswith("?") and not present:
            raise LookupError(arg)
        return env[name] if present else (arg if op and op.endswith("-") else "")

    while INNERMOST.search(value):
        value = INNERMOST.sub(one, value)
    return value


def compose_api_environment(operator: dict[str, str]) -> dict[str, str]:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    env = compose["services"]["api"]["environment"]
    return {name: interpolate(str(value), operator) for name, value in env.items()}


def dockerfile_environment() -> dict[str, str]:
    env: dict[str, str] = {}
    for line in (ROOT / "Dockerfile").read_text().splitlines():
        if line.startswith("ENV "):
            for item in shlex.split(line[4:]):
                name, _, value = item.partition("=")
                env[name] = value
    return env


def settings_under(monkeypatch: pytest.MonkeyPatch, env: dict[str, str]) -> Settings:
    """Settings as the container would read them: only ``env`` in the environment."""
    for name in list(os.environ):
        if name.startswith("FIDUS_") or name in ("MONGODB_URL", "REDIS_URL"):
            monkeypatch.delenv(name)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return Settings()


def test_compose_wires_mongo_replica_set_redis_and_the_app() -> None:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    assert set(services) >= {"mongo", "redis", "api"}
    for name in ("mongo", "redis", "api"):
        assert "test" in services[name]["healthcheck"], name
    assert "--replSet" in services["mongo"]["command"]
    assert "rs.initiate" in " ".join(services["mongo"]["healthcheck"]["test"])
    api = services["api"]
    assert api["build"] == "."
    assert api["depends_on"] == {
        "mongo": {"condition": "service_healthy"},
        "redis": {"condition": "service_healthy"},
    }
    env = api["environment"]
    assert (
        env["MONGODB_URL"].startswith("mongodb://mongo:27017/")
        and "replicaSet=rs0" in env["MONGODB_URL"]
    )
    assert env["REDIS_URL"].startswith("redis://redis:6379")
    # secrets come from the operator's environment, never from the file
    assert env["FIDUS_JWT_SECRET"].startswith("${FIDUS_JWT_SECRET:?")
    assert env["FIDUS_BOOTSTRAP_PASSWORD"].startswith("${FIDUS_BOOTSTRAP_PASSWORD:?")
    assert "/health/ready" in " ".join(api["healthcheck"]["test"])


def test_dockerfile_installs_the_packages_and_runs_unprivileged() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    for package in ("app", "schema", "resolvers", "models", "subscriptions"):
        assert f"COPY {package} ./{package}" in dockerfile
    assert "USER fidus" in dockerfile
    assert 'CMD ["fidus", "serve"]' in dockerfile
    assert "HEALTHCHECK" in dockerfile


@pytest.mark.parametrize(
    ("operator", "graphiql", "introspection"),
    [
        ({}, False, False),
        ({"FIDUS_GRAPHIQL": "true"}, True, True),
        ({"FIDUS_INTROSPECTION": "true"}, False, True),
        ({"FIDUS_GRAPHIQL": "true", "FIDUS_INTROSPECTION": "false"}, True, False),
    ],
)
def test_compose_turns_graphiql_and_introspection_on_only_when_asked(
    monkeypatch, operator, graphiql, introspection
) -> None:
    settings = settings_under(monkeypatch, compose_api_environment({**SECRETS, **operator}))
    assert (settings.graphiql_enabled, settings.introspection_enabled) == (graphiql, introspection)
    assert settings.metrics_token is None  # passed on empty: no token, not an empty one


def test_the_image_keeps_graphiql_and_introspection_off(monkeypatch) -> None:
    # even started without MONGODB_URL (which would otherwise mean the embedded default)
    settings = settings_under(monkeypatch, dockerfile_environment())
    assert not settings.graphiql_enabled and not settings.introspection_enabled
    assert not settings.listens_on_loopback  # hence /metrics needs FIDUS_METRICS_TOKEN


def test_compose_interpolation_is_read_as_compose_does() -> None:
    env = {"SET": "x", "EMPTY": ""}
    assert interpolate("${SET:-d}|${EMPTY:-d}|${EMPTY-d}|${UNSET-d}|${UNSET}", env) == "x|d||d|"
    assert interpolate("${UNSET:-${SET:-d}}", env) == "x"
    with pytest.raises(LookupError):
        interpolate("${EMPTY:?needed}", env)
