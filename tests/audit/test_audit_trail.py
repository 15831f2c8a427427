"""Sensitive actions leave an audit entry with actor, tenant, target, time and the client's
address, user agent and request id."""

import re
import uuid
from datetime import timedelta

import pyotp
from beanie import PydanticObjectId

from models.audit import AuditEntry
from models.base import utc_now
from models.identity import OutboxMessage
from tests.conftest import PASSWORD
from tests.support.api import LOGIN
from tests.support.domain import tenant_id_of
from tests.support.identity import (
    ACCEPT,
    CHANGE,
    CONFIRM,
    CREATE_USER,
    DISABLE,
    ENROLL,
    NEW_PASSWORD,
    REQUEST_RESET,
    RESET,
    outbox,
    token_in,
)
from tests.support.investments import requested_redemption

AGENT = "audit-test/1.0"


def client_headers() -> dict[str, str]:
    return {"user-agent": AGENT, "x-request-id": f"req-{uuid.uuid4().hex[:12]}"}


async def the_entry(action: str, **criteria) -> AuditEntry:
    found = await AuditEntry.find({"action": action, **criteria}).sort("-_id").to_list()
    assert found, f"no {action} entry"
    return found[0]


async def assert_full_entry(
    entry: AuditEntry, *, tenant, actor, target, headers: dict[str, str] | None = None
) -> None:
    assert entry.tenant_id == tenant
    assert entry.actor_id == (PydanticObjectId(actor) if actor else None)
    assert entry.target_id == (PydanticObjectId(target) if target else None)
    assert abs(entry.created_at.replace(tzinfo=None) - utc_now().replace(tzinfo=None)) < timedelta(
        minutes=5
    )
    assert entry.client_ip == "127.0.0.1"
    if headers is not None:
        assert entry.user_agent == AGENT
        assert entry.request_id == headers["x-request-id"]


async def login(api, member, password=PASSWORD, tenant=None, otp=None, headers=None):
    return await api.gql(
        LOGIN,
        {
            "tenant": tenant or member.tenant,
            "email": member.email,
            "password": password,
            "otp": otp,
        },
        headers=headers,
    )


async def test_successful_and_failed_logins(api, world):
    member = world("acme", "investor")
    tenant = await tenant_id_of(member)
    headers = client_headers()
    (await login(api, member, headers=headers)).ok()
    entry = await the_entry("auth.login", actor_id=PydanticObjectId(member.id))
    await assert_full_entry(
        entry, tenant=tenant, actor=member.id, target=member.id, headers=headers
    )
    assert entry.request_id == headers["x-request-id"]

    headers = client_headers()
    assert (await login(api, member, "wrong password!", headers=headers)).code == "UNAUTHENTICATED"
    failed = await the_entry("auth.login_failed")
    await assert_full_entry(
        failed, tenant=tenant, actor=member.id, target=member.id, headers=headers
    )
    assert failed.detail == {"email": member.email, "reason": "bad_credentials"}

    ghost = await api.gql(
        LOGIN, {"tenant": "acme", "email": "ghost@acme.test", "password": "whatever pass"}
    )
    assert ghost.code == "UNAUTHENTICATED"
    unknown = await the_entry("auth.login_failed", **{"detail.email": "ghost@acme.test"})
    await assert_full_entry(unknown, tenant=tenant, actor=None, target=None)

    before = await AuditEntry.find({"action": "auth.login_failed"}).count()
    nowhere = await login(api, member, tenant="no-such-tenant")
    assert nowhere.code == "UNAUTHENTICATED"
    assert await AuditEntry.find({"action": "auth.login_failed"}).count() == before


async def test_a_wrong_one_time_code_is_a_failed_login(api, world, runtime, monkeypatch):
    now = utc_now()
    monkeypatch.setattr(runtime.services, "clock", lambda: now)
    member = world("acme", "manager")
    secret = (await api.gql(ENROLL, token=member.token)).ok()["enrollMfa"]["secret"]
    code = pyotp.TOTP(secret).at(now.timestamp())
    (await api.gql(CONFIRM, {"c": code}, token=member.token)).ok()
    enabled = await the_entry("mfa.enable")
    await assert_full_entry(
        enabled, tenant=await tenant_id_of(member), actor=member.id, target=member.id
    )
    assert (await login(api, member, otp="000000")).code == "UNAUTHENTICATED"
    failed = await the_entry("auth.login_failed")
    assert failed.detail["reason"] == "invalid_otp" and str(failed.actor_id) == member.id

    later = pyotp.TOTP(secret).at(now.timestamp() + 30)
    monkeypatch.setattr(runtime.services, "clock", lambda: now + timedelta(seconds=30))
    (await api.gql(DISABLE, {"c": later}, token=member.token)).ok()
    disabled = await the_entry("mfa.disable")
    await assert_full_entry(
        disabled, tenant=await tenant_id_of(member), actor=member.id, target=member.id
    )


async def test_logout_and_session_revocation(api, world):
    member = world("acme", "analyst")
    tenant = await tenant_id_of(member)
    second = await api.login(member.tenant, member.email, PASSWORD)
    session_id = second["refreshToken"].split(".")[0]
    revoke = "mutation($id: ID!) { revokeSession(id: $id) }"
    headers = client_headers()
    assert (await api.gql(revoke, {"id": session_id}, token=member.token, headers=headers)).ok()
    revoked = await the_entry("session.revoke")
    await assert_full_entry(
        revoked, tenant=tenant, actor=member.id, target=session_id, headers=headers
    )

    logout = "mutation($r: String!) { logout(refreshToken: $r) }"
    headers = client_headers()
    assert (await api.gql(logout, {"r": member.refresh}, headers=headers)).ok()
    entry = await the_entry("auth.logout")
    await assert_full_entry(
        entry,
        tenant=tenant,
        actor=member.id,
        target=member.refresh.split(".")[0],
        headers=headers,
    )
    assert (await api.gql(logout, {"r": member.refresh})).ok()  # repeating it: no new entry
    assert await AuditEntry.find({"action": "auth.logout"}).count() == 1


async def test_refresh_token_reuse_is_recorded(api, world):
    member = world("acme", "investor2")
    rotate = "mutation($r: String!) { refreshToken(refreshToken: $r) { refreshToken } }"
    (await api.gql(rotate, {"r": member.refresh})).ok()
    assert (await api.gql(rotate, {"r": member.refresh})).code == "UNAUTHENTICATED"
    entry = await the_entry("auth.refresh_reuse")
    await assert_full_entry(
        entry, tenant=await tenant_id_of(member), actor=None, target=member.refresh.split(".")[0]
    )
    assert entry.detail["user"] == member.id


async def test_password_change_reset_and_invitation(api, world):
    member = world("acme", "investor")
    tenant = await tenant_id_of(member)
    wrong = await api.gql(CHANGE, {"c": "not my password", "n": NEW_PASSWORD}, token=member.token)
    assert wrong.code == "UNAUTHENTICATED"
    await assert_full_entry(
        await the_entry("auth.password_change_failed"),
        tenant=tenant,
        actor=member.id,
        target=member.id,
    )
    headers = client_headers()
    changed = await api.gql(
        CHANGE, {"c": PASSWORD, "n": NEW_PASSWORD}, token=member.token, headers=headers
    )
    assert changed.ok()
    await assert_full_entry(
        await the_entry("auth.password_change"),
        tenant=tenant,
        actor=member.id,
        target=member.id,
        headers=headers,
    )

    other = world("acme", "investor2")
    (await api.gql(REQUEST_RESET, {"t": "acme", "e": other.email})).ok()
    await assert_full_entry(
        await the_entry("auth.password_reset_request"), tenant=tenant, actor=None, target=other.id
    )
    [message] = await outbox(other.email, "PASSWORD_RESET")
    (await api.gql(RESET, {"t": token_in(message), "p": NEW_PASSWORD})).ok()
    await assert_full_entry(
        await the_entry("auth.password_reset"), tenant=tenant, actor=other.id, target=other.id
    )

    admin = world("acme", "admin")
    email = f"invited-{uuid.uuid4().hex[:8]}@acme.test"
    created = await api.gql(
        CREATE_USER,
        {"i": {"email": email, "fullName": "Invited One", "role": "INVESTOR"}},
        token=admin.token,
    )
    invited_id = created.ok()["createUser"]["id"]
    [invitation] = await OutboxMessage.find({"to": email}).to_list()
    token = re.search(r"([A-Za-z0-9_-]{40,})$", invitation.body)
    assert token
    (await api.gql(ACCEPT, {"t": token.group(1), "p": NEW_PASSWORD})).ok()
    await assert_full_entry(
        await the_entry("auth.invitation_accept"),
        tenant=tenant,
        actor=invited_id,
        target=invited_id,
    )


async def test_decisions_of_earlier_issues_are_recorded(api, world):
    admin = world("acme", "admin")
    tenant = await tenant_id_of(admin)
    redemption = await requested_redemption(api, world, "acme")
    headers = client_headers()
    rejected = await api.gql(
        'mutation($id: ID!) { rejectRedemption(id: $id, reason: "no") { id } }',
        {"id": redemption},
        token=admin.token,
        headers=headers,
    )
    assert rejected.ok()
    await assert_full_entry(
        await the_entry("redemption.rejected"),
        tenant=tenant,
        actor=admin.id,
        target=redemption,
        headers=headers,
    )
    investor2 = world("acme", "investor2")
    reviewed = await api.gql(
        "mutation($id: ID!) { reviewKyc(userId: $id, status: PENDING) { id } }",
        {"id": investor2.id},
        token=world("acme", "manager").token,
    )
    assert reviewed.ok()
    await assert_full_entry(
        await the_entry("kyc.review"),
        tenant=tenant,
        actor=world("acme", "manager").id,
        target=investor2.id,
    )
