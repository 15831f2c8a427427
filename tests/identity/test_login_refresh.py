"""Login, refresh rotation with reuse detection, logout, sessions, password rehash."""

import asyncio

from app.auth import Argon2Hasher
from models.identity import RefreshSession
from models.users import User
from tests.conftest import PASSWORD
from tests.support.api import LOGIN

REFRESH = """mutation($t: String!) { refreshToken(refreshToken: $t) {
  accessToken refreshToken expiresAt user { email } } }"""
LOGOUT = "mutation($t: String!) { logout(refreshToken: $t) }"
ME = "{ me { email } }"
SESSIONS = "{ sessions { id current userAgent createdAt lastUsedAt } }"


async def test_login_returns_tokens_and_the_user(api, world):
    result = await api.gql(
        LOGIN, {"tenant": "ACME ", "email": " Investor@Acme.test", "password": PASSWORD}
    )
    payload = result.ok()["login"]
    assert payload["user"]["email"] == "investor@acme.test"
    assert payload["expiresAt"].endswith("+00:00")
    assert (await api.gql(ME, token=payload["accessToken"])).ok()["me"][
        "email"
    ] == "investor@acme.test"


async def test_wrong_password_unknown_user_and_unknown_tenant_look_the_same(api, world):
    cases = [
        ("acme", "investor@acme.test", "wrong password!!"),
        ("acme", "nobody@acme.test", PASSWORD),
        ("nope", "investor@acme.test", PASSWORD),
        ("globex", "investor@acme.test", PASSWORD),
    ]
    messages = set()
    for tenant, email, password in cases:
        result = await api.gql(LOGIN, {"tenant": tenant, "email": email, "password": password})
        assert result.code == "UNAUTHENTICATED"
        messages.add(result.errors[0]["message"])
    assert len(messages) == 1


async def test_refresh_rotates_and_reuse_revokes_the_whole_family(api, world):
    member = world("acme", "investor")
    first = (await api.gql(REFRESH, {"t": member.refresh})).ok()["refreshToken"]
    assert first["refreshToken"] != member.refresh
    second = (await api.gql(REFRESH, {"t": first["refreshToken"]})).ok()["refreshToken"]

    replay = await api.gql(REFRESH, {"t": member.refresh})  # a rotated token comes back
    assert replay.code == "UNAUTHENTICATED"
    # the whole family is gone: the newest refresh token and every access token
    assert (await api.gql(REFRESH, {"t": second["refreshToken"]})).code == "UNAUTHENTICATED"
    assert (await api.gql(ME, token=second["accessToken"])).code == "UNAUTHENTICATED"
    assert (await api.gql(ME, token=member.token)).code == "UNAUTHENTICATED"
    session = await RefreshSession.get(member.refresh.split(".")[0])
    assert session.revoked_reason == "refresh token reuse"


async def test_concurrent_refresh_with_one_token_yields_one_winner(api, world):
    member = world("acme", "manager")
    results = await asyncio.gather(*[api.gql(REFRESH, {"t": member.refresh}) for _ in range(4)])
    winners = [r for r in results if not r.errors]
    assert len(winners) <= 1
    assert all(r.code == "UNAUTHENTICATED" for r in results if r.errors)


async def test_forged_refresh_tokens_are_rejected_without_revoking(api, world):
    member = world("acme", "investor")
    session_id = member.refresh.split(".")[0]
    for forged in [
        "",
        "garbage",
        f"{session_id}.not-the-secret",
        "x" * 5000,
        "zzzzzzzzzzzzzzzzzzzzzzzz.abc",
    ]:
        assert (await api.gql(REFRESH, {"t": forged})).code == "UNAUTHENTICATED"
    # an attacker guessing secrets for a known session id does not log the owner out
    assert (await api.gql(REFRESH, {"t": member.refresh})).ok()


async def test_logout_revokes_and_is_idempotent(api, world):
    member = world("acme", "investor")
    assert (await api.gql(LOGOUT, {"t": member.refresh})).ok() == {"logout": True}
    assert (await api.gql(LOGOUT, {"t": member.refresh})).ok() == {"logout": True}
    assert (await api.gql(REFRESH, {"t": member.refresh})).code == "UNAUTHENTICATED"
    assert (await api.gql(ME, token=member.token)).code == "UNAUTHENTICATED"
    assert (await api.gql(LOGOUT, {"t": "bogus"})).code == "UNAUTHENTICATED"


async def test_sessions_are_listed_and_can_be_revoked(api, world):
    member = world("acme", "analyst")
    other = await api.login("acme", member.email, PASSWORD)
    listed = (await api.gql(SESSIONS, token=member.token)).ok()["sessions"]
    assert len(listed) == 2
    assert sorted(s["current"] for s in listed) == [False, True]
    other_id = next(s["id"] for s in listed if not s["current"])
    revoke = "mutation($id: ID!) { revokeSession(id: $id) }"
    assert (await api.gql(revoke, {"id": other_id}, token=member.token)).ok()
    assert (await api.gql(ME, token=other["accessToken"])).code == "UNAUTHENTICATED"
    assert (await api.gql(revoke, {"id": other_id}, token=member.token)).code == "NOT_FOUND"
    assert len((await api.gql(SESSIONS, token=member.token)).ok()["sessions"]) == 1


async def test_a_session_of_someone_else_is_not_found(api, world):
    mine, theirs = world("acme", "admin"), world("acme", "investor")
    theirs_id = theirs.refresh.split(".")[0]
    foreign_id = world("globex", "admin").refresh.split(".")[0]
    revoke = "mutation($id: ID!) { revokeSession(id: $id) }"
    for session_id in (theirs_id, foreign_id):
        assert (await api.gql(revoke, {"id": session_id}, token=mine.token)).code == "NOT_FOUND"
    assert (await api.gql(revoke, {"id": "nope"}, token=mine.token)).code == "BAD_USER_INPUT"
    assert (await api.gql(ME, token=theirs.token)).ok()


async def test_tampered_and_expired_access_tokens(api, world, runtime, monkeypatch):
    member = world("acme", "investor")
    header, body, signature = member.token.split(".")
    tampered = f"{header}.{body}.{signature[:-2]}xx"
    result = await api.gql(ME, token=tampered)
    assert (result.code, result.errors[0]["message"]) == ("UNAUTHENTICATED", "Invalid access token")
    monkeypatch.setattr(runtime.access_tokens, "_ttl", -runtime.access_tokens._ttl)
    expired = await api.login("acme", member.email, PASSWORD)
    result = await api.gql(ME, token=expired["accessToken"])
    assert (result.code, result.errors[0]["message"]) == ("UNAUTHENTICATED", "Access token expired")


async def test_password_hash_is_upgraded_when_parameters_change(api, world, runtime, monkeypatch):
    member = world("acme", "investor")
    before = (await User.get(member.id)).password_hash
    assert "m=1024" in before
    monkeypatch.setattr(runtime.services, "passwords", Argon2Hasher(1, 2048, 1))
    await api.login("acme", member.email, PASSWORD)
    after = (await User.get(member.id)).password_hash
    assert after.startswith("$argon2id$") and "m=2048" in after
    await api.login("acme", member.email, PASSWORD)  # still valid
