"""docker-compose.yml and the Dockerfile are validated by parsing (no Docker engine here)."""

from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]


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
