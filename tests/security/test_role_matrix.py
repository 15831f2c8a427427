"""Role × operation × tenant matrix. Every operation of the API is listed here with the
roles that may call it; later domains add their rows to OPERATIONS.

For each row and role, the setup makes fresh objects (so a state change by one role does
not decide the next one's outcome): allowed → data, else the row's denial code for that
role. An anonymous call is UNAUTHENTICATED, and objects of the other tenant are NOT_FOUND."""

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from beanie import PydanticObjectId

from models.documents.records import DocumentCategory
from models.mt5 import Mt5Account
from models.users import KycStatus, Role, User, search_terms
from tests.conftest import World
from tests.support.api import Api
from tests.support.documents import make_document
from tests.support.domain import insert_user, make_ready
from tests.support.investments import matured_investment, request_interest, requested_redemption
from tests.support.portfolios import default_portfolio_id

ROLES = ("admin", "manager", "analyst", "investor")
ALL = frozenset(ROLES)
READERS = frozenset({"admin", "manager", "analyst"})
STAFF = frozenset({"admin", "manager"})
ADMIN = frozenset({"admin"})
INVESTOR = frozenset({"investor"})

Setup = Callable[[Api, World, str], Awaitable[dict[str, Any]]]


async def _nothing(api: Api, world: World, tenant: str) -> dict[str, Any]:
    return {}


@dataclass(frozen=True)
class Op:
    name: str
    document: str
    allowed: frozenset[str]
    setup: Setup = _nothing
    denied_code: str = "FORBIDDEN"
    denied_codes: dict[str, str] = field(default_factory=dict)  # per-role exceptions
    cross_tenant: bool = False  # the setup names objects: the other tenant's are NOT_FOUND

    def denial(self, role: str) -> str:
        return self.denied_codes.get(role, self.denied_code)


# --- setups: each call makes what one attempt needs -------------------------------------


async def _investor2(api: Api, world: World, tenant: str) -> dict[str, Any]:
    return {"id": world(tenant, "investor2").id}


async def _new_email(api: Api, world: World, tenant: str) -> dict[str, Any]:
    return {"e": f"new-{uuid.uuid4().hex[:10]}@{tenant}.test"}


async def _new_investor(api: Api, world: World, tenant: str) -> dict[str, Any]:
    admin = await User.get(world(tenant, "admin").id)
    email = f"inv-{uuid.uuid4().hex[:10]}@{tenant}.test"
    user = User(
        tenant_id=admin.tenant_id,
        email=email,
        full_name="New Investor",
        role=Role.INVESTOR,
        kyc_status=KycStatus.APPROVED,
        search=search_terms("n", email),
    )
    await insert_user(user)
    return {"id": str(user.id)}


async def _investment(api: Api, world: World, tenant: str) -> dict[str, Any]:
    return {"id": await matured_investment(api, world, tenant, "investor2")}


async def _create_investment(api: Api, world: World, tenant: str) -> dict[str, Any]:
    await make_ready(world(tenant, "investor2"))
    return {
        "i": {
            "investorId": world(tenant, "investor2").id,
            "fundCode": "CORE",
            "amount": "10000.00",
            "depositDate": "2025-01-15",
            "idempotencyKey": uuid.uuid4().hex,
            "backdateReason": "signed form received late",
        }
    }


async def _redemption(api: Api, world: World, tenant: str, approve: bool = False) -> dict[str, Any]:
    return {"id": await requested_redemption(api, world, tenant, approve)}


async def _approved_redemption(api: Api, world: World, tenant: str) -> dict[str, Any]:
    return await _redemption(api, world, tenant, approve=True)


async def _own_redemption(api: Api, world: World, tenant: str) -> dict[str, Any]:
    """Requested by the tenant's `investor` for their own investment."""
    investment = await matured_investment(api, world, tenant, "investor")
    return {"id": await request_interest(api, investment, world(tenant, "investor").token)}


async def _portfolio(api: Api, world: World, tenant: str) -> dict[str, Any]:
    return {"id": await default_portfolio_id(api, world(tenant, "investor2"))}


async def _opportunity(api: Api, world: World, tenant: str, publish: bool = True) -> dict[str, Any]:
    staff = world(tenant, "admin")
    body = (
        await api.gql(
            'mutation { createOpportunity(input: {name: "Deal", description: "d", '
            'targetRaise: "100000.00", minimumInvestment: "1000.00"}) { id } }',
            token=staff.token,
        )
    ).ok()
    deal = body["createOpportunity"]["id"]
    if publish:
        await api.gql(
            "mutation($id: ID!) { publishOpportunity(id: $id) { id } }",
            {"id": deal},
            token=staff.token,
        )
    return {"id": deal}


async def _draft(api: Api, world: World, tenant: str) -> dict[str, Any]:
    return await _opportunity(api, world, tenant, publish=False)


async def _open_for_investing(api: Api, world: World, tenant: str) -> dict[str, Any]:
    await make_ready(world(tenant, "investor"), agreement=False)
    return {**(await _opportunity(api, world, tenant)), "k": uuid.uuid4().hex}


async def _mt5_account(api: Api, world: World, tenant: str) -> dict[str, Any]:
    admin = await User.get(world(tenant, "admin").id)
    login = uuid.uuid4().int % 10**9
    await Mt5Account(tenant_id=admin.tenant_id, login=login, server="S", currency="USD").insert()
    return {"l": login}


async def _event(api: Api, world: World, tenant: str, publish: bool = True) -> dict[str, Any]:
    staff = world(tenant, "admin")
    body = (
        await api.gql(
            'mutation { createEvent(input: {title: "Day", startsAt: "2031-01-01T10:00:00Z", '
            'endsAt: "2031-01-01T12:00:00Z", capacity: 5}) { id } }',
            token=staff.token,
        )
    ).ok()
    event = body["createEvent"]["id"]
    if publish:
        await api.gql(
            "mutation($id: ID!) { publishEvent(id: $id) { id } }", {"id": event}, token=staff.token
        )
    return {"id": event}


async def _event_draft(api: Api, world: World, tenant: str) -> dict[str, Any]:
    return await _event(api, world, tenant, publish=False)


async def _registration(api: Api, world: World, tenant: str) -> dict[str, Any]:
    """investor2's registration for a published event, with its check-in code."""
    event = await _event(api, world, tenant)
    body = (
        await api.gql(
            "mutation($id: ID!) { registerForEvent(eventId: $id) { id checkInCode } }",
            event,
            token=world(tenant, "investor2").token,
        )
    ).ok()["registerForEvent"]
    return {"id": body["id"], "code": body["checkInCode"]}


async def _staff_member(api: Api, world: World, tenant: str) -> dict[str, Any]:
    return {"p": [world(tenant, "manager").id]}


async def _conversation_with(api: Api, world: World, tenant: str, *others: str) -> str:
    """A conversation the tenant's investor2 starts with ``others``."""
    result = await api.gql(
        "mutation($p: [ID!]!) { startConversation(participantIds: $p) { id } }",
        {"p": [world(tenant, who).id for who in others]},
        token=world(tenant, "investor2").token,
    )
    return str(result.ok()["startConversation"]["id"])


async def _conversation_of_staff(api: Api, world: World, tenant: str) -> dict[str, Any]:
    """investor2 with the tenant's admin and manager: the row's investor is an outsider."""
    return {"c": await _conversation_with(api, world, tenant, "admin", "manager")}


async def _document(api: Api, world: World, tenant: str) -> dict[str, Any]:
    """A document of the tenant's `investor2`, to share with its `analyst`."""
    doc = await make_document(world(tenant, "investor2"))
    return {"id": doc, "u": [world(tenant, "analyst").id]}


async def _analysts_document(api: Api, world: World, tenant: str) -> dict[str, Any]:
    """A document staff filed under the tenant's `analyst`: owning it does not let an
    ANALYST (read-only) change who sees it."""
    doc = await make_document(world(tenant, "analyst"))
    return {"id": doc, "u": [world(tenant, "investor2").id]}


async def _kyc_document(api: Api, world: World, tenant: str) -> dict[str, Any]:
    return {"id": await make_document(world(tenant, "investor2"), DocumentCategory.KYC_ID)}


async def _own_document(api: Api, world: World, tenant: str) -> dict[str, Any]:
    """A document of the tenant's `investor` (only the owner signs; staff only read)."""
    return {"id": await make_document(world(tenant, "investor")), "n": f"Investor {tenant}"}


async def _prospect_input(api: Api, world: World, tenant: str) -> dict[str, Any]:
    return {
        "i": {
            "fullName": "Pat Prospect",
            "email": f"p-{uuid.uuid4().hex[:10]}@{tenant}.test",
            "ownerId": world(tenant, "manager").id,
        }
    }


async def _prospect(api: Api, world: World, tenant: str) -> dict[str, Any]:
    result = await api.gql(
        "mutation($i: CreateProspectInput!) { createProspect(input: $i) { id } }",
        await _prospect_input(api, world, tenant),
        token=world(tenant, "admin").token,
    )
    return {"id": result.ok()["createProspect"]["id"]}


async def _won_prospect(api: Api, world: World, tenant: str) -> dict[str, Any]:
    from models.crm import Prospect

    found = await _prospect(api, world, tenant)
    await Prospect.get_pymongo_collection().update_one(
        {"_id": PydanticObjectId(found["id"])}, {"$set": {"stage": "WON", "aml_result": "CLEAR"}}
    )
    return found


async def _prospect_task(api: Api, world: World, tenant: str) -> dict[str, Any]:
    prospect = await _prospect(api, world, tenant)
    result = await api.gql(
        'mutation($p: ID!, $a: ID!) { createTask(input: {prospectId: $p, title: "T", '
        'dueDate: "2999-01-01", assigneeId: $a}) { id } }',
        {"p": prospect["id"], "a": world(tenant, "manager").id},
        token=world(tenant, "admin").token,
    )
    return {"id": result.ok()["createTask"]["id"]}


async def _task_input(api: Api, world: World, tenant: str) -> dict[str, Any]:
    return {**(await _prospect(api, world, tenant)), "a": world(tenant, "manager").id}


async def _webhook_url(api: Api, world: World, tenant: str) -> dict[str, Any]:
    return {"u": f"https://{uuid.uuid4().hex[:12]}.partner.invalid/in"}  # never resolves


async def _webhook(api: Api, world: World, tenant: str) -> dict[str, Any]:
    result = await api.gql(
        "mutation($u: String!) { createWebhook(input: {url: $u, "
        "eventTypes: [INVESTMENT_CREATED]}) { id } }",
        await _webhook_url(api, world, tenant),
        token=world(tenant, "admin").token,
    )
    return {"id": result.ok()["createWebhook"]["id"]}


async def _erasable(api: Api, world: World, tenant: str) -> dict[str, Any]:
    created = await _new_investor(api, world, tenant)
    user = await User.get(PydanticObjectId(created["id"]))
    assert user is not None
    return {"id": created["id"], "c": user.email}


NOT_YOURS = {"investor": "NOT_FOUND"}

OPERATIONS: list[Op] = [
    # identity and users
    Op("me", "{ me { id } }", ALL),
    Op("sessions", "{ sessions { id } }", ALL),
    Op(
        "user(other)",
        "query($id: ID!) { user(id: $id) { id } }",
        READERS,
        _investor2,
        denied_code="NOT_FOUND",
        cross_tenant=True,
    ),
    Op("users", "{ users { edges { node { id } } } }", READERS),
    Op("serviceTokens", "{ serviceTokens { id } }", ADMIN),
    Op(
        "createUser(INVESTOR)",
        "mutation($e: String!) { createUser(input: "
        '{email: $e, fullName: "N", role: INVESTOR}) { id } }',
        STAFF,
        _new_email,
    ),
    Op(
        "createUser(ANALYST)",
        "mutation($e: String!) { createUser(input: "
        '{email: $e, fullName: "N", role: ANALYST}) { id } }',
        ADMIN,
        _new_email,
    ),
    Op("updateProfile", 'mutation { updateProfile(input: {phone: "+41791234567"}) { id } }', ALL),
    Op(
        "reviewKyc",
        "mutation($id: ID!) { reviewKyc(userId: $id, status: PENDING) { id } }",
        STAFF,
        _investor2,
        cross_tenant=True,
    ),
    Op(
        "createServiceToken",
        'mutation { createServiceToken(name: "b", scopes: ["mt5:ingest"]) { id } }',
        ADMIN,
    ),
    Op("enrollMfa", "mutation { enrollMfa { secret } }", ALL),
    # funds and investments
    Op("funds", "{ funds { code } }", ALL),
    Op(
        "simulateInvestment",
        '{ simulateInvestment(fundCode: "CORE", amount: "10000", startDate: "2026-01-01") '
        "{ totalInterest } }",
        ALL,
    ),
    Op(
        "updateFund", 'mutation { updateFund(code: "CORE", input: {name: "Core"}) { code } }', ADMIN
    ),
    Op(
        "inviteToFund",
        'mutation($id: ID!) { inviteToFund(investorId: $id, fundCode: "DYNAMIC") { fundCode } }',
        STAFF,
        _new_investor,
        cross_tenant=True,
    ),
    Op(
        "investment",
        "query($id: ID!) { investment(id: $id) { id } }",
        READERS,
        _investment,
        denied_codes=NOT_YOURS,
        cross_tenant=True,
    ),
    Op(
        "createInvestment",
        "mutation($i: CreateInvestmentInput!) { createInvestment(input: $i) { id } }",
        STAFF,
        _create_investment,
        denied_codes=NOT_YOURS,
        cross_tenant=True,
    ),
    Op(
        "requestRedemption",
        'mutation($id: ID!) { requestRedemption(input: {investmentId: $id, amount: "1.00", '
        'kind: "INTEREST"}) { id } }',
        STAFF,
        _investment,
        denied_codes=NOT_YOURS,
        cross_tenant=True,
    ),
    Op(
        "approveRedemption",
        "mutation($id: ID!) { approveRedemption(id: $id) { id } }",
        STAFF,
        _redemption,
        cross_tenant=True,
    ),
    Op(
        "rejectRedemption",
        'mutation($id: ID!) { rejectRedemption(id: $id, reason: "no") { id } }',
        STAFF,
        _redemption,
        cross_tenant=True,
    ),
    Op(
        "completeRedemption",
        "mutation($id: ID!) { completeRedemption(id: $id) { id } }",
        STAFF,
        _approved_redemption,
        cross_tenant=True,
    ),
    Op(
        "cancelRedemption",
        "mutation($id: ID!) { cancelRedemption(id: $id) { id } }",
        INVESTOR,
        _own_redemption,
    ),
    # portfolios
    Op("myPortfolios", "{ myPortfolios { id } }", ALL),
    Op(
        "portfolio",
        "query($id: ID!) { portfolio(id: $id) { id totalValue } }",
        READERS,
        _portfolio,
        denied_codes=NOT_YOURS,
        cross_tenant=True,
    ),
    Op(
        "createPortfolio",
        'mutation { createPortfolio(name: "Side") { id } }',
        frozenset({"admin", "manager", "investor"}),
    ),
    Op(
        "recordTransaction",
        "mutation($id: ID!) { recordTransaction(input: {portfolioId: $id, type: DEPOSIT, "
        'amount: "5.00", idempotencyKey: "k"}) { id } }',
        STAFF,
        _portfolio,
        cross_tenant=True,
    ),
    # opportunities
    Op("opportunities", "{ opportunities { edges { node { id } } } }", ALL),
    Op(
        "opportunity(open)",
        "query($id: ID!) { opportunity(id: $id) { id } }",
        ALL,
        _opportunity,
        cross_tenant=True,
    ),
    Op(
        "opportunity(draft)",
        "query($id: ID!) { opportunity(id: $id) { id } }",
        READERS,
        _draft,
        denied_codes=NOT_YOURS,
        cross_tenant=True,
    ),
    Op(
        "createOpportunity",
        'mutation { createOpportunity(input: {name: "N", description: "D", '
        'targetRaise: "10.00", minimumInvestment: "1.00"}) { id } }',
        STAFF,
    ),
    Op(
        "updateOpportunity",
        'mutation($id: ID!) { updateOpportunity(id: $id, input: {name: "M"}) { id } }',
        STAFF,
        _draft,
        cross_tenant=True,
    ),
    Op(
        "publishOpportunity",
        "mutation($id: ID!) { publishOpportunity(id: $id) { id } }",
        STAFF,
        _draft,
        cross_tenant=True,
    ),
    Op(
        "closeOpportunity",
        "mutation($id: ID!) { closeOpportunity(id: $id) { id } }",
        STAFF,
        _opportunity,
        cross_tenant=True,
    ),
    Op(
        "expressInterest",
        "mutation($id: ID!) { expressInterest(opportunityId: $id) { id } }",
        INVESTOR,
        _opportunity,
        cross_tenant=True,
    ),
    Op(
        "invest",
        'mutation($id: ID!, $k: String!) { invest(input: {opportunityId: $id, amount: "1000.00", '
        "idempotencyKey: $k}) { id } }",
        INVESTOR,
        _open_for_investing,
        cross_tenant=True,
    ),
    # real time
    Op(
        "mapMt5Account",
        'mutation($l: Int!) { mapMt5Account(login: $l, server: "S", fundCode: "UNLIMITED", '
        'initialAllocation: "1.00") { login } }',
        ADMIN,
        _mt5_account,
        cross_tenant=True,
    ),
    Op("latestTicks", '{ latestTicks(symbols: ["XAUUSD"]) { bid } }', ALL),
    # messaging: conversations are private to their participants (investor is not one)
    Op("conversations", "{ conversations { edges { node { id } } } }", ALL),
    Op(
        "startConversation",
        "mutation($p: [ID!]!) { startConversation(participantIds: $p) { id } }",
        frozenset({"admin", "investor"}),  # a manager naming themself has nobody to talk to
        _staff_member,
        denied_codes={"manager": "BAD_USER_INPUT"},
        cross_tenant=True,
    ),
    Op(
        "conversation",
        "query($c: ID!) { conversation(id: $c) { id unreadCount } }",
        STAFF,
        _conversation_of_staff,
        denied_code="NOT_FOUND",
        cross_tenant=True,
    ),
    Op(
        "messages",
        "query($c: ID!) { messages(conversationId: $c) { edges { node { id } } } }",
        STAFF,
        _conversation_of_staff,
        denied_code="NOT_FOUND",
        cross_tenant=True,
    ),
    Op(
        "sendMessage",
        'mutation($c: ID!) { sendMessage(conversationId: $c, body: "hi") { id } }',
        STAFF,
        _conversation_of_staff,
        denied_codes={"analyst": "FORBIDDEN", "investor": "NOT_FOUND"},
        cross_tenant=True,
    ),
    Op(
        "markConversationRead",
        "mutation($c: ID!) { markConversationRead(conversationId: $c) { id } }",
        STAFF,
        _conversation_of_staff,
        denied_codes={"analyst": "FORBIDDEN", "investor": "NOT_FOUND"},
        cross_tenant=True,
    ),
    # audit log
    Op("auditLog", "{ auditLog { edges { node { id action } } } }", ADMIN),
    # documents (uploadDocument needs a multipart request: tests/documents/test_upload_roles.py)
    Op("documents", "{ documents { edges { node { id } } } }", ALL),
    Op(
        "document",
        "query($id: ID!) { document(id: $id) { id downloadUrl } }",
        READERS,
        _document,
        denied_codes=NOT_YOURS,
        cross_tenant=True,
    ),
    Op(
        "verifyDocument",
        "query($id: ID!) { verifyDocument(id: $id) { valid } }",
        READERS,
        _document,
        denied_codes=NOT_YOURS,
        cross_tenant=True,
    ),
    Op(
        "shareDocument",
        "mutation($id: ID!, $u: [ID!]!) { shareDocument(id: $id, userIds: $u) { id } }",
        STAFF,
        _document,
        denied_codes=NOT_YOURS,
        cross_tenant=True,
    ),
    Op(
        "unshareDocument",
        "mutation($id: ID!, $u: [ID!]!) { unshareDocument(id: $id, userIds: $u) { id } }",
        STAFF,
        _document,
        denied_codes=NOT_YOURS,
        cross_tenant=True,
    ),
    Op(
        "shareDocument(analyst's own)",
        "mutation($id: ID!, $u: [ID!]!) { shareDocument(id: $id, userIds: $u) { id } }",
        STAFF,
        _analysts_document,
        denied_codes=NOT_YOURS,
        cross_tenant=True,
    ),
    Op(
        "unshareDocument(analyst's own)",
        "mutation($id: ID!, $u: [ID!]!) { unshareDocument(id: $id, userIds: $u) { id } }",
        STAFF,
        _analysts_document,
        denied_codes=NOT_YOURS,
        cross_tenant=True,
    ),
    Op(
        "signDocument",
        "mutation($id: ID!, $n: String!) { signDocument(id: $id, input: "
        "{fullName: $n, consent: true}) { id } }",
        INVESTOR,
        _own_document,
        cross_tenant=True,
    ),
    Op(
        "reviewDocument",
        "mutation($id: ID!) { reviewDocument(id: $id, decision: APPROVED) { id } }",
        STAFF,
        _kyc_document,
        cross_tenant=True,
    ),
    Op(
        "generateStatement",
        'mutation($id: ID!) { generateStatement(portfolioId: $id, month: "2025-01") { id } }',
        STAFF,
        _portfolio,
        denied_codes=NOT_YOURS,
        cross_tenant=True,
    ),
    # analytics
    Op(
        "analytics",
        '{ analytics { aumByFund { fundCode } netFlowsByMonth(from: "2026-01-01", '
        'to: "2026-12-31") { month } opportunityPipeline { name } topHoldings { symbol } } }',
        READERS,
    ),
    # events
    Op("events", "{ events { edges { node { id } } } }", ALL),
    Op(
        "event(published)",
        "query($id: ID!) { event(id: $id) { id } }",
        ALL,
        _event,
        cross_tenant=True,
    ),
    Op(
        "event(draft)",
        "query($id: ID!) { event(id: $id) { id } }",
        READERS,
        _event_draft,
        denied_codes=NOT_YOURS,
        cross_tenant=True,
    ),
    Op("myRegistrations", "{ myRegistrations { id } }", ALL),
    Op(
        "eventAttendees",
        "query($id: ID!) { eventAttendees(eventId: $id) { id checkInCode } }",
        STAFF,
        _event,
        cross_tenant=True,
    ),
    Op(
        "createEvent",
        'mutation { createEvent(input: {title: "T", startsAt: "2031-01-01T10:00:00Z", '
        'endsAt: "2031-01-01T11:00:00Z"}) { id } }',
        STAFF,
    ),
    Op(
        "updateEvent",
        'mutation($id: ID!) { updateEvent(id: $id, input: {title: "U"}) { id } }',
        STAFF,
        _event_draft,
        cross_tenant=True,
    ),
    Op(
        "publishEvent",
        "mutation($id: ID!) { publishEvent(id: $id) { id } }",
        STAFF,
        _event_draft,
        cross_tenant=True,
    ),
    Op(
        "cancelEvent",
        "mutation($id: ID!) { cancelEvent(id: $id) { id } }",
        STAFF,
        _event,
        cross_tenant=True,
    ),
    Op(
        "registerForEvent",
        "mutation($id: ID!) { registerForEvent(eventId: $id) { id } }",
        ALL,
        _event,
        cross_tenant=True,
    ),
    Op(
        "cancelRegistration",
        "mutation($id: ID!) { cancelRegistration(registrationId: $id) { id } }",
        STAFF,
        _registration,
        denied_code="NOT_FOUND",  # someone else's registration
        cross_tenant=True,
    ),
    Op(
        "checkIn",
        "mutation($id: ID!, $code: String!) { checkIn(registrationId: $id, code: $code) { id } }",
        STAFF,
        _registration,
        cross_tenant=True,
    ),
    # CRM
    Op("prospects", "{ prospects { edges { node { id } } } }", READERS),
    Op("pipeline", "{ pipeline { stage count expectedAmount } }", READERS),
    Op(
        "prospect",
        "query($id: ID!) { prospect(id: $id) { id activities { id } tasks { id } } }",
        READERS,
        _prospect,
        cross_tenant=True,
    ),
    Op(
        "createProspect",
        "mutation($i: CreateProspectInput!) { createProspect(input: $i) { id } }",
        STAFF,
        _prospect_input,
    ),
    Op(
        "moveProspect",
        "mutation($id: ID!) { moveProspect(id: $id, stage: QUALIFIED) { id } }",
        STAFF,
        _prospect,
        cross_tenant=True,
    ),
    Op(
        "recordAmlCheck",
        "mutation($id: ID!) { recordAmlCheck(prospectId: $id, result: CLEAR) { id } }",
        STAFF,
        _prospect,
        cross_tenant=True,
    ),
    Op(
        "screenProspect",
        "mutation($id: ID!) { screenProspect(id: $id) { id amlResult } }",
        STAFF,
        _prospect,
        cross_tenant=True,
    ),
    Op(
        "convertProspect",
        "mutation($id: ID!) { convertProspect(id: $id) { id } }",
        STAFF,
        _won_prospect,
        cross_tenant=True,
    ),
    Op(
        "logActivity",
        'mutation($id: ID!) { logActivity(input: {prospectId: $id, kind: CALL, text: "t"}) '
        "{ id } }",
        STAFF,
        _prospect,
        cross_tenant=True,
    ),
    Op(
        "createTask",
        'mutation($id: ID!, $a: ID!) { createTask(input: {prospectId: $id, title: "T", '
        'dueDate: "2999-01-01", assigneeId: $a}) { id } }',
        STAFF,
        _task_input,
        cross_tenant=True,
    ),
    Op(
        "completeTask",
        "mutation($id: ID!) { completeTask(id: $id) { id done } }",
        STAFF,
        _prospect_task,
        cross_tenant=True,
    ),
    # outbound webhooks (ADMIN only)
    Op("webhooks", "{ webhooks { id } }", ADMIN),
    Op(
        "webhookDeliveries",
        "query($id: ID!) { webhookDeliveries(webhookId: $id) { edges { node { id } } } }",
        ADMIN,
        _webhook,
        cross_tenant=True,
    ),
    Op(
        "createWebhook",
        "mutation($u: String!) { createWebhook(input: {url: $u, "
        "eventTypes: [REDEMPTION_DECIDED]}) { id secret } }",
        ADMIN,
        _webhook_url,
    ),
    Op(
        "updateWebhook",
        'mutation($id: ID!) { updateWebhook(id: $id, input: {description: "x"}) { id } }',
        ADMIN,
        _webhook,
        cross_tenant=True,
    ),
    Op(
        "deleteWebhook",
        "mutation($id: ID!) { deleteWebhook(id: $id) }",
        ADMIN,
        _webhook,
        cross_tenant=True,
    ),
    Op(
        "rotateWebhookSecret",
        "mutation($id: ID!) { rotateWebhookSecret(id: $id) { secret } }",
        ADMIN,
        _webhook,
        cross_tenant=True,
    ),
    Op(
        "sendTestWebhook",
        "mutation($id: ID!) { sendTestWebhook(id: $id) { id } }",
        ADMIN,
        _webhook,
        cross_tenant=True,
    ),
    # privacy (another user; exporting yourself is open to every role: tests/privacy)
    Op(
        "exportUserData",
        "mutation($id: ID!) { exportUserData(userId: $id) }",
        ADMIN,
        _investor2,
        denied_codes=NOT_YOURS,
        cross_tenant=True,
    ),
    Op(
        "eraseUser",
        "mutation($id: ID!, $c: String!) { eraseUser(userId: $id, confirm: $c) { id } }",
        ADMIN,
        _erasable,
        cross_tenant=True,
    ),
]


@pytest.mark.parametrize("op", OPERATIONS, ids=lambda op: op.name)
async def test_role_matrix(api, world, op: Op) -> None:
    for role in ROLES:
        variables = await op.setup(api, world, "acme")
        result = await api.gql(op.document, variables, token=world("acme", role).token)
        if role in op.allowed:
            assert not result.errors, (role, result.errors)
        else:
            assert result.code == op.denial(role), (role, result.body)


@pytest.mark.parametrize("op", OPERATIONS, ids=lambda op: op.name)
async def test_anonymous_calls_are_unauthenticated(api, world, op: Op) -> None:
    result = await api.gql(op.document, await op.setup(api, world, "acme"))
    assert result.code == "UNAUTHENTICATED"


@pytest.mark.parametrize("op", [op for op in OPERATIONS if op.cross_tenant], ids=lambda op: op.name)
async def test_objects_of_another_tenant_are_not_found(api, world, op: Op) -> None:
    for role in op.allowed:
        variables = await op.setup(api, world, "globex")
        result = await api.gql(op.document, variables, token=world("acme", role).token)
        assert result.code == "NOT_FOUND", (role, result.body)


def test_every_operation_is_in_the_matrix() -> None:
    from schema import build_schema

    schema = build_schema()._schema
    fields = set(schema.query_type.fields) | set(schema.mutation_type.fields)
    public = {
        "login",
        "refreshToken",
        "logout",
        "acceptInvitation",
        "requestPasswordReset",
        "resetPassword",
    }  # callable without a token by design; covered in tests/identity
    listed = {op.name.split("(")[0] for op in OPERATIONS}
    covered_elsewhere = {
        "changePassword",
        "confirmMfa",
        "disableMfa",
        "revokeSession",
        "renewConnection",  # the caller's own socket: tests/transport/test_live_sessions.py
        "revokeServiceToken",
        "uploadDocument",  # multipart only: role × tenant in tests/documents/test_upload_roles.py
    }  # own-credential operations, tests/identity
    missing = fields - public - covered_elsewhere - listed
    assert not missing, f"add these operations to the role matrix: {sorted(missing)}"


async def test_investor_sees_only_themself(api, world) -> None:
    investor = world("acme", "investor")
    own = await api.gql(
        "query($id: ID!) { user(id: $id) { email } }", {"id": investor.id}, token=investor.token
    )
    assert own.ok()["user"]["email"] == investor.email
