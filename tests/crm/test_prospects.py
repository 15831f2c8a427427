"""Creating prospects (validation, owners), who sees them, paging, and the pipeline
summary (every stage, exact Decimal sums)."""

import pytest

from models.audit import AuditEntry
from models.crm import Prospect, ProspectStage
from models.users import Role, User, search_terms
from tests.crm.support import CREATE, ONE, PIPELINE, create_prospect, put_in_state, unique_email

LIST = """query($s: ProspectStage, $after: String, $o: ID) {
  prospects(first: 2, stage: $s, after: $after, ownerId: $o) {
  edges { cursor node { id fullName stage } } pageInfo { hasNextPage endCursor } } }"""


async def second_manager(world, tenant: str = "acme") -> User:
    admin = await User.get(world(tenant, "admin").id)
    user = User(
        tenant_id=admin.tenant_id,
        email=f"manager2@{tenant}.test",
        full_name="Second Manager",
        role=Role.MANAGER,
        search=search_terms("second manager", f"manager2@{tenant}.test"),
    )
    await user.insert()
    return user


async def test_a_manager_creates_and_owns_a_prospect(api, world) -> None:
    manager = world("acme", "manager")
    created = await create_prospect(
        api, manager, "  Ada   Lovelace ", email="ADA@Example.test", expectedAmount="250000.50"
    )
    assert created["fullName"] == "Ada Lovelace"
    assert created["email"] == "ada@example.test"
    assert (created["stage"], created["expectedAmount"]) == ("LEAD", "250000.50")
    assert created["owner"]["email"] == manager.email
    assert [(h["fromStage"], h["toStage"]) for h in created["stageHistory"]] == [(None, "LEAD")]
    entry = await AuditEntry.find_one({"action": "prospect.create"})
    assert entry is not None and str(entry.target_id) == created["id"]
    duplicate = await api.gql(
        CREATE, {"i": {"fullName": "Ada", "email": "ada@example.test"}}, token=manager.token
    )
    assert (duplicate.code, duplicate.errors[0]["extensions"]["field"]) == ("CONFLICT", "email")
    assert await Prospect.find({}).count() == 1


@pytest.mark.parametrize(
    ("override", "field"),
    [
        ({"email": "not-an-email"}, "email"),
        ({"email": "a@b"}, "email"),
        ({"fullName": "   "}, "fullName"),
        ({"fullName": "x" * 201}, "fullName"),
        ({"expectedAmount": "0"}, "expectedAmount"),
        ({"expectedAmount": "-5.00"}, "expectedAmount"),
        ({"expectedAmount": "10.001"}, "expectedAmount"),
        ({"expectedAmount": "NaN"}, "expectedAmount"),
    ],
)
async def test_bad_input_is_refused_and_stores_nothing(api, world, override, field) -> None:
    payload = {"fullName": "Pat", "email": unique_email(), **override}
    result = await api.gql(CREATE, {"i": payload}, token=world("acme", "manager").token)
    assert result.code == "BAD_USER_INPUT", result.body
    if "field" in result.errors[0].get("extensions", {}):
        assert result.errors[0]["extensions"]["field"] == field
    assert await Prospect.find({}).count() == 0


async def test_owners_are_managers_assigned_by_admins(api, world) -> None:
    manager, admin = world("acme", "manager"), world("acme", "admin")
    other = await second_manager(world)

    def create(member, **extra):
        payload = {"fullName": "Pat", "email": unique_email(), **extra}
        return api.gql(CREATE, {"i": payload}, token=member.token)

    assigned = (await create(admin, ownerId=str(other.id))).ok()["createProspect"]
    assert assigned["owner"]["email"] == other.email
    assert (await create(manager, ownerId=manager.id)).ok()["createProspect"]["owner"]["email"] == (
        manager.email
    )
    assert (await create(manager, ownerId=str(other.id))).code == "FORBIDDEN"
    no_owner = await create(admin)
    assert (no_owner.code, no_owner.errors[0]["extensions"]["field"]) == (
        "BAD_USER_INPUT",
        "ownerId",
    )
    not_manager = await create(admin, ownerId=world("acme", "analyst").id)
    assert (not_manager.code, not_manager.errors[0]["extensions"]["field"]) == (
        "BAD_USER_INPUT",
        "ownerId",
    )
    assert (await create(admin, ownerId=world("globex", "manager").id)).code == "NOT_FOUND"
    assert (await create(admin, ownerId="zzz")).code == "BAD_USER_INPUT"
    assert await Prospect.find({}).count() == 2


async def test_readers_see_the_tenants_prospects_investors_nothing(api, world) -> None:
    prospect = await create_prospect(api, world("acme", "manager"))
    for who in ("admin", "manager", "analyst"):
        seen = await api.gql(ONE, {"id": prospect["id"]}, token=world("acme", who).token)
        assert seen.ok()["prospect"]["id"] == prospect["id"]
    assert (
        await api.gql(ONE, {"id": prospect["id"]}, token=world("acme", "investor").token)
    ).code == ("FORBIDDEN")
    for query in (LIST, PIPELINE):
        assert (await api.gql(query, {}, token=world("acme", "investor").token)).code == "FORBIDDEN"
    foreign = await api.gql(ONE, {"id": prospect["id"]}, token=world("globex", "admin").token)
    assert foreign.code == "NOT_FOUND"
    listed = await api.gql(LIST, {}, token=world("globex", "admin").token)
    assert listed.ok()["prospects"]["edges"] == []
    analyst = await api.gql(
        CREATE,
        {"i": {"fullName": "A", "email": unique_email()}},
        token=world("acme", "analyst").token,
    )
    assert analyst.code == "FORBIDDEN"


async def test_pages_and_the_stage_filter(api, world) -> None:
    manager = world("acme", "manager")
    made = [await create_prospect(api, manager, f"Person {i}") for i in range(3)]
    await put_in_state(made[1]["id"], ProspectStage.WON)
    first = (await api.gql(LIST, {}, token=manager.token)).ok()["prospects"]
    assert [e["node"]["fullName"] for e in first["edges"]] == ["Person 0", "Person 1"]
    assert first["pageInfo"]["hasNextPage"] is True
    rest = await api.gql(LIST, {"after": first["pageInfo"]["endCursor"]}, token=manager.token)
    assert [e["node"]["fullName"] for e in rest.ok()["prospects"]["edges"]] == ["Person 2"]
    won = (await api.gql(LIST, {"s": "WON"}, token=manager.token)).ok()["prospects"]
    assert [e["node"]["fullName"] for e in won["edges"]] == ["Person 1"]
    forged = await api.gql(LIST, {"after": "abc.def"}, token=manager.token)
    assert forged.code == "BAD_USER_INPUT"
    other = await second_manager(world)
    admin = world("acme", "admin")
    await create_prospect(api, admin, "Theirs", ownerId=str(other.id))
    theirs = await api.gql(LIST, {"o": str(other.id)}, token=manager.token)
    assert [e["node"]["fullName"] for e in theirs.ok()["prospects"]["edges"]] == ["Theirs"]
    mine = (await api.gql(LIST, {"o": manager.id}, token=manager.token)).ok()["prospects"]
    assert mine["pageInfo"]["hasNextPage"] is True
    assert (await api.gql(LIST, {"o": "x"}, token=manager.token)).code == "BAD_USER_INPUT"


async def test_the_pipeline_counts_and_sums_every_stage(api, world) -> None:
    manager = world("acme", "manager")
    empty = (await api.gql(PIPELINE, token=manager.token)).ok()["pipeline"]
    assert empty == [
        {"stage": s, "count": 0, "expectedAmount": "0.00"}
        for s in ("LEAD", "QUALIFIED", "PROPOSAL", "NEGOTIATION", "WON", "LOST")
    ]
    amounts = ["0.10", "0.20", "1000000.05", None, "99.99", "12.34"]
    stages = ["LEAD", "LEAD", "LEAD", "QUALIFIED", "WON", "LOST"]
    for amount, stage in zip(amounts, stages, strict=True):
        extra = {"expectedAmount": amount} if amount else {}
        prospect = await create_prospect(api, manager, **extra)
        await put_in_state(prospect["id"], ProspectStage(stage))
    await create_prospect(api, world("globex", "manager"), expectedAmount="5.00")  # not counted
    rows = (await api.gql(PIPELINE, token=world("acme", "analyst").token)).ok()["pipeline"]
    assert rows == [
        {"stage": "LEAD", "count": 3, "expectedAmount": "1000000.35"},
        {"stage": "QUALIFIED", "count": 1, "expectedAmount": "0.00"},
        {"stage": "PROPOSAL", "count": 0, "expectedAmount": "0.00"},
        {"stage": "NEGOTIATION", "count": 0, "expectedAmount": "0.00"},
        {"stage": "WON", "count": 1, "expectedAmount": "99.99"},
        {"stage": "LOST", "count": 1, "expectedAmount": "12.34"},
    ]
