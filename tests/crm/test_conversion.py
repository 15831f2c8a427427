"""convertProspect: only WON with AML CLEAR or APPROVED; an INVESTOR invited through the
outbox (no password), once, even under concurrent attempts; audited."""

import asyncio

import pytest

from models.audit import AuditEntry
from models.crm import AmlResult, Prospect, ProspectStage
from models.identity import ActionToken, OutboxMessage
from models.users import User
from tests.crm.support import CONVERT, ONE, create_prospect, put_in_state, won
from tests.support.identity import ACCEPT, NEW_PASSWORD, token_in


@pytest.mark.parametrize(
    ("aml", "allowed"),
    [
        (None, False),
        (AmlResult.CLEAR, True),
        (AmlResult.APPROVED, True),
        (AmlResult.HIT, False),
        (AmlResult.MANUAL_REVIEW, False),
        (AmlResult.REJECTED, False),
    ],
    ids=lambda v: str(v),
)
async def test_only_clear_or_approved_prospects_convert(api, world, aml, allowed) -> None:
    prospect = await won(api, world, aml)
    result = await api.gql(CONVERT, {"id": prospect["id"]}, token=world("acme", "manager").token)
    if allowed:
        assert result.ok()["convertProspect"]["role"] == "INVESTOR"
    else:
        assert result.code == "CONFLICT"
        assert ("no AML result" if aml is None else aml.value) in result.errors[0]["message"]
        assert await User.find({"email": prospect["email"]}).count() == 0


@pytest.mark.parametrize("stage", [s for s in ProspectStage if s is not ProspectStage.WON])
async def test_only_won_prospects_convert(api, world, stage) -> None:
    prospect = await create_prospect(api, world("acme", "manager"), "Grace Hopper")
    await put_in_state(prospect["id"], stage, AmlResult.CLEAR)
    result = await api.gql(CONVERT, {"id": prospect["id"]}, token=world("acme", "admin").token)
    assert result.code == "CONFLICT"
    assert f"this one is {stage.value}" in result.errors[0]["message"]


async def test_conversion_invites_an_investor_once(api, world) -> None:
    manager = world("acme", "manager")
    prospect = await won(api, world)
    user = (await api.gql(CONVERT, {"id": prospect["id"]}, token=manager.token)).ok()[
        "convertProspect"
    ]
    assert (user["email"], user["fullName"], user["role"]) == (
        prospect["email"],
        "Grace Hopper",
        "INVESTOR",
    )
    stored = await User.get(user["id"])
    assert stored is not None and stored.password_hash is None  # no password invented
    linked = (await api.gql(ONE, {"id": prospect["id"]}, token=manager.token)).ok()["prospect"]
    assert linked["convertedUser"]["id"] == user["id"]
    [message] = await OutboxMessage.find({"to": prospect["email"], "kind": "INVITATION"}).to_list()
    accepted = await api.gql(ACCEPT, {"t": token_in(message), "p": NEW_PASSWORD})
    assert accepted.ok()["acceptInvitation"]["user"]["role"] == "INVESTOR"
    reused = await api.gql(ACCEPT, {"t": token_in(message), "p": NEW_PASSWORD})
    assert reused.code == "BAD_USER_INPUT"  # single use
    entry = await AuditEntry.find_one({"action": "prospect.convert"})
    assert entry is not None and entry.detail == {"user": user["id"]}
    again = await api.gql(CONVERT, {"id": prospect["id"]}, token=manager.token)
    assert again.code == "CONFLICT" and "already been converted" in again.errors[0]["message"]
    assert await User.find({"email": prospect["email"]}).count() == 1


async def test_concurrent_conversions_create_exactly_one_user(api, world) -> None:
    prospect = await won(api, world)
    tokens = [world("acme", "manager").token, world("acme", "admin").token] * 4
    results = await asyncio.gather(
        *(api.gql(CONVERT, {"id": prospect["id"]}, token=t) for t in tokens)
    )
    winners = [r for r in results if not r.errors]
    assert len(winners) == 1
    assert {r.code for r in results if r.errors} == {"CONFLICT"}
    assert await User.find({"email": prospect["email"]}).count() == 1
    assert await ActionToken.find({}).count() == 1
    assert await OutboxMessage.find({"to": prospect["email"]}).count() == 1
    stored = await Prospect.get(prospect["id"])
    assert (
        stored is not None
        and str(stored.converted_user_id) == winners[0].data["convertProspect"]["id"]
    )
    assert stored.converting is False


async def test_an_existing_users_email_cannot_convert(api, world) -> None:
    prospect = await won(api, world, email=world("acme", "investor").email)
    result = await api.gql(CONVERT, {"id": prospect["id"]}, token=world("acme", "admin").token)
    assert result.code == "CONFLICT"
    assert "already exists" in result.errors[0]["message"]
    stored = await Prospect.get(prospect["id"])
    assert stored is not None and stored.converted_user_id is None and not stored.converting


async def test_conversion_needs_staff_of_the_tenant(api, world) -> None:
    prospect = await won(api, world)
    for member, code in [
        (world("acme", "analyst"), "FORBIDDEN"),
        (world("acme", "investor"), "FORBIDDEN"),
        (world("globex", "admin"), "NOT_FOUND"),
    ]:
        result = await api.gql(CONVERT, {"id": prospect["id"]}, token=member.token)
        assert result.code == code
    assert await User.find({"email": prospect["email"]}).count() == 0


async def test_a_failed_user_creation_releases_the_claim(api, world, monkeypatch) -> None:
    """A user with the same email appears between the check and the creation (another
    request won that race): CONFLICT, and the prospect can be converted later."""
    from resolvers.crm import pipeline as crm
    from resolvers.users.people import create_user as real_create_user

    prospect = await won(api, world)
    intruder: list[User] = []

    async def racing_create_user(ctx, new):
        admin = await User.get(world("acme", "admin").id)
        assert admin is not None
        user = User(tenant_id=admin.tenant_id, email=new.email, full_name="X", role=new.role)
        await user.insert()
        intruder.append(user)
        return await real_create_user(ctx, new)

    monkeypatch.setattr(crm, "create_user", racing_create_user)
    token = world("acme", "manager").token
    lost = await api.gql(CONVERT, {"id": prospect["id"]}, token=token)
    assert lost.code == "CONFLICT" and "already exists" in lost.errors[0]["message"]
    stored = await Prospect.get(prospect["id"])
    assert stored is not None and not stored.converting and stored.converted_user_id is None
    monkeypatch.setattr(crm, "create_user", real_create_user)
    await intruder[0].delete()
    assert (await api.gql(CONVERT, {"id": prospect["id"]}, token=token)).ok()
