"""Session-wide real servers (SecantusDB or MONGODB_URL, redis-server or REDIS_URL), one
Fidus app under a real uvicorn server, and a database emptied between tests."""

import os
import secrets
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from pymongo.monitoring import (
    CommandFailedEvent,
    CommandListener,
    CommandStartedEvent,
    CommandSucceededEvent,
)
from starlette.applications import Starlette

from app.factory import create_app
from app.runtime import Runtime
from app.settings import Settings
from models.users import Role, User, search_terms
from resolvers.core import persisted_queries
from resolvers.core.transaction_sessions import COLLECTION as HEARTBEAT_COLLECTION
from resolvers.identity.credentials import hash_password
from resolvers.identity.tenants import NewTenant, create_tenant
from tests.support.api import Api
from tests.support.domain import insert_user
from tests.support.packaging import InstalledWheel, build_wheel, install_wheel
from tests.support.servers import RedisProcess, live_server, mongo_process

# fixtures that live beside their helpers in tests/support/, for every test folder
pytest_plugins = ["tests.support.api_process", "tests.support.rate_limits"]

PASSWORD = "correct horse battery staple"
SANCTIONS_SAMPLE = Path(__file__).resolve().parents[1] / "data" / "sanctions-sample.csv"
KEEP_COLLECTIONS = {"signing_keys"}


@pytest.fixture(scope="session")
def mongo_url() -> Iterator[str]:
    if os.environ.get("MONGODB_URL"):
        yield os.environ["MONGODB_URL"]
        return
    with mongo_process() as url:
        yield url


@pytest.fixture(scope="session")
def redis_server() -> Iterator[RedisProcess | None]:
    """The redis-server this session started, or None when REDIS_URL points elsewhere."""
    if os.environ.get("REDIS_URL"):
        yield None
        return
    server = RedisProcess()
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def redis_url(redis_server: RedisProcess | None) -> str:
    return redis_server.url if redis_server else os.environ["REDIS_URL"]


def make_settings(mongo_url: str, redis_url: str | None, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "mongodb_url": mongo_url,
        "redis_url": redis_url,
        "db_name": f"fidus_test_{os.getpid()}",
        "jwt_secret": secrets.token_urlsafe(48),
        "argon2_time_cost": 1,
        "argon2_memory_kib": 1024,
        "argon2_parallelism": 1,
        "graphiql": True,
        "max_subscriptions_per_connection": 3,
        # the suite signs in and writes from one address far faster than people do;
        # the `tight` fixture (tests/support/rate_limits.py) tightens these for a test
        "mutations_per_minute_per_user": 100_000,
        "mutations_per_minute_per_address": 100_000,
        "sign_ins_per_minute_per_address": 100_000,
        "log_level": "WARNING",
        "sanctions_file": SANCTIONS_SAMPLE,
    }
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


@pytest.fixture(scope="session")
def settings(mongo_url: str, redis_url: str) -> Settings:
    return make_settings(mongo_url, redis_url)


class CommandCounter(CommandListener):
    """Counts the MongoDB commands sent while ``recording`` (``sent``: the commands), but
    not the process's own heartbeat of transaction sessions, which runs on its own clock."""

    def __init__(self) -> None:
        self.recording = False
        self.commands: list[str] = []
        self.sent: list[dict[str, Any]] = []

    def started(self, event: CommandStartedEvent) -> None:
        if self.recording and event.command.get(event.command_name) != HEARTBEAT_COLLECTION:
            self.commands.append(event.command_name)
            self.sent.append(dict(event.command))

    def succeeded(self, event: CommandSucceededEvent) -> None:
        pass

    def failed(self, event: CommandFailedEvent) -> None:
        pass


@pytest.fixture(scope="session")
def command_counter() -> CommandCounter:
    return CommandCounter()


@pytest.fixture(scope="session")
def app(settings: Settings, command_counter: CommandCounter) -> Starlette:
    return create_app(settings, command_listeners=[command_counter])


@pytest.fixture(scope="session")
async def base_url(app: Starlette) -> AsyncIterator[str]:
    async with live_server(app) as url:
        yield url


@pytest.fixture(scope="session")
def runtime(app: Starlette, base_url: str) -> Runtime:
    rt: Runtime = app.state.runtime
    return rt


@pytest.fixture(autouse=True)
async def _empty_database(runtime: Runtime, settings: Settings) -> AsyncIterator[None]:
    yield
    await runtime.services.background.drain()  # nothing a test started lands in the next
    database = runtime.mongo[settings.db_name]
    persisted_queries.forget_cached()
    for name in await database.list_collection_names():
        if name not in KEEP_COLLECTIONS:
            await database[name].delete_many({})


@pytest.fixture
async def api(base_url: str, runtime: Runtime) -> AsyncIterator[Api]:
    async with httpx.AsyncClient(timeout=30) as client:
        yield Api(base_url, client, settle=runtime.services.background.drain)


@dataclass
class Member:
    tenant: str
    email: str
    role: Role
    id: str = ""
    token: str = ""
    refresh: str = ""
    password: str = PASSWORD


@dataclass
class World:
    """Two tenants with one user per role (and a second investor)."""

    members: dict[tuple[str, str], Member] = field(default_factory=dict)

    def __call__(self, tenant: str, who: str) -> Member:
        return self.members[(tenant, who)]


WHO = {
    "admin": Role.ADMIN,
    "manager": Role.MANAGER,
    "analyst": Role.ANALYST,
    "investor": Role.INVESTOR,
    "investor2": Role.INVESTOR,
}


@pytest.fixture
async def world(runtime: Runtime, api: Api) -> World:
    services = runtime.services
    result = World()
    password_hash = await hash_password(services, PASSWORD)
    for slug in ("acme", "globex"):
        tenant, admin = await create_tenant(
            services,
            NewTenant(slug=slug, admin_email=f"admin@{slug}.test", admin_password=PASSWORD),
        )
        assert tenant.id is not None
        result.members[(slug, "admin")] = Member(slug, admin.email, Role.ADMIN, str(admin.id))
        for who, role in WHO.items():
            if who == "admin":
                continue
            email = f"{who}@{slug}.test"
            user = User(
                tenant_id=tenant.id,
                email=email,
                full_name=f"{who.title()} {slug.title()}",
                role=role,
                password_hash=password_hash,
                search=search_terms(who, email),
            )
            await insert_user(user)  # an investor with their default portfolio
            result.members[(slug, who)] = Member(slug, email, role, str(user.id))
    for member in result.members.values():
        payload = await api.login(member.tenant, member.email, PASSWORD)
        member.token, member.refresh = payload["accessToken"], payload["refreshToken"]
    return result


INGEST_TOKEN_MUTATION = (
    'mutation($s: [String!]!) { createServiceToken(name: "b", scopes: $s) { token } }'
)


@pytest.fixture
async def ingest_token(api, world):
    result = await api.gql(
        INGEST_TOKEN_MUTATION, {"s": ["mt5:ingest"]}, token=world("acme", "admin").token
    )
    return result.ok()["createServiceToken"]["token"]


@pytest.fixture(scope="session")
def fidus_wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel of this checkout, as ``pip install .`` builds it (once per test process)."""
    return build_wheel(tmp_path_factory.mktemp("wheel"))


@pytest.fixture(scope="session")
def installed_wheel(fidus_wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> InstalledWheel:
    """That wheel installed in a fresh venv (tests.support.packaging.install_wheel)."""
    return install_wheel(fidus_wheel, tmp_path_factory.mktemp("installed"))
