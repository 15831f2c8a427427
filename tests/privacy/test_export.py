"""exportUserData: everything about a person in every domain, never a secret; ADMIN for
anyone of the tenant, everyone for themself; audited."""

import hashlib
from typing import Any

import orjson

from models.audit import AuditEntry
from models.identity import ActionToken, RefreshSession
from models.users import User
from tests.conftest import World
from tests.privacy.support import EXPORT, Subject, make_subject, oid, snapshot
from tests.support.api import Api
from tests.support.domain import invest_in_fund, make_ready


async def export_of(api: Api, member: Any, user_id: str) -> dict[str, Any]:
    result = await api.gql(EXPORT, {"id": user_id}, token=member.token)
    data: dict[str, Any] = result.ok()["exportUserData"]
    return data


def ids(rows: list[dict[str, Any]]) -> set[str]:
    return {row["id"] for row in rows}


async def test_the_export_holds_every_domain(api: Api, world: World) -> None:
    subject: Subject = await make_subject(api, world)
    admin = world("acme", "admin")
    data = await export_of(api, admin, subject.id)

    assert data["subjectId"] == subject.id
    profile = data["profile"]
    assert (profile["email"], profile["fullName"]) == (subject.email, subject.name)
    assert profile["phone"] == subject.phone
    assert profile["tenant"]["slug"] == "acme"
    assert profile["mfa"] == {"enabled": False, "enrollmentPending": True}
    assert len(data["sessions"]) == 2  # the invitation's and the later login
    assert {t["purpose"] for t in data["actionTokens"]} == {"INVITATION", "PASSWORD_RESET"}
    assert {m["kind"] for m in data["messagesSentToYou"]} == {"INVITATION", "PASSWORD_RESET"}

    assert subject.investment_id in ids(data["investments"])
    assert ids(data["redemptions"]) == {subject.redemption_id}
    [portfolio] = data["portfolios"]
    assert portfolio["id"] == subject.portfolio_id
    assert {t["type"] for t in portfolio["transactions"]} >= {"DEPOSIT"}
    assert ids(data["interests"]) == {subject.interest_id}
    assert data["interests"][0]["opportunityName"] == "Solar"
    [registration] = data["eventRegistrations"]
    assert registration["id"] == subject.registration_id
    assert registration["eventTitle"] == "Investor day"

    documents = {d["id"]: d for d in data["documents"]}
    assert {subject.kyc_document_id, subject.statement_id} <= set(documents)
    categories = {d["category"] for d in documents.values()}
    assert categories == {"AGREEMENT", "KYC_ID", "STATEMENT"}
    [agreement] = [d for d in documents.values() if d["category"] == "AGREEMENT"]
    assert agreement["yourSignatures"][0]["fullName"] == subject.name
    kyc = documents[subject.kyc_document_id]
    download = await api.client.get(api.base_url + kyc["downloadUrl"])
    assert download.status_code == 200
    assert hashlib.sha256(download.content).hexdigest() == kyc["sha256"]

    assert ids(data["conversations"]) == {subject.conversation_id}
    assert [m["id"] for m in data["messagesSent"]] == [subject.message_id]  # not the reply
    [prospect] = data["prospectRecords"]
    assert prospect["id"] == subject.prospect_id
    assert prospect["convertedUserId"] == subject.id
    assert [a["kind"] for a in prospect["activities"]] == ["CALL"]
    assert len(prospect["tasks"]) == 1
    actions = {e["action"] for e in data["auditEntries"]}
    assert {"auth.invitation_accept", "auth.login", "auth.login_failed"} <= actions
    assert "document.upload" in actions and "user.create" in actions


async def test_the_export_holds_no_secret(api: Api, world: World) -> None:
    subject = await make_subject(api, world)
    data = await export_of(api, world("acme", "admin"), subject.id)
    text = orjson.dumps(data).decode()
    user = await User.get(oid(subject.id))
    assert user is not None and user.password_hash and user.mfa_pending_secret
    stored_hashes = [user.password_hash, user.mfa_pending_secret]
    for session in await RefreshSession.find({"user_id": user.id}).to_list():
        stored_hashes += [session.token_hash, *session.previous_hashes]
    for token in await ActionToken.find({"user_id": user.id}).to_list():
        stored_hashes.append(token.token_hash)
    for name, secret in subject.secrets.items():
        assert secret not in text, name
    for secret in stored_hashes:
        assert secret not in text
    for key in ("passwordHash", "tokenHash", "previousHashes", "mfaSecret", "checkInCode"):
        assert f'"{key}"' not in text, key
    assert "Called" in text  # the CRM notes are there, only the secrets are not


async def test_exports_are_audited(api: Api, world: World) -> None:
    admin, investor = world("acme", "admin"), world("acme", "investor")
    await export_of(api, admin, investor.id)
    await export_of(api, investor, investor.id)
    entries = await AuditEntry.find({"action": "user.export"}).sort("_id").to_list()
    assert [(str(e.actor_id), str(e.target_id)) for e in entries] == [
        (admin.id, investor.id),
        (investor.id, investor.id),
    ]
    assert entries[0].detail["sections"]["auditEntries"] >= 0


async def test_who_may_export_whom(api: Api, world: World) -> None:
    investor, investor2 = world("acme", "investor"), world("acme", "investor2")
    for who in ("admin", "manager", "analyst", "investor"):
        member = world("acme", who)
        own = await export_of(api, member, member.id)
        assert own["profile"]["email"] == member.email
    expectations = {
        ("investor", investor2.id): "NOT_FOUND",  # investors cannot see other users
        ("manager", investor.id): "FORBIDDEN",
        ("analyst", investor.id): "FORBIDDEN",
        ("admin", world("globex", "investor").id): "NOT_FOUND",
        ("admin", "not-an-id"): "BAD_USER_INPUT",
        ("admin", "0" * 24): "NOT_FOUND",
    }
    for (who, target), code in expectations.items():
        result = await api.gql(EXPORT, {"id": target}, token=world("acme", who).token)
        assert result.code == code, (who, target, result.body)
    assert await AuditEntry.find({"action": "user.export"}).count() == 4
    anonymous = await api.gql(EXPORT, {"id": investor.id})
    assert anonymous.code == "UNAUTHENTICATED"


async def test_the_export_holds_only_the_subjects_data(api: Api, world: World) -> None:
    manager, investor, investor2 = (world("acme", w) for w in ("manager", "investor", "investor2"))
    for member in (investor, investor2):
        await make_ready(member)
    mine = await invest_in_fund(api, manager, investor, key="mine")
    theirs = await invest_in_fund(api, manager, investor2, key="theirs")
    data = await export_of(api, world("acme", "admin"), investor.id)
    text = orjson.dumps(data).decode()
    assert mine["data"]["createInvestment"]["id"] in text
    assert theirs["data"]["createInvestment"]["id"] not in text
    assert investor2.email not in text
    [agreement] = data["documents"]
    assert agreement["ownerId"] == investor.id


async def test_exporting_changes_nothing_but_the_audit_log(api: Api, world: World) -> None:
    subject = await make_subject(api, world)
    before = await snapshot()
    await export_of(api, world("acme", "admin"), subject.id)
    after = await snapshot()
    old_entries = before.pop("audit_log")
    [entry] = [e for e in after.pop("audit_log") if e not in old_entries]
    assert entry["action"] == "user.export"
    for moving in ("webhook_deliveries",):  # the dispatcher works on these meanwhile
        before.pop(moving), after.pop(moving)
    assert after == before


async def test_an_admins_export_holds_no_webhook_or_service_token_secret(
    api: Api, world: World
) -> None:
    subject = await make_subject(api, world)  # the admin created a webhook for it
    admin = world("acme", "admin")
    created = await api.gql(
        'mutation { createServiceToken(name: "bridge", scopes: ["mt5:ingest"]) { id token } }',
        token=admin.token,
    )
    service_token = created.ok()["createServiceToken"]
    data = await export_of(api, admin, admin.id)
    text = orjson.dumps(data).decode()
    assert [t["id"] for t in data["serviceTokensCreated"]] == [service_token["id"]]
    [webhook] = data["webhooksCreated"]
    assert webhook["url"].endswith(".partner.invalid/in")
    assert service_token["token"] not in text
    assert subject.secrets["webhook secret"] not in text
    assert '"secretBox"' not in text and '"tokenHash"' not in text
    assert admin.password not in text


async def test_an_investors_export_holds_no_staff_address_or_user_agent(
    api: Api, world: World
) -> None:
    investor, manager = world("acme", "investor"), world("acme", "manager")
    signed_in = await api.gql(
        "mutation($t: String!, $e: String!, $p: String!) { "
        "login(tenant: $t, email: $e, password: $p) { accessToken } }",
        {"t": "acme", "e": investor.email, "p": investor.password},
        headers={"user-agent": "InvestorPhone/2.0"},
    )
    assert signed_in.ok()
    reviewed = await api.gql(
        'mutation($u: ID!) { reviewKyc(userId: $u, status: REJECTED, reason: "blurred") { id } }',
        {"u": investor.id},
        token=manager.token,
        headers={"user-agent": "StaffConsole/7.1"},
    )
    assert reviewed.ok()
    data = await export_of(api, investor, investor.id)
    assert "StaffConsole" not in orjson.dumps(data).decode()
    entries = data["auditEntries"]
    [review] = [e for e in entries if e["action"] == "kyc.review"]
    assert review["actorId"] == manager.id
    assert "clientIp" not in review and "userAgent" not in review
    logins = [e for e in entries if e["action"] == "auth.login"]
    assert "InvestorPhone/2.0" in {e["userAgent"] for e in logins}  # their own stay
    assert all(e["clientIp"] for e in logins)
