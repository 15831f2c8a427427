"""docker-compose.yml and the Dockerfile are validated by parsing (no Docker engine here)."""

import os
import re
import shlex
from dataclasses import dataclass, field
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


@dataclass
class Stage:
    """One FROM of the Dockerfile: its base image, name and instructions in order."""

    base: str
    name: str | None
    steps: list[tuple[str, str]] = field(default_factory=list)  # (INSTRUCTION, arguments)

    def index(self, instruction: str, pattern: str) -> int:
        """Position of the one step of this kind whose arguments match ``pattern``."""
        found = [
            i
            for i, (kind, args) in enumerate(self.steps)
            if kind == instruction and re.fullmatch(pattern, args)
        ]
        assert len(found) == 1, f"{instruction} {pattern!r} in stage {self.name}: {self.steps}"
        return found[0]


def dockerfile_stages() -> list[Stage]:
    """The Dockerfile's stages (comments dropped, continued lines joined, spaces squeezed)."""
    text = re.sub(r"\\[ \t]*\n", " ", (ROOT / "Dockerfile").read_text())
    stages: list[Stage] = []
    for line in text.splitlines():
        line = " ".join(line.split())
        if not line or line.startswith("#"):
            continue
        instruction, _, args = line.partition(" ")
        if instruction.upper() == "FROM":
            base, name = re.fullmatch(r"(\S+)(?: (?i:AS) (\S+))?", args).groups()
            stages.append(Stage(base, name))
        else:
            stages[-1].steps.append((instruction.upper(), args))
    return stages


def dockerfile_environment() -> dict[str, str]:
    """The ENV of the image's (last) stage."""
    env: dict[str, str] = {}
    for kind, args in dockerfile_stages()[-1].steps:
        if kind == "ENV":
            for item in shlex.split(args):
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
    image = dockerfile_stages()[-1]
    install = image.index("RUN", r"pip install \. .*")
    for package in ("app", "schema", "resolvers", "models", "subscriptions"):
        assert image.index("COPY", f"{package} ./{package}") < install
    assert image.index("USER", "fidus") > install
    image.index("CMD", re.escape('["fidus", "serve"]'))
    image.index("HEALTHCHECK", ".*/health/ready.*")


def test_the_image_serves_graphiql_built_in_a_node_stage_from_the_lockfile() -> None:
    node, image = dockerfile_stages()
    assert re.fullmatch(r"node:\d+-slim", node.base), "a pinned Node major"
    assert node.name
    lockfile = node.index("COPY", r"web/graphiql/package\.json web/graphiql/package-lock\.json \./")
    npm_ci = node.index("RUN", r"npm ci( --\S+)*")
    sources = [
        node.index("COPY", r"web/graphiql/build\.mjs \./"),
        node.index("COPY", r"web/graphiql/src \./src"),
    ]
    build = node.index("RUN", r"node build\.mjs /\S+")
    assert lockfile < npm_ci < min(sources) and max(sources) < build
    bundle = node.steps[build][1].split()[-1]

    # the image's bundle is that one: copied over the packages, then installed with them
    copied = image.index(
        "COPY", rf"--from={node.name} {re.escape(bundle)}/? \./app/static/graphiql/"
    )
    assert image.index("COPY", "app ./app") < copied < image.index("RUN", r"pip install \. .*")
    check = image.steps[image.index("RUN", r"pip install \. .*")][1]
    assert "cd / &&" in check and "graphiql.assets_built()" in check  # from the installed package
    ignored = (ROOT / ".dockerignore").read_text().splitlines()
    assert "app/static/graphiql" in ignored  # not the checkout's copy
    assert not [line for line in ignored if line.startswith("web")]


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
