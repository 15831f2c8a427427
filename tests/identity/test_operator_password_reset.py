"""`fidus user reset-password`: the operator's way back in when the one-time ADMIN password
was missed. Run as a real process against the suite's database and Redis: the new
password works, the old one does not, and the user's sessions end in the running server
(its open sockets too)."""

import asyncio
import os
import re
import sys

from models.audit import AuditEntry
from tests.conftest import PASSWORD
from tests.support.api import LOGIN
from tests.support.ws import Socket

REFRESH = "mutation($t: String!) { refreshToken(refreshToken: $t) { accessToken } }"
ANNOUNCED = re.compile(r"New password of (\S+) in tenant 'acme': (\S+)  \(shown once")


async def reset_password(settings, mongo_url, redis_url, *argv: str) -> tuple[int, str, str]:
    """The CLI next to the running server, on the same database and Redis."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("FIDUS_")}
    env.update(
        MONGODB_URL=mongo_url,
        REDIS_URL=redis_url,
        FIDUS_DB_NAME=settings.db_name,
        FIDUS_JWT_SECRET=settings.jwt_secret.get_secret_value(),
        FIDUS_ARGON2_MEMORY_KIB=str(settings.argon2_memory_kib),
        FIDUS_ARGON2_TIME_COST=str(settings.argon2_time_cost),
    )
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "app.cli",
        "user",
        "reset-password",
        *argv,
        env=env,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), 120)
    return process.returncode or 0, out.decode(), err.decode()


async def test_a_new_generated_password_replaces_the_old_and_ends_sessions(
    api, world, base_url, settings, mongo_url, redis_url
):
    admin = world("acme", "admin")
    socket = await Socket.open(base_url, admin.token)
    try:
        code, out, err = await reset_password(
            settings, mongo_url, redis_url, "--tenant", "acme", "--email", " Admin@ACME.test "
        )
        assert code == 0, err
        announced = ANNOUNCED.search(out)
        assert announced, out
        email, password = announced.groups()
        assert email == admin.email and len(password) >= 20 and password != PASSWORD

        closed, _reason = await socket.closed_with(10)  # its session ended in the server too
        assert closed == 4403
    finally:
        await socket.close()
    assert (await api.gql("{ me { id } }", token=admin.token)).code == "UNAUTHENTICATED"
    assert (await api.gql(REFRESH, {"t": admin.refresh})).code == "UNAUTHENTICATED"
    old = await api.gql(LOGIN, {"tenant": "acme", "email": admin.email, "password": PASSWORD})
    assert old.code == "UNAUTHENTICATED"
    assert (await api.login("acme", admin.email, password))["user"]["role"] == "ADMIN"

    entry = await AuditEntry.find_one({"action": "auth.password_reset"})
    assert entry is not None and entry.actor_id is None and entry.detail["by"] == "operator"
    assert str(entry.target_id) == admin.id
    assert password not in str(entry.model_dump())
    other = world("globex", "admin")  # same email pattern, other tenant: untouched
    assert await api.login("globex", other.email, PASSWORD)


async def test_an_unknown_user_or_tenant_is_a_clear_error(
    api, world, settings, mongo_url, redis_url
):
    for tenant, email in [("acme", "nobody@acme.test"), ("nope", "admin@acme.test")]:
        code, out, err = await reset_password(
            settings, mongo_url, redis_url, "--tenant", tenant, "--email", email
        )
        assert code == 1, out
        assert err.strip().splitlines()[-1] == f"fidus: No user {email} in tenant '{tenant}'"
        assert "Traceback" not in err and "password" not in out.lower()
    assert await api.login("acme", "admin@acme.test", PASSWORD)


async def test_prompting_needs_a_terminal(world, settings, mongo_url, redis_url):
    code, _out, err = await reset_password(
        settings, mongo_url, redis_url, "--tenant", "acme", "--email", "admin@acme.test", "--prompt"
    )
    assert code != 0 and "terminal" in err and "Traceback" not in err
