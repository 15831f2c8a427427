"""Users: visibility, listing with keyset pages and search, creation, profile, KYC review."""

import asyncio

from models.audit import AuditEntry
from models.users import User
from tests.support.users import CREATE_USER, KYC, PROFILE

USERS = """query($first: Int, $after: String, $role: Role, $search: String) {
  users(first: $first, after: $after, role: $role, search: $search) {
    edges { cursor node { email role } } pageInfo { hasNextPage endCursor } } }"""


async def test_users_pages_through_the_tenant_in_creation_order(api, world):
    admin = world("acme", "admin")
    seen, after = [], None
    while True:
        page = (await api.gql(USERS, {"first": 2, "after": after}, token=admin.token)).ok()["users"]
        seen += [edge["node"]["email"] for edge in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert seen == [
        f"{who}@acme.test" for who in ("admin", "manager", "analyst", "investor", "investor2")
    ]


async def test_users_filters_by_role_and_search(api, world):
    token = world("acme", "analyst").token
    investors = (await api.gql(USERS, {"role": "INVESTOR"}, token=token)).ok()["users"]["edges"]
    assert {e["node"]["email"] for e in investors} == {"investor@acme.test", "investor2@acme.test"}
    by_prefix = (await api.gql(USERS, {"search": "Man"}, token=token)).ok()["users"]["edges"]
    assert [e["node"]["email"] for e in by_prefix] == ["manager@acme.test"]
    regex_chars = (await api.gql(USERS, {"search": ".*"}, token=token)).ok()["users"]["edges"]
    assert regex_chars == []


async def test_page_size_is_capped_and_cursors_are_tamper_checked(api, world, settings):
    token = world("acme", "admin").token
    too_many = await api.gql(USERS, {"first": settings.max_page_size + 1}, token=token)
    assert (too_many.code, too_many.errors[0]["extensions"]["field"]) == ("BAD_USER_INPUT", "first")
    assert (await api.gql(USERS, {"first": 0}, token=token)).code == "BAD_USER_INPUT"
    cursor = (await api.gql(USERS, {"first": 1}, token=token)).ok()["users"]["pageInfo"][
        "endCursor"
    ]
    body, signature = cursor.split(".")
    for forged in [f"{body}x.{signature}", f"{body}.{signature[::-1]}", "Zm9v", "", "a.b.c"]:
        result = await api.gql(USERS, {"after": forged}, token=token)
        assert (result.code, result.errors[0]["extensions"]["field"]) == ("BAD_USER_INPUT", "after")
    # a cursor of another tenant's list still only pages this tenant
    other = world("globex", "admin").token
    mine = (await api.gql(USERS, {"first": 1, "after": cursor}, token=other)).ok()["users"]
    assert all(e["node"]["email"].endswith("@globex.test") for e in mine["edges"])


async def test_create_user_validates_and_rejects_duplicates(api, world):
    token = world("acme", "admin").token
    good = {
        "email": "Fresh@Acme.test",
        "fullName": "  Fresh   Person ",
        "role": "MANAGER",
        "password": "a long enough password",
    }
    created = (await api.gql(CREATE_USER, {"i": good}, token=token)).ok()["createUser"]
    assert (created["email"], created["fullName"]) == ("fresh@acme.test", "Fresh Person")
    duplicate = await api.gql(CREATE_USER, {"i": {**good, "email": "FRESH@acme.test"}}, token=token)
    assert (duplicate.code, duplicate.errors[0]["extensions"]["field"]) == ("CONFLICT", "email")
    # the same email in another tenant is a different person
    assert (await api.gql(CREATE_USER, {"i": good}, token=world("globex", "admin").token)).ok()
    bad_cases = [
        ({"email": "not-an-email"}, "email"),
        ({"email": "x" * 250 + "@a.test"}, "email"),
        ({"fullName": "   "}, "fullName"),
        ({"fullName": "x" * 201}, "fullName"),
        ({"password": "short"}, "password"),
        ({"password": "x" * 300}, "password"),
    ]
    for override, field in bad_cases:
        result = await api.gql(
            CREATE_USER, {"i": {**good, "email": "other@acme.test", **override}}, token=token
        )
        assert (result.code, result.errors[0]["extensions"]["field"]) == ("BAD_USER_INPUT", field)
    assert await User.find({"email": "other@acme.test"}).count() == 0
    audit = await AuditEntry.find({"action": "user.create"}).to_list()
    assert len(audit) == 2


async def test_concurrent_creation_of_one_email_creates_one_user(api, world):
    token = world("acme", "admin").token
    person = {"email": "race@acme.test", "fullName": "Race", "role": "INVESTOR"}
    results = await asyncio.gather(
        *[api.gql(CREATE_USER, {"i": person}, token=token) for _ in range(5)]
    )
    assert sum(1 for r in results if not r.errors) == 1
    assert {r.code for r in results if r.errors} == {"CONFLICT"}
    assert await User.find({"email": "race@acme.test"}).count() == 1


async def test_update_profile(api, world):
    member = world("acme", "investor")
    changed = (
        await api.gql(
            PROFILE,
            {"i": {"fullName": "Ivy Investor", "phone": "+41 79 123 45 67", "baseCurrency": "chf"}},
            token=member.token,
        )
    ).ok()
    assert changed["updateProfile"] == {
        "fullName": "Ivy Investor",
        "phone": "+41791234567",
        "baseCurrency": "CHF",
    }
    for payload, field in [
        ({"phone": "12345"}, "phone"),
        ({"baseCurrency": "EURO"}, "baseCurrency"),
        ({"fullName": ""}, "fullName"),
    ]:
        result = await api.gql(PROFILE, {"i": payload}, token=member.token)
        assert (result.code, result.errors[0]["extensions"]["field"]) == ("BAD_USER_INPUT", field)
    stored = await User.get(member.id)
    assert (stored.full_name, stored.base_currency) == ("Ivy Investor", "CHF")
    found = (await api.gql(USERS, {"search": "ivy"}, token=world("acme", "admin").token)).ok()
    assert [e["node"]["email"] for e in found["users"]["edges"]] == [member.email]


async def test_review_kyc_is_audited_and_needs_a_reason_to_reject(api, world):
    manager, investor = world("acme", "manager"), world("acme", "investor")
    approved = await api.gql(
        KYC, {"u": investor.id, "s": "APPROVED", "r": "passport checked"}, token=manager.token
    )
    assert approved.ok()["reviewKyc"]["kycStatus"] == "APPROVED"
    no_reason = await api.gql(KYC, {"u": investor.id, "s": "REJECTED"}, token=manager.token)
    assert (no_reason.code, no_reason.errors[0]["extensions"]["field"]) == (
        "BAD_USER_INPUT",
        "reason",
    )
    reset = await api.gql(
        KYC, {"u": investor.id, "s": "NOT_STARTED", "r": "x"}, token=manager.token
    )
    assert reset.code == "BAD_USER_INPUT"
    own = await api.gql(KYC, {"u": manager.id, "s": "APPROVED"}, token=manager.token)
    assert own.code == "FORBIDDEN"
    assert (
        await api.gql(KYC, {"u": "bogus", "s": "APPROVED"}, token=manager.token)
    ).code == "BAD_USER_INPUT"
    [entry] = await AuditEntry.find({"action": "kyc.review"}).to_list()
    assert entry.detail == {
        "previous": "NOT_STARTED",
        "status": "APPROVED",
        "reason": "passport checked",
    }
    assert str(entry.actor_id) == manager.id
    assert entry.client_ip == "127.0.0.1" and entry.request_id
    assert (await User.get(investor.id)).kyc_status.value == "APPROVED"
