"""Password change and reset (single use, expiring, through the outbox), invitations."""

import asyncio
from datetime import timedelta

from models.audit import AuditEntry
from models.identity import ActionToken, OutboxMessage
from resolvers.core.context import RequestContext
from resolvers.identity.passwords import request_password_reset
from tests.conftest import PASSWORD
from tests.support.api import LOGIN
from tests.support.identity import (
    ACCEPT,
    CHANGE,
    CREATE_USER,
    NEW_PASSWORD,
    REQUEST_RESET,
    RESET,
    outbox,
    token_in,
)


async def test_reset_flow_is_single_use_and_revokes_sessions(api, world):
    member = world("acme", "investor")
    assert (await api.gql(REQUEST_RESET, {"t": "acme", "e": member.email})).ok() == {
        "requestPasswordReset": True
    }
    [message] = await outbox(member.email, "PASSWORD_RESET")
    token = token_in(message)
    stored = await ActionToken.find_one({})
    assert stored.token_hash != token and token not in str(stored.model_dump())

    weak = await api.gql(RESET, {"t": token, "p": "short"})
    assert (weak.code, weak.errors[0]["extensions"]["field"]) == ("BAD_USER_INPUT", "newPassword")
    assert (await api.gql(RESET, {"t": token, "p": NEW_PASSWORD})).ok()  # still usable
    assert (await api.gql(RESET, {"t": token, "p": NEW_PASSWORD})).code == "BAD_USER_INPUT"

    assert (await api.gql("{ me { id } }", token=member.token)).code == "UNAUTHENTICATED"
    old = await api.gql(LOGIN, {"tenant": "acme", "email": member.email, "password": PASSWORD})
    assert old.code == "UNAUTHENTICATED"
    assert await api.login("acme", member.email, NEW_PASSWORD)


async def test_reset_request_does_not_reveal_accounts(api, world):
    for tenant, email in [("acme", "nobody@acme.test"), ("nope", "x@y.test"), ("acme", "x" * 5000)]:
        assert (await api.gql(REQUEST_RESET, {"t": tenant, "e": email})).ok() == {
            "requestPasswordReset": True
        }
    assert await OutboxMessage.find({}).count() == 0


async def test_known_and_unknown_accounts_get_the_same_answer(api, world):
    member = world("acme", "investor")
    answers = []
    for tenant, email in [("acme", member.email), ("acme", "nobody@acme.test"), ("nope", "x@y")]:
        response = await api.client.post(
            f"{api.base_url}/graphql",
            json={"query": REQUEST_RESET, "variables": {"t": tenant, "e": email}},
        )
        answers.append((response.status_code, response.headers["content-type"], response.content))
    assert answers[0] == answers[1] == answers[2]
    assert answers[0][2] == b'{"data":{"requestPasswordReset":true}}'


async def test_the_answer_does_the_same_work_for_known_and_unknown_accounts(
    world, runtime, command_counter
):
    """The answer touches no account-dependent state: the database commands issued before
    it are the same (none) whether or not the account exists; the token, mail and audit
    entry for a real account follow it."""
    member, services = world("acme", "investor"), runtime.services
    before_answer = []
    for email in (member.email, "nobody@acme.test"):
        command_counter.commands.clear()
        command_counter.recording = True
        try:
            assert await request_password_reset(RequestContext(services), "acme", email)
        finally:
            command_counter.recording = False
        before_answer.append(list(command_counter.commands))
    assert before_answer == [[], []]
    await services.background.drain()
    assert len(await outbox(member.email, "PASSWORD_RESET")) == 1
    assert await OutboxMessage.find({"to": "nobody@acme.test"}).count() == 0
    assert await AuditEntry.find({"action": "auth.password_reset_request"}).count() == 1


async def test_reset_requests_are_capped_per_hour(api, world):
    member = world("acme", "investor")
    for _ in range(5):
        await api.gql(REQUEST_RESET, {"t": "acme", "e": member.email})
    assert len(await outbox(member.email, "PASSWORD_RESET")) == 3


async def test_expired_reset_token_is_refused(api, world, runtime, monkeypatch):
    member = world("acme", "investor")
    await api.gql(REQUEST_RESET, {"t": "acme", "e": member.email})
    [message] = await outbox(member.email, "PASSWORD_RESET")
    later = runtime.services.clock() + timedelta(hours=2)
    monkeypatch.setattr(runtime.services, "clock", lambda: later)
    assert (
        await api.gql(RESET, {"t": token_in(message), "p": NEW_PASSWORD})
    ).code == "BAD_USER_INPUT"


async def test_concurrent_use_of_one_reset_token_succeeds_once(api, world):
    member = world("acme", "investor")
    await api.gql(REQUEST_RESET, {"t": "acme", "e": member.email})
    [message] = await outbox(member.email, "PASSWORD_RESET")
    results = await asyncio.gather(
        *[api.gql(RESET, {"t": token_in(message), "p": f"{NEW_PASSWORD} {i}"}) for i in range(5)]
    )
    assert sum(1 for r in results if not r.errors) == 1


async def test_change_password_keeps_the_current_session_only(api, world):
    member = world("acme", "manager")
    other = await api.login("acme", member.email, PASSWORD)
    wrong = await api.gql(CHANGE, {"c": "not my password", "n": NEW_PASSWORD}, token=member.token)
    assert (wrong.code, wrong.errors[0]["extensions"]["field"]) == (
        "UNAUTHENTICATED",
        "currentPassword",
    )
    weak = await api.gql(CHANGE, {"c": PASSWORD, "n": member.email}, token=member.token)
    assert weak.code == "BAD_USER_INPUT"
    assert (await api.gql(CHANGE, {"c": PASSWORD, "n": NEW_PASSWORD}, token=member.token)).ok()
    assert (await api.gql("{ me { id } }", token=member.token)).ok()
    assert (await api.gql("{ me { id } }", token=other["accessToken"])).code == "UNAUTHENTICATED"
    assert await api.login("acme", member.email, NEW_PASSWORD)


async def test_invited_user_sets_a_password_once(api, world):
    admin = world("acme", "admin")
    created = await api.gql(
        CREATE_USER,
        {"i": {"email": "invitee@acme.test", "fullName": "In Vitee", "role": "ANALYST"}},
        token=admin.token,
    )
    assert created.ok()["createUser"]["role"] == "ANALYST"
    # no password exists until the invitation is accepted
    cannot = await api.gql(
        LOGIN, {"tenant": "acme", "email": "invitee@acme.test", "password": PASSWORD}
    )
    assert cannot.code == "UNAUTHENTICATED"
    [message] = await outbox("invitee@acme.test", "INVITATION")
    token = token_in(message)
    assert (await api.gql(ACCEPT, {"t": token, "p": "short"})).code == "BAD_USER_INPUT"
    accepted = (await api.gql(ACCEPT, {"t": token, "p": NEW_PASSWORD})).ok()["acceptInvitation"]
    assert accepted["user"] == {"email": "invitee@acme.test", "role": "ANALYST"}
    assert (await api.gql(ACCEPT, {"t": token, "p": NEW_PASSWORD})).code == "BAD_USER_INPUT"
    assert await api.login("acme", "invitee@acme.test", NEW_PASSWORD)


async def test_a_reset_token_is_not_an_invitation(api, world):
    member = world("acme", "investor")
    await api.gql(REQUEST_RESET, {"t": "acme", "e": member.email})
    [message] = await outbox(member.email, "PASSWORD_RESET")
    assert (
        await api.gql(ACCEPT, {"t": token_in(message), "p": NEW_PASSWORD})
    ).code == "BAD_USER_INPUT"
