"""Business events reach a real receiver, signed: investments (fund and opportunity) and
redemption decisions; only subscribed endpoints of the event's tenant get them."""

import uuid

import orjson
from beanie import PydanticObjectId

from models.crm import AmlResult, ProspectStage
from models.documents.records import DocumentCategory
from models.users import User
from resolvers.webhooks.secrets import verify
from tests.crm.support import CONVERT, create_prospect, put_in_state
from tests.support.documents import SIGN, make_document
from tests.support.domain import invest_in_fund, make_ready, tenant_of
from tests.support.investments import matured_investment, request_interest
from tests.webhooks.conftest import register, settled

APPROVE = "mutation($id: ID!) { approveRedemption(id: $id) { id } }"
REJECT = 'mutation($id: ID!) { rejectRedemption(id: $id, reason: "Too early") { id } }'


async def test_investment_created_is_delivered_signed(api, world, hooks, receiver):
    admin = world("acme", "admin")
    webhook = await register(api, admin, receiver, "/investments", ("INVESTMENT_CREATED",))
    assert webhook["secret"].startswith("whsec_") and webhook["enabled"]
    redemptions_only = await register(api, admin, receiver, "/other", ("REDEMPTION_DECIDED",))
    await register(api, world("globex", "admin"), receiver, "/globex", ("INVESTMENT_CREATED",))
    investor = world("acme", "investor")
    await make_ready(investor)

    body = await invest_in_fund(api, admin, investor, key=uuid.uuid4().hex)
    investment = body["data"]["createInvestment"]

    [delivery] = await settled(api, admin, webhook["id"])
    assert delivery["status"] == "DELIVERED"
    assert delivery["attemptCount"] == 1 and delivery["lastStatusCode"] == 200
    assert delivery["deliveredAt"] is not None and delivery["nextAttemptAt"] is None
    [received] = receiver.at("/investments")
    assert received.verified  # the receiver checked X-Fidus-Signature with the secret
    assert received.headers["x-fidus-event"] == "INVESTMENT_CREATED"
    assert received.headers["x-fidus-delivery"] == delivery["id"]
    assert received.headers["content-type"] == "application/json"
    event = received.json
    assert event["id"] == delivery["eventId"]
    assert event["type"] == "INVESTMENT_CREATED"
    assert event["tenant"] == await tenant_of(admin)
    assert event["createdAt"]
    assert event["data"]["investmentId"] == investment["id"]
    assert event["data"]["investorId"] == investor.id
    assert event["data"]["fundCode"] == "CORE"
    assert event["data"]["amount"] == "10000.00"
    # not subscribed, and another tenant's endpoint: nothing queued, nothing sent
    assert await settled(api, admin, redemptions_only["id"], 0) == []
    assert receiver.at("/other") == [] and receiver.at("/globex") == []


async def test_an_idempotent_replay_sends_nothing_more(api, world, hooks, receiver):
    admin = world("acme", "admin")
    webhook = await register(api, admin, receiver, types=("INVESTMENT_CREATED",))
    investor = world("acme", "investor")
    await make_ready(investor)
    key = uuid.uuid4().hex
    await invest_in_fund(api, admin, investor, key=key)
    await invest_in_fund(api, admin, investor, key=key)  # the same request again
    log = await settled(api, admin, webhook["id"])
    assert len(log) == 1 and len(receiver.at("/hook")) == 1


async def test_investing_in_an_opportunity_is_an_investment_created(api, world, hooks, receiver):
    admin = world("acme", "admin")
    webhook = await register(api, admin, receiver, types=("INVESTMENT_CREATED",))
    investor = world("acme", "investor")
    await make_ready(investor, agreement=False)
    deal = (
        await api.gql(
            'mutation { createOpportunity(input: {name: "Deal", description: "d", '
            'targetRaise: "100000.00", minimumInvestment: "1000.00"}) { id } }',
            token=admin.token,
        )
    ).ok()["createOpportunity"]["id"]
    await api.gql(
        "mutation($id: ID!) { publishOpportunity(id: $id) { id } }", {"id": deal}, token=admin.token
    )
    invested = await api.gql(
        'mutation($id: ID!) { invest(input: {opportunityId: $id, amount: "2500.00", '
        'idempotencyKey: "k1"}) { id } }',
        {"id": deal},
        token=investor.token,
    )
    investment_id = invested.ok()["invest"]["id"]
    [delivery] = await settled(api, admin, webhook["id"])
    assert delivery["status"] == "DELIVERED"
    data = receiver.at("/hook")[0].json["data"]
    assert data == {
        **data,
        "investmentId": investment_id,
        "opportunityId": deal,
        "fundCode": None,
        "amount": "2500.00",
    }


async def test_redemption_decisions_are_delivered(api, world, hooks, receiver):
    admin = world("acme", "admin")
    investment = await matured_investment(api, world, "acme", "investor2")
    webhook = await register(api, admin, receiver, types=("REDEMPTION_DECIDED",))
    approved = await request_interest(api, investment, admin.token)
    (await api.gql(APPROVE, {"id": approved}, token=world("acme", "manager").token)).ok()
    rejected = await request_interest(api, investment, admin.token)
    (await api.gql(REJECT, {"id": rejected}, token=admin.token)).ok()

    log = await settled(api, admin, webhook["id"], 2)
    assert [d["status"] for d in log] == ["DELIVERED", "DELIVERED"]
    received = {r.json["data"]["redemptionId"]: r for r in receiver.at("/hook")}
    assert all(r.verified for r in received.values())
    assert all(r.headers["x-fidus-event"] == "REDEMPTION_DECIDED" for r in received.values())
    yes, no = received[approved].json["data"], received[rejected].json["data"]
    assert yes["decision"] == "APPROVED" and yes["reason"] is None
    assert yes["decidedBy"] == world("acme", "manager").id and yes["amount"] == "1.00"
    assert no["decision"] == "REJECTED" and no["reason"] == "Too early"
    assert no["investmentId"] == investment and no["kind"] == "INTEREST"
    # a second decision on the same redemption is CONFLICT and sends nothing
    again = await api.gql(APPROVE, {"id": approved}, token=admin.token)
    assert again.code == "CONFLICT"
    assert len(await settled(api, admin, webhook["id"], 2)) == 2


async def test_tampered_deliveries_fail_the_signature_check(api, world, hooks, receiver):
    admin = world("acme", "admin")
    webhook = await register(api, admin, receiver, types=("INVESTMENT_CREATED",))
    investor = world("acme", "investor")
    await make_ready(investor)
    await invest_in_fund(api, admin, investor, key=uuid.uuid4().hex)
    await settled(api, admin, webhook["id"])
    [received] = receiver.at("/hook")
    secret = webhook["secret"]
    timestamp = received.headers["x-fidus-timestamp"]
    header = received.headers["x-fidus-signature"]
    assert header.startswith("sha256=") and len(header) == len("sha256=") + 64
    assert verify(secret, timestamp, received.body, header)
    event = received.json
    event["data"]["amount"] = "99999999.00"
    assert not verify(secret, timestamp, orjson.dumps(event), header)  # body changed
    assert not verify(secret, str(int(timestamp) + 1), received.body, header)  # replayed later
    assert not verify(secret + "x", timestamp, received.body, header)  # another secret


async def test_prospect_conversions_and_signatures_are_delivered(api, world, hooks, receiver):
    admin, manager, investor = (
        world("acme", "admin"),
        world("acme", "manager"),
        world("acme", "investor"),
    )
    webhook = await register(
        api, admin, receiver, "/crm-docs", ("PROSPECT_CONVERTED", "DOCUMENT_SIGNED")
    )
    prospect = await create_prospect(api, manager)
    await put_in_state(prospect["id"], ProspectStage.WON, AmlResult.CLEAR)
    user = (await api.gql(CONVERT, {"id": prospect["id"]}, token=manager.token)).ok()[
        "convertProspect"
    ]
    document = await make_document(investor, DocumentCategory.AGREEMENT)
    me = await User.get(PydanticObjectId(investor.id))
    assert me is not None
    signed = await api.gql(
        SIGN, {"id": document, "name": me.full_name, "consent": True}, token=investor.token
    )
    signed.ok()

    deliveries = await settled(api, admin, webhook["id"], 2)
    assert {d["status"] for d in deliveries} == {"DELIVERED"}
    events = {r.json["type"]: r.json["data"] for r in receiver.at("/crm-docs")}
    assert all(r.verified for r in receiver.at("/crm-docs"))
    assert events["PROSPECT_CONVERTED"] == {
        "prospectId": prospect["id"],
        "userId": user["id"],
        "email": user["email"],
    }
    assert events["DOCUMENT_SIGNED"]["documentId"] == document
    assert events["DOCUMENT_SIGNED"]["signerId"] == investor.id
    assert events["DOCUMENT_SIGNED"]["category"] == "AGREEMENT"
    assert len(events["DOCUMENT_SIGNED"]["sha256"]) == 64
