"""Concurrent writes to one user never undo each other: each use case writes only the
fields it changes (conditionally where it matters), so a profile edit that read the user
before a KYC decision, a password change or an MFA enrolment cannot save the old values
back (it did, when use cases saved the whole document)."""

import asyncio

from models.users import User
from tests.conftest import PASSWORD
from tests.support.users import KYC, PROFILE

CHANGE_PASSWORD = """mutation($c: String!, $n: String!) {
  changePassword(currentPassword: $c, newPassword: $n) }"""
ENROLL = "mutation { enrollMfa { secret } }"
REVOKE_TOKEN = "mutation($id: ID!) { revokeServiceToken(id: $id) }"


def profile_edit(api, member, n: int):
    return api.gql(PROFILE, {"i": {"phone": f"+4179555{n:04d}"}}, token=member.token)


async def test_kyc_decisions_survive_concurrent_profile_edits(api, world):
    manager, investor = world("acme", "manager"), world("acme", "investor")
    for round_ in range(20):
        pending = await api.gql(KYC, {"u": investor.id, "s": "PENDING"}, token=manager.token)
        assert pending.ok()["reviewKyc"]["kycStatus"] == "PENDING"
        results = await asyncio.gather(
            *(profile_edit(api, investor, round_ * 10 + n) for n in range(3)),
            api.gql(
                KYC, {"u": investor.id, "s": "REJECTED", "r": "blurred scan"}, token=manager.token
            ),
            *(profile_edit(api, investor, round_ * 10 + n) for n in range(3, 6)),
        )
        assert all(not result.errors for result in results), [r.errors for r in results]
        stored = await User.get(investor.id)
        assert stored is not None and stored.kyc_status.value == "REJECTED", round_


async def test_a_kyc_review_of_a_state_that_changed_meanwhile_is_refused(api, world):
    manager, admin, investor = (world("acme", w) for w in ("manager", "admin", "investor"))
    outcomes = await asyncio.gather(
        *(
            api.gql(KYC, {"u": investor.id, "s": status, "r": "r"}, token=who.token)
            for status, who in [("APPROVED", manager), ("REJECTED", admin)] * 4
        )
    )
    codes = [outcome.code for outcome in outcomes]
    assert set(codes) <= {None, "CONFLICT"}
    assert codes.count(None) >= 1
    stored = await User.get(investor.id)
    assert stored is not None
    last_wins = [o.data["reviewKyc"]["kycStatus"] for o in outcomes if o.code is None]
    assert stored.kyc_status.value in last_wins


async def test_a_password_change_survives_concurrent_profile_edits(api, world):
    investor = world("acme", "investor")
    current = PASSWORD
    for round_ in range(8):
        new = f"a fresh passphrase number {round_}"
        results = await asyncio.gather(
            api.gql(CHANGE_PASSWORD, {"c": current, "n": new}, token=investor.token),
            *(profile_edit(api, investor, n) for n in range(12)),
        )
        assert all(not result.errors for result in results), [r.errors for r in results]
        current = new
        session = await api.login("acme", investor.email, current)  # the new one works
        investor.token = session["accessToken"]


async def test_an_mfa_enrolment_survives_concurrent_profile_edits(api, world):
    investor = world("acme", "investor")
    for _round in range(10):
        results = await asyncio.gather(
            *(profile_edit(api, investor, n) for n in range(3)),
            api.gql(ENROLL, token=investor.token),
            *(profile_edit(api, investor, n) for n in range(3, 6)),
        )
        assert all(not result.errors for result in results), [r.errors for r in results]
        secret = results[3].ok()["enrollMfa"]["secret"]
        stored = await User.get(investor.id)
        assert stored is not None and stored.mfa_pending_secret == secret


async def test_a_service_token_is_revoked_once(api, world, ingest_token):
    admin = world("acme", "admin")
    listed = await api.gql("query { serviceTokens { id } }", token=admin.token)
    [token] = listed.ok()["serviceTokens"]
    outcomes = await asyncio.gather(
        *(api.gql(REVOKE_TOKEN, {"id": token["id"]}, token=admin.token) for _ in range(8))
    )
    assert sorted(str(o.code) for o in outcomes) == ["CONFLICT"] * 7 + ["None"]
