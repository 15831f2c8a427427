"""First-admin bootstrap rules and configuration from the environment."""

import os
import secrets
import subprocess
import sys
from typing import Any

import pytest
from pydantic import ValidationError
from pymongo import MongoClient

from app.bootstrap import DEMO_ADMIN_EMAIL, bootstrap_first_admin
from app.settings import Settings
from models.tenants import Tenant
from models.users import User
from tests.conftest import make_settings


async def test_env_vars_create_the_tenant_once(runtime, mongo_url, api):
    settings = make_settings(
        mongo_url,
        None,
        bootstrap_tenant="alpha",
        bootstrap_email="root@alpha.test",
        bootstrap_password="first admin passphrase",
    )
    announced: list[str] = []
    await bootstrap_first_admin(settings, runtime.services, announced.append)
    await bootstrap_first_admin(settings, runtime.services, announced.append)
    assert announced == []
    assert await Tenant.find({"slug": "alpha"}).count() == 1
    assert await api.login("alpha", "root@alpha.test", "first admin passphrase")
    changed = make_settings(
        mongo_url,
        None,
        bootstrap_tenant="alpha",
        bootstrap_email="root@alpha.test",
        bootstrap_password="another passphrase!",
    )
    await bootstrap_first_admin(changed, runtime.services)  # existing tenant: untouched
    assert await api.login("alpha", "root@alpha.test", "first admin passphrase")


async def test_partial_env_vars_are_ignored(runtime, mongo_url):
    settings = make_settings(mongo_url, None, bootstrap_tenant="alpha")
    await bootstrap_first_admin(settings, runtime.services)
    assert await Tenant.find({}).count() == 0


async def test_empty_embedded_install_gets_a_demo_admin_announced_once(runtime, mongo_url, api):
    settings = make_settings(mongo_url, None).model_copy(update={"mongodb_url": None})
    assert settings.embedded
    announced: list[str] = []
    await bootstrap_first_admin(settings, runtime.services, announced.append)
    await bootstrap_first_admin(settings, runtime.services, announced.append)
    assert len(announced) == 1
    password = announced[0].split(" and password ")[1].split()[0]
    assert await api.login("demo", DEMO_ADMIN_EMAIL, password)
    admin = await User.find_one({"email": DEMO_ADMIN_EMAIL})
    assert password not in admin.password_hash


async def test_non_embedded_install_without_env_creates_nothing(runtime, mongo_url):
    await bootstrap_first_admin(make_settings(mongo_url, None), runtime.services)
    assert await Tenant.find({}).count() == 0


def test_settings_read_the_environment(monkeypatch):
    monkeypatch.setenv("MONGODB_URL", "mongodb://db:27017/?replicaSet=rs0")
    monkeypatch.setenv("REDIS_URL", "redis://cache:6379/0")
    monkeypatch.setenv("FIDUS_PORT", "9000")
    monkeypatch.setenv("FIDUS_MAX_QUERY_DEPTH", "7")
    settings = Settings()
    assert (settings.mongodb_url, settings.redis_url) == (
        "mongodb://db:27017/?replicaSet=rs0",
        "redis://cache:6379/0",
    )
    assert settings.port == 9000 and settings.schema_limits().max_depth == 7
    assert not settings.embedded and not settings.graphiql_enabled
    monkeypatch.setenv("FIDUS_GRAPHIQL", "true")
    assert Settings().graphiql_enabled


def test_embedded_default_enables_graphiql(monkeypatch):
    monkeypatch.delenv("MONGODB_URL", raising=False)
    monkeypatch.delenv("FIDUS_GRAPHIQL", raising=False)
    assert Settings().embedded and Settings().graphiql_enabled


@pytest.mark.parametrize(
    ("name", "value"),
    [("FIDUS_JWT_SECRET", "too-short"), ("FIDUS_PORT", "0"), ("FIDUS_PORT", "http")],
)
def test_bad_settings_are_refused(monkeypatch, name, value):
    monkeypatch.setenv(name, value)
    with pytest.raises(ValidationError):
        Settings()


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.0.0.2", True),
        ("::1", True),
        ("[::1]", True),
        ("localhost", True),
        ("0.0.0.0", False),  # noqa: S104 - what is tested
        ("::", False),
        ("10.1.2.3", False),
        ("api.example.com", False),
    ],
)
def test_loopback_is_told_from_the_listen_address(host, loopback):
    assert Settings(host=host).listens_on_loopback is loopback


def test_a_blank_metrics_token_is_no_token(monkeypatch):
    monkeypatch.setenv("FIDUS_METRICS_TOKEN", "")
    assert Settings().metrics_token is None
    monkeypatch.setenv("FIDUS_METRICS_TOKEN", "scrape-secret-123")
    token = Settings().metrics_token
    assert token is not None and token.get_secret_value() == "scrape-secret-123"


@pytest.mark.parametrize(
    ("url", "database"),
    [
        ("mongodb://db:27017/?replicaSet=rs0", "from-env"),
        ("mongodb://db:27017", "from-env"),
        ("mongodb://db:27017/ledger?replicaSet=rs0", "ledger"),
        ("mongodb://u:p%2Fw@h1:1,h2:2/my%20books.ignored?authSource=admin", "my books"),
        ("mongodb+srv://cluster0.example.net/prod?retryWrites=true", "prod"),
    ],
)
def test_the_urls_database_wins_over_fidus_db_name(monkeypatch, url, database):
    monkeypatch.setenv("MONGODB_URL", url)
    monkeypatch.setenv("FIDUS_DB_NAME", "from-env")
    assert Settings().db_name == database


def test_without_fidus_db_name_the_urls_database_or_fidus(monkeypatch):
    monkeypatch.delenv("FIDUS_DB_NAME", raising=False)
    monkeypatch.setenv("MONGODB_URL", "mongodb://db:27017/ledger")
    assert Settings().db_name == "ledger"
    monkeypatch.setenv("MONGODB_URL", "mongodb://db:27017/")
    assert Settings().db_name == "fidus"


def test_a_command_writes_to_the_database_the_url_names(mongo_url):
    """`fidus tenant create` with a database in MONGODB_URL and another in FIDUS_DB_NAME:
    the tenant lands in the URL's."""
    suffix = secrets.token_hex(4)
    in_url, in_env = f"fidus_url_{suffix}", f"fidus_env_{suffix}"
    base, _, options = mongo_url.partition("?")
    env = {k: v for k, v in os.environ.items() if not k.startswith("FIDUS_")}
    env.update(
        MONGODB_URL=f"{base.rstrip('/')}/{in_url}?{options}",
        FIDUS_DB_NAME=in_env,
        FIDUS_ADMIN_PASSWORD="a sturdy admin passphrase",
        FIDUS_JWT_SECRET="url-database-secret-" + "x" * 20,
    )
    argv = ["tenant", "create", "--slug", "urldb", "--admin-email", "boss@urldb.test"]
    done = subprocess.run(
        [sys.executable, "-m", "app.cli", *argv],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    client: MongoClient[dict[str, Any]] = MongoClient(mongo_url)
    try:
        assert client[in_url].tenants.find_one({"slug": "urldb"}) is not None
        assert in_env not in client.list_database_names()
    finally:
        client.drop_database(in_url)
        client.close()
