"""Opportunities: drafting, visibility, publishing (with its event), interest, investing
with KYC, minimum and capacity checks, idempotency, and no oversubscription under load."""

import asyncio
import contextlib
import json

from models.opportunities import Opportunity
from models.users import KycStatus
from subscriptions.opportunities import opportunities_topic
from tests.support.domain import crowd, make_ready, tenant_of
from tests.support.opportunities import CREATE, INVEST, PUBLISH, create, open_deal

CLOSE = "mutation($id: ID!) { closeOpportunity(id: $id) { id status } }"
UPDATE = """mutation($id: ID!, $i: UpdateOpportunityInput!) { updateOpportunity(id: $id, input: $i) {
  id name targetRaise } }"""
LIST = """query($s: OpportunityStatus, $sector: String, $after: String) {
  opportunities(first: 2, status: $s, sector: $sector, after: $after) {
    edges { node { id name status } } pageInfo { hasNextPage endCursor } } }"""
ONE = "query($id: ID!) { opportunity(id: $id) { id status raisedAmount interests { investor { email } } } }"
INTEREST = "mutation($id: ID!) { expressInterest(opportunityId: $id) { id opportunity { id } investor { email } } }"


async def test_drafts_are_staff_only_and_publishing_announces(api, world, runtime):
    manager, investor = world("acme", "manager"), world("acme", "investor")
    deal = await create(api, manager, sector="Energy")
    assert (deal["status"], deal["raisedAmount"]) == ("DRAFT", "0.00")
    assert (await api.gql(ONE, {"id": deal["id"]}, token=investor.token)).code == "NOT_FOUND"
    listed = (await api.gql(LIST, {}, token=investor.token)).ok()["opportunities"]["edges"]
    assert listed == []
    drafts = await api.gql(LIST, {"s": "DRAFT"}, token=investor.token)
    assert drafts.code == "BAD_USER_INPUT"

    stream = runtime.services.broker.listen([opportunities_topic(await tenant_of(manager))])
    received: asyncio.Queue = asyncio.Queue()

    async def drain():
        async for item in stream:
            await received.put(item)

    task = asyncio.create_task(drain())
    await asyncio.sleep(0.2)
    assert (await api.gql(PUBLISH, {"id": deal["id"]}, token=manager.token)).ok()[
        "publishOpportunity"
    ]["status"] == "OPEN"
    _topic, message = await asyncio.wait_for(received.get(), 5)
    assert json.loads(message) == {"id": deal["id"]}
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    assert (await api.gql(PUBLISH, {"id": deal["id"]}, token=manager.token)).code == "CONFLICT"
    assert (await api.gql(ONE, {"id": deal["id"]}, token=investor.token)).ok()
    assert (await api.gql(PUBLISH, {"id": deal["id"]}, token=investor.token)).code == "FORBIDDEN"


async def test_filters_and_pages(api, world):
    manager = world("acme", "manager")
    for i, sector in enumerate(["Energy", "energy ", "Health"]):
        deal = await create(api, manager, name=f"Deal {i}", sector=sector)
        await api.gql(PUBLISH, {"id": deal["id"]}, token=manager.token)
    await create(api, manager, name="Draft")
    token = world("acme", "investor").token
    energy = (await api.gql(LIST, {"sector": "ENERGY"}, token=token)).ok()["opportunities"]
    assert [e["node"]["name"] for e in energy["edges"]] == ["Deal 0", "Deal 1"]
    assert energy["pageInfo"]["hasNextPage"] is False
    first = (await api.gql(LIST, {}, token=token)).ok()["opportunities"]
    assert first["pageInfo"]["hasNextPage"] is True
    rest = (await api.gql(LIST, {"after": first["pageInfo"]["endCursor"]}, token=token)).ok()
    assert [e["node"]["name"] for e in rest["opportunities"]["edges"]] == ["Deal 2"]
    staff_drafts = await api.gql(LIST, {"s": "DRAFT"}, token=manager.token)
    assert [e["node"]["name"] for e in staff_drafts.ok()["opportunities"]["edges"]] == ["Draft"]
    foreign = await api.gql(LIST, {}, token=world("globex", "investor").token)
    assert foreign.ok()["opportunities"]["edges"] == []


async def test_create_and_update_validate_input(api, world):
    manager = world("acme", "manager")
    bad = [
        ({"targetRaise": "0"}, "targetRaise"),
        ({"minimumInvestment": "1.001"}, "minimumInvestment"),
        ({"name": " "}, "name"),
        ({"description": "x" * 20001}, "description"),
        ({"minimumInvestment": "200000.00"}, "minimumInvestment"),
        ({"closesAt": "2001-01-01T00:00:00Z"}, "closesAt"),
    ]
    for override, field in bad:
        payload = {
            "name": "N",
            "description": "D",
            "targetRaise": "100000.00",
            "minimumInvestment": "1000.00",
            **override,
        }
        result = await api.gql(CREATE, {"i": payload}, token=manager.token)
        assert (result.code, result.errors[0]["extensions"]["field"]) == ("BAD_USER_INPUT", field)
    assert await Opportunity.find({}).count() == 0
    deal = await open_deal(api, world)
    renamed = await api.gql(
        UPDATE, {"id": deal["id"], "i": {"name": "Wind Farm"}}, token=manager.token
    )
    assert renamed.ok()["updateOpportunity"]["name"] == "Wind Farm"
    money = await api.gql(
        UPDATE, {"id": deal["id"], "i": {"targetRaise": "5.00"}}, token=manager.token
    )
    assert money.code == "CONFLICT"
    assert (await api.gql(CLOSE, {"id": deal["id"]}, token=manager.token)).ok()
    closed = await api.gql(UPDATE, {"id": deal["id"], "i": {"name": "x"}}, token=manager.token)
    assert closed.code == "CONFLICT"


async def test_interest_is_expressed_once(api, world):
    deal = await open_deal(api, world)
    investor = world("acme", "investor")
    interest = (await api.gql(INTEREST, {"id": deal["id"]}, token=investor.token)).ok()
    assert interest["expressInterest"]["investor"]["email"] == investor.email
    assert (await api.gql(INTEREST, {"id": deal["id"]}, token=investor.token)).code == "CONFLICT"
    assert (
        await api.gql(INTEREST, {"id": deal["id"]}, token=world("acme", "manager").token)
    ).code == "FORBIDDEN"
    await api.gql(INTEREST, {"id": deal["id"]}, token=world("acme", "investor2").token)
    staff_view = (await api.gql(ONE, {"id": deal["id"]}, token=world("acme", "analyst").token)).ok()
    assert len(staff_view["opportunity"]["interests"]) == 2
    own_view = (await api.gql(ONE, {"id": deal["id"]}, token=investor.token)).ok()
    assert [i["investor"]["email"] for i in own_view["opportunity"]["interests"]] == [
        investor.email
    ]
    draft = await create(api, world("acme", "manager"), name="Later")
    assert (await api.gql(INTEREST, {"id": draft["id"]}, token=investor.token)).code == "NOT_FOUND"


async def test_invest_checks_kyc_minimum_capacity_and_status(api, world):
    deal = await open_deal(api, world, target="10000.00", minimum="1000.00")
    investor = world("acme", "investor")
    no_kyc = await api.gql(
        INVEST, {"id": deal["id"], "a": "1000.00", "k": "a"}, token=investor.token
    )
    assert no_kyc.code == "CONFLICT"
    assert "KYC" in no_kyc.errors[0]["message"]
    await make_ready(investor, agreement=False)
    below = await api.gql(INVEST, {"id": deal["id"], "a": "999.99", "k": "b"}, token=investor.token)
    assert (below.code, below.errors[0]["extensions"]["field"]) == ("BAD_USER_INPUT", "amount")
    first = await api.gql(
        INVEST, {"id": deal["id"], "a": "9000.00", "k": "c"}, token=investor.token
    )
    assert first.ok()["invest"]["opportunity"]["raisedAmount"] == "9000.00"
    replay = await api.gql(
        INVEST, {"id": deal["id"], "a": "9000.00", "k": "c"}, token=investor.token
    )
    assert replay.ok()["invest"]["id"] == first.ok()["invest"]["id"]
    over = await api.gql(INVEST, {"id": deal["id"], "a": "1000.01", "k": "d"}, token=investor.token)
    assert over.code == "CONFLICT"
    assert "1000.00" in over.errors[0]["message"]
    last = await api.gql(INVEST, {"id": deal["id"], "a": "1000.00", "k": "e"}, token=investor.token)
    assert last.ok()
    funded = (await api.gql(ONE, {"id": deal["id"]}, token=investor.token)).ok()["opportunity"]
    assert (funded["status"], funded["raisedAmount"]) == ("FUNDED", "10000.00")
    more = await api.gql(INVEST, {"id": deal["id"], "a": "1000.00", "k": "f"}, token=investor.token)
    assert more.code == "CONFLICT"


async def test_concurrent_investments_never_oversubscribe(api, world, runtime):
    deal = await open_deal(api, world, target="50000.00", minimum="1000.00")
    investors = await crowd(api, world, 12, name="Crowd", kyc_status=KycStatus.APPROVED)
    # 12 investors × 7,000 = 84,000 asked for 50,000 of capacity
    results = await asyncio.gather(
        *[
            api.gql(INVEST, {"id": deal["id"], "a": "7000.00", "k": f"k{i}"}, token=m.token)
            for i, m in enumerate(investors)
        ]
    )
    accepted = [r for r in results if not r.errors]
    assert len(accepted) == 7
    assert {r.code for r in results if r.errors} == {"CONFLICT"}
    stored = await Opportunity.get(deal["id"])
    assert str(stored.raised_amount) == "49000.00"
    assert stored.raised_amount <= stored.target_raise


async def test_edits_during_investments_keep_every_amount_raised(api, world):
    """An edit that read the opportunity before an investment must not write its old
    raised amount back (whole-document saves did)."""
    deal = await open_deal(api, world, target="1000000.00", minimum="1000.00")
    investors = await crowd(api, world, 8, name="Edit Race", kyc_status=KycStatus.APPROVED)
    manager = world("acme", "manager")
    results = await asyncio.gather(
        *[
            call
            for i, m in enumerate(investors)
            for call in (
                api.gql(INVEST, {"id": deal["id"], "a": "1000.00", "k": f"e{i}"}, token=m.token),
                api.gql(
                    UPDATE, {"id": deal["id"], "i": {"description": f"v{i}"}}, token=manager.token
                ),
            )
        ]
    )
    assert all(not r.errors for r in results), [r.errors for r in results if r.errors]
    stored = await Opportunity.get(deal["id"])
    assert str(stored.raised_amount) == "8000.00"
