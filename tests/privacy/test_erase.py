"""eraseUser: personal data gone from every collection, the ledger and the audit log kept
(under a pseudonym), no way back in; guarded (confirm, self, last ADMIN, twice) and
resumable after a crash."""

import asyncio
from datetime import timedelta
from typing import Any

import pytest

from models import ALL_DOCUMENTS
from models.audit import AuditEntry
from models.documents.records import DocumentRecord
from models.identity import ActionToken, OutboxMessage, RefreshSession
from models.messaging import Message
from models.portfolios.records import Portfolio
from models.users import ErasureState, Role, User, search_terms
from resolvers.documents import files as document_files
from resolvers.privacy import erasure as privacy_erase
from resolvers.privacy import erasure_steps
from tests.conftest import PASSWORD, World
from tests.privacy.support import (
    ERASE,
    EXPORT,
    Subject,
    collection_of,
    gridfs_files,
    make_subject,
    oid,
    raw,
    snapshot,
    text_of,
)
from tests.support.api import Api

ME = "{ me { id } }"
LEDGER = ("investments", "redemptions", "portfolios", "transactions", "fund_invitations")


async def erase(api: Api, world: World, subject_id: str, confirm: str, who: str = "admin") -> Any:
    return await api.gql(ERASE, {"id": subject_id, "c": confirm}, token=world("acme", who).token)


def pii_of(subject: Subject) -> list[str]:
    return [subject.email.lower(), subject.name.lower(), subject.phone]


async def collections_with_pii(subject: Subject) -> set[str]:
    """A scan of every collection's raw documents (and GridFS file names) for the
    person's email, name and phone. The audit log is append-only and kept as it was (see
    docs/domain-decisions.md, Privacy), so it is not scanned."""
    found = set()
    for model in ALL_DOCUMENTS:
        if model is AuditEntry:
            continue
        text = text_of(await raw(model))
        if any(needle in text for needle in pii_of(subject)):
            found.add(collection_of(model).name)
    files = text_of(await gridfs_files().find({}).to_list())
    if any(needle in files for needle in pii_of(subject)):
        found.add("gridfs")
    return found


async def assert_no_pii_anywhere(subject: Subject) -> None:
    assert await collections_with_pii(subject) == set()


async def test_erasure_removes_personal_data_and_keeps_the_ledger(api: Api, world: World) -> None:
    subject = await make_subject(api, world)
    admin = world("acme", "admin")
    before = await snapshot()
    event_before = await raw_event(subject)
    assert await collections_with_pii(subject) >= {  # the scan does find them
        "users",
        "prospects",
        "prospect_activities",
        "prospect_tasks",
        "messages",
        "outbox",
        "login_throttles",
        "documents",
        "webhook_deliveries",
        "gridfs",
    }

    result = await erase(api, world, subject.id, f"  {subject.email.upper()} ")
    erased = result.ok()["eraseUser"]
    user = await User.get(oid(subject.id))
    assert user is not None and user.pseudonym
    assert erased == {
        "id": subject.id,
        "email": f"erased-{user.pseudonym}@invalid",
        "fullName": f"Erased user {user.pseudonym}",
        "phone": None,
        "mfaEnabled": False,
    }
    assert user.erasure is ErasureState.ERASED and user.erased_at is not None
    assert (user.password_hash, user.mfa_secret, user.mfa_pending_secret) == (None, None, None)
    assert user.search == search_terms(user.full_name, user.email)
    await assert_no_pii_anywhere(subject)

    after = await snapshot()
    for name in LEDGER:  # investments, redemptions, portfolios, transactions: untouched
        assert after[name] == before[name], name
    [portfolio] = [p for p in after["portfolios"] if str(p["_id"]) == subject.portfolio_id]
    assert str(portfolio["owner_id"]) == subject.id

    old_entries = before["audit_log"]
    assert after["audit_log"][: len(old_entries)] == old_entries  # unchanged, append-only
    [entry] = after["audit_log"][len(old_entries) :]
    assert (entry["action"], str(entry["actor_id"]), str(entry["target_id"])) == (
        "user.erase",
        admin.id,
        subject.id,
    )
    assert entry["detail"]["pseudonym"] == user.pseudonym
    assert entry["detail"]["resumed"] is False
    assert subject.email.lower() not in text_of([entry])

    # documents: KYC bytes gone, the signed agreement and the statement retained
    kyc = await DocumentRecord.get(oid(subject.kyc_document_id))
    assert kyc is not None and kyc.file_id is None and kyc.filename == "erased"
    kyc_before = next(d for d in before["documents"] if str(d["_id"]) == subject.kyc_document_id)
    assert not await document_files.exists(kyc_before["file_id"])
    kept = await DocumentRecord.find({"owner_id": user.id, "file_id": {"$ne": None}}).to_list()
    assert {d.category.value for d in kept} == {"AGREEMENT", "STATEMENT"}
    for doc in kept:
        assert doc.file_id is not None and await document_files.exists(doc.file_id)
        assert await document_files.sha256_of(doc.file_id) == doc.sha256
    [agreement] = [d for d in kept if d.category.value == "AGREEMENT"]
    assert agreement.signatures[0].full_name == user.full_name
    assert agreement.signatures[0].document_sha256 == agreement.sha256

    # messages: theirs erased, the manager's reply no longer names them
    bodies = {m.sender_id: m.body for m in await Message.find_all().to_list()}
    assert bodies[user.id] == "[erased]"
    assert bodies[oid(world("acme", "manager").id)] == f"Sure, {user.full_name}!"

    # credentials: sessions revoked, tokens, outbox mail and the login throttle gone
    sessions = await RefreshSession.find({"user_id": user.id}).to_list()
    assert sessions and all(s.revoked_at is not None for s in sessions)
    assert all(s.client_ip is None and s.user_agent is None for s in sessions)
    assert await ActionToken.find({"user_id": user.id}).count() == 0
    assert [t for t in before["login_throttles"] if subject.email in t["key"]]
    assert not [t for t in after["login_throttles"] if subject.email in t["key"]]

    # registrations: kept (the event's counts do not move), pointing at the pseudonym
    assert await raw_event(subject) == event_before
    [registration] = [r for r in after["event_registrations"]]
    assert str(registration["user_id"]) == subject.id

    # the prospect record: anonymised
    [prospect] = after["prospects"]
    assert prospect["full_name"] == user.full_name and prospect["email"] == user.email


async def raw_event(subject: Subject) -> dict[str, Any]:
    from models.events import Event

    [event] = await raw(Event, {"_id": oid(subject.event_id)})
    return {k: event[k] for k in ("registered_count", "waitlist_count", "status")}


async def test_the_erased_user_cannot_get_back_in(api: Api, world: World) -> None:
    subject = await make_subject(api, world)
    assert (await api.gql(ME, token=subject.member.token)).ok()
    assert (await erase(api, world, subject.id, subject.email)).ok()
    assert (await api.gql(ME, token=subject.member.token)).code == "UNAUTHENTICATED"
    refresh = await api.gql(
        "mutation($r: String!) { refreshToken(refreshToken: $r) { accessToken } }",
        {"r": subject.refresh_token},
    )
    assert refresh.code == "UNAUTHENTICATED"
    user = await User.get(oid(subject.id))
    assert user is not None
    for email in (subject.email, user.email):
        login = await api.gql(
            'mutation($e: String!, $p: String!) { login(tenant: "acme", email: $e, '
            "password: $p) { accessToken } }",
            {"e": email, "p": subject.member.password},
        )
        assert login.code == "UNAUTHENTICATED", login.body
        reset = await api.gql(
            'mutation($e: String!) { requestPasswordReset(tenant: "acme", email: $e) }',
            {"e": email},
        )
        assert reset.ok()["requestPasswordReset"] is True
    assert (
        await OutboxMessage.find({}).count()
        == await OutboxMessage.find({"to": {"$nin": [subject.email, user.email]}}).count()
    )
    accept = await api.gql(
        'mutation($t: String!) { acceptInvitation(token: $t, password: "another passphrase 9") '
        "{ accessToken } }",
        {"t": subject.secrets["invitation token"]},
    )
    assert accept.code == "BAD_USER_INPUT"


async def test_an_export_after_erasure_shows_only_the_pseudonym(api: Api, world: World) -> None:
    subject = await make_subject(api, world)
    assert (await erase(api, world, subject.id, subject.email)).ok()
    result = await api.gql(EXPORT, {"id": subject.id}, token=world("acme", "admin").token)
    data = result.ok()["exportUserData"]
    assert data["profile"]["fullName"].startswith("Erased user ")
    assert data["investments"] and data["portfolios"][0]["transactions"]
    assert data["messagesSent"][0]["body"] == "[erased]"


CREATE_PORTFOLIO = "mutation($n: String!, $o: ID) { createPortfolio(name: $n, ownerId: $o) { id } }"


async def test_their_portfolios_lose_their_name(api: Api, world: World) -> None:
    """ "Zelda Quintessa Marlowe's savings" → "[erased]'s savings": the full name, the email
    and each name part, whole words, any case; nobody else's portfolio changes."""
    subject = await make_subject(api, world)
    manager = world("acme", "manager")
    names = {
        "Zelda Quintessa Marlowe's savings": "[erased]'s savings",
        "MARLOWE family trust": "[erased] family trust",
        "zelda's fun money": "[erased]'s fun money",
        "Zeldas and Marlowes": "Zeldas and Marlowes",  # whole words only
    }
    ids = {}
    for name in names:
        created = await api.gql(CREATE_PORTFOLIO, {"n": name, "o": subject.id}, token=manager.token)
        ids[name] = created.ok()["createPortfolio"]["id"]
    other = world("acme", "investor2")
    created = await api.gql(
        CREATE_PORTFOLIO, {"n": "Marlowe fund", "o": other.id}, token=manager.token
    )
    others = created.ok()["createPortfolio"]["id"]

    assert (await erase(api, world, subject.id, subject.email)).ok()
    for name, expected in names.items():
        [portfolio] = await raw(Portfolio, {"_id": oid(ids[name])})
        assert portfolio["name"] == expected
    [kept] = await raw(Portfolio, {"_id": oid(others)})
    assert kept["name"] == "Marlowe fund"
    await assert_no_pii_anywhere(subject)


async def test_erasing_twice_is_a_conflict_and_changes_nothing(api: Api, world: World) -> None:
    subject = await make_subject(api, world)
    assert (await erase(api, world, subject.id, subject.email)).ok()
    before = await snapshot()
    user = await User.get(oid(subject.id))
    assert user is not None
    for confirm in (subject.email, user.email):
        again = await erase(api, world, subject.id, confirm)
        assert again.code == "CONFLICT", again.body
        assert "already erased" in again.errors[0]["message"]
    after = await snapshot()
    before.pop("webhook_deliveries"), after.pop("webhook_deliveries")  # the dispatcher's
    assert after == before


async def test_a_wrong_confirmation_changes_nothing(api: Api, world: World) -> None:
    investor = world("acme", "investor")
    before = await raw(User, {"_id": oid(investor.id)})
    for confirm in ("", "someone@else.test", world("acme", "investor2").email, "x" * 5000):
        result = await erase(api, world, investor.id, confirm)
        assert result.code == "BAD_USER_INPUT", result.body
        assert result.errors[0]["extensions"].get("field") == "confirm"
    assert await raw(User, {"_id": oid(investor.id)}) == before
    assert (await api.gql(ME, token=investor.token)).ok()


async def test_only_an_admin_erases_and_only_in_their_tenant(api: Api, world: World) -> None:
    investor = world("acme", "investor")
    for who in ("manager", "analyst", "investor"):
        result = await erase(api, world, investor.id, investor.email, who)
        assert result.code == "FORBIDDEN", (who, result.body)
    other = world("globex", "investor")
    assert (await erase(api, world, other.id, other.email)).code == "NOT_FOUND"
    assert (await erase(api, world, "nope", investor.email)).code == "BAD_USER_INPUT"
    user = await User.get(oid(investor.id))
    assert user is not None and user.erasure is None


async def test_nobody_erases_themself(api: Api, world: World) -> None:
    admin = world("acme", "admin")
    result = await erase(api, world, admin.id, admin.email)
    assert result.code == "CONFLICT"
    user = await User.get(oid(admin.id))
    assert user is not None and user.erasure is None


async def second_admin(api: Api, world: World) -> Any:
    email = "second-admin@acme.test"
    created = await api.gql(
        "mutation($i: CreateUserInput!) { createUser(input: $i) { id } }",
        {"i": {"email": email, "fullName": "Second Admin", "role": "ADMIN", "password": PASSWORD}},
        token=world("acme", "admin").token,
    )
    session = await api.login("acme", email, PASSWORD)
    return created.ok()["createUser"]["id"], email, session["accessToken"]


async def test_an_admin_erases_another_admin_but_not_the_last(api: Api, world: World) -> None:
    admin = world("acme", "admin")
    second_id, second_email, _ = await second_admin(api, world)
    # the caller's own erasure is under way: the target would be the last active ADMIN
    await collection_of(User).update_one(
        {"_id": oid(admin.id)}, {"$set": {"erasure": ErasureState.ERASING.value}}
    )
    last = await erase(api, world, second_id, second_email)
    assert last.code == "CONFLICT" and "last ADMIN" in last.errors[0]["message"]
    await collection_of(User).update_one({"_id": oid(admin.id)}, {"$set": {"erasure": None}})
    assert (await erase(api, world, second_id, second_email)).ok()


async def test_two_admins_erasing_each_other_leave_one(api: Api, world: World) -> None:
    admin = world("acme", "admin")
    second_id, second_email, second_token = await second_admin(api, world)
    results = await asyncio.gather(
        erase(api, world, second_id, second_email),
        api.gql(ERASE, {"id": admin.id, "c": admin.email}, token=second_token),
    )
    assert sum(1 for r in results if not r.errors) <= 1
    active = await User.find({"role": Role.ADMIN.value, "erasure": None}).to_list()
    assert {str(u.tenant_id) for u in active} == {
        str(u.tenant_id) for u in await User.find({"role": Role.ADMIN.value}).to_list()
    }  # every tenant still has an active ADMIN


async def test_concurrent_erasures_of_one_user_erase_once(api: Api, world: World) -> None:
    investor = world("acme", "investor")
    results = await asyncio.gather(
        *(erase(api, world, investor.id, investor.email) for _ in range(3))
    )
    assert sorted(r.code or "OK" for r in results) == ["CONFLICT", "CONFLICT", "OK"]
    assert await AuditEntry.find({"action": "user.erase"}).count() == 1


async def test_a_failed_step_is_resumed_by_the_next_call(
    api: Api, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    subject = await make_subject(api, world)

    async def crash(run: erasure_steps.Erasure) -> None:
        raise RuntimeError("the process died here")

    steps = list(privacy_erase.STEPS)
    steps.insert(steps.index(erasure_steps.documents) + 1, crash)
    monkeypatch.setattr(privacy_erase, "STEPS", tuple(steps))
    failed = await erase(api, world, subject.id, subject.email)
    assert failed.code == "INTERNAL_SERVER_ERROR"
    user = await User.get(oid(subject.id))
    assert user is not None and user.erasure is ErasureState.ERASING
    pseudonym = user.pseudonym
    assert user.password_hash is None  # the steps before the crash are done
    assert user.email == subject.email  # the last step (name, email) is not
    assert (await api.gql(ME, token=subject.member.token)).code == "UNAUTHENTICATED"
    assert [m.body for m in await Message.find({"sender_id": user.id}).to_list()] != ["[erased]"]
    assert await AuditEntry.find({"action": "user.erase"}).count() == 0

    monkeypatch.undo()
    resumed = await erase(api, world, subject.id, subject.email)
    assert resumed.ok()["eraseUser"]["fullName"] == f"Erased user {pseudonym}"
    await assert_no_pii_anywhere(subject)
    [entry] = await AuditEntry.find({"action": "user.erase"}).to_list()
    assert entry.detail["resumed"] is True


async def test_a_crashed_erasure_is_resumed_once_its_lease_ran_out(
    api: Api, world: World, runtime: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A process that died mid-erasure left ERASING with a live lease behind."""
    investor = world("acme", "investor")
    now = runtime.services.clock()
    await collection_of(User).update_one(
        {"_id": oid(investor.id)},
        {
            "$set": {
                "erasure": ErasureState.ERASING.value,
                "pseudonym": "abc123abc123",
                "erasure_lease_until": now + timedelta(minutes=4),
            }
        },
    )
    running = await erase(api, world, investor.id, investor.email)
    assert running.code == "CONFLICT" and "running" in running.errors[0]["message"]
    later = now + timedelta(minutes=6)
    monkeypatch.setattr(runtime.services, "clock", lambda: later)
    resumed = await erase(api, world, investor.id, investor.email)
    assert resumed.ok()["eraseUser"]["email"] == "erased-abc123abc123@invalid"
    user = await User.get(oid(investor.id))
    assert user is not None and user.erasure is ErasureState.ERASED
    assert user.erasure_lease_until is None
