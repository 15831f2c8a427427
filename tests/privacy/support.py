"""A data subject with data in every domain, made through the API (and the shared set-up
helpers of the other domains' tests), plus raw-database snapshots for the erasure tests."""

import uuid
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import orjson
from beanie import Document, PydanticObjectId

from models import ALL_DOCUMENTS
from models.crm import AmlResult, ProspectStage
from models.documents.records import DocumentRecord
from models.identity import OutboxMessage
from models.users import Role
from resolvers.documents import files as document_files
from tests.conftest import Member, World
from tests.crm.support import CONVERT, create_prospect, put_in_state
from tests.events.support import published_event, register
from tests.support.api import Api
from tests.support.documents import PNG_BYTES, upload
from tests.support.domain import invest_in_fund, make_ready
from tests.support.identity import ACCEPT, token_in
from tests.support.portfolios import default_portfolio_id, record

SUBJECT_NAME = "Zelda Quintessa Marlowe"
SUBJECT_PASSWORD = "zelda's very own passphrase 42"
SUBJECT_PHONE = "+41795550123"

EXPORT = "mutation($id: ID!) { exportUserData(userId: $id) }"
ERASE = """mutation($id: ID!, $c: String!) { eraseUser(userId: $id, confirm: $c) {
  id email fullName phone mfaEnabled } }"""


@dataclass
class Subject:
    """The person whose data is exported and erased, and the secrets that must never
    leak (``secrets``) into an export."""

    member: Member
    name: str
    phone: str
    prospect_id: str
    portfolio_id: str
    investment_id: str
    redemption_id: str
    event_id: str
    registration_id: str
    conversation_id: str
    message_id: str
    kyc_document_id: str
    statement_id: str
    interest_id: str
    refresh_token: str
    secrets: dict[str, str] = field(default_factory=dict)

    @property
    def id(self) -> str:
        return self.member.id

    @property
    def email(self) -> str:
        return self.member.email


async def gql_ok(api: Api, document: str, variables: dict[str, Any], member: Member) -> Any:
    return (await api.gql(document, variables, token=member.token)).ok()


async def make_subject(api: Api, world: World, tenant: str = "acme") -> Subject:
    admin, manager = world(tenant, "admin"), world(tenant, "manager")
    secrets: dict[str, str] = {}
    hook = await gql_ok(
        api,
        "mutation($u: String!) { createWebhook(input: {url: $u, eventTypes: "
        "[PROSPECT_CONVERTED, INVESTMENT_CREATED]}) { id secret } }",
        {"u": f"https://{uuid.uuid4().hex[:12]}.partner.invalid/in"},
        admin,
    )
    secrets["webhook secret"] = hook["createWebhook"]["secret"]

    # CRM: a prospect with notes and a task that name the person, converted to an investor
    prospect = await create_prospect(api, manager, full_name=SUBJECT_NAME)
    email = prospect["email"]
    await gql_ok(
        api,
        "mutation($i: LogActivityInput!) { logActivity(input: $i) { id } }",
        {"i": {"prospectId": prospect["id"], "kind": "CALL", "text": f"Called {SUBJECT_NAME}"}},
        manager,
    )
    await gql_ok(
        api,
        "mutation($i: CreateTaskInput!) { createTask(input: $i) { id } }",
        {
            "i": {
                "prospectId": prospect["id"],
                "title": f"Send the forms to {email}",
                "dueDate": "2030-01-01",
                "assigneeId": manager.id,
            }
        },
        manager,
    )
    await put_in_state(prospect["id"], ProspectStage.WON, AmlResult.CLEAR)
    user = (await gql_ok(api, CONVERT, {"id": prospect["id"]}, manager))["convertProspect"]
    [invitation] = await OutboxMessage.find({"to": email, "kind": "INVITATION"}).to_list()
    secrets["invitation token"] = token_in(invitation)
    accepted = (
        await api.gql(ACCEPT, {"t": secrets["invitation token"], "p": SUBJECT_PASSWORD})
    ).ok()["acceptInvitation"]
    member = Member(tenant, email, Role.INVESTOR, user["id"], accepted["accessToken"])
    member.password = SUBJECT_PASSWORD
    secrets["password"] = SUBJECT_PASSWORD
    secrets["access token"] = accepted["accessToken"]
    secrets["first refresh token"] = accepted["refreshToken"]
    session = await api.login(tenant, email, SUBJECT_PASSWORD)
    secrets["refresh token"] = session["refreshToken"]

    # identity: a phone number, a pending MFA enrolment, a reset request, a failed login
    await gql_ok(
        api,
        "mutation($p: String!) { updateProfile(input: {phone: $p}) { id } }",
        {"p": SUBJECT_PHONE},
        member,
    )
    enrolment = await gql_ok(api, "mutation { enrollMfa { secret } }", {}, member)
    secrets["mfa secret"] = enrolment["enrollMfa"]["secret"]
    await api.gql(
        "mutation($t: String!, $e: String!) { requestPasswordReset(tenant: $t, email: $e) }",
        {"t": tenant, "e": email},
    )
    [reset] = await OutboxMessage.find({"to": email, "kind": "PASSWORD_RESET"}).to_list()
    secrets["reset token"] = token_in(reset)
    failed = await api.gql(
        "mutation($t: String!, $e: String!) { login(tenant: $t, email: $e, "
        'password: "not the password at all") { accessToken } }',
        {"t": tenant, "e": email},
    )
    assert failed.code == "UNAUTHENTICATED"

    # documents: a KYC upload (bytes deleted on erasure), a signed agreement and a
    # statement (both retained)
    await make_ready(member)
    kyc = (
        await upload(
            api,
            member.token,
            PNG_BYTES,
            filename=f"passport {SUBJECT_NAME}.png",
            client_type="image/png",
            category="KYC_ID",
        )
    ).ok()["uploadDocument"]

    # money: an investment, a deposit, a redemption request, a statement
    invested = await invest_in_fund(api, manager, member)
    investment_id = invested["data"]["createInvestment"]["id"]
    portfolio_id = await default_portfolio_id(api, member)
    assert (await record(api, manager, portfolio_id, "DEPOSIT", "p1", amount="2500.00")).ok()
    redemption = await gql_ok(
        api,
        "mutation($id: ID!) { requestRedemption(input: {investmentId: $id, amount: "
        '"1.00", kind: "INTEREST"}) { id } }',
        {"id": investment_id},
        member,
    )
    month = date.today().strftime("%Y-%m")
    statement = await gql_ok(
        api,
        "mutation($p: ID!, $m: String!) { generateStatement(portfolioId: $p, month: $m) { id } }",
        {"p": portfolio_id, "m": month},
        member,
    )

    # an opportunity they are interested in, an event they registered for
    opportunity = await gql_ok(
        api,
        'mutation { createOpportunity(input: {name: "Solar", description: "Farm", '
        'targetRaise: "1000000", minimumInvestment: "1000"}) { id } }',
        {},
        manager,
    )
    opportunity_id = opportunity["createOpportunity"]["id"]
    await gql_ok(
        api,
        "mutation($id: ID!) { publishOpportunity(id: $id) { id } }",
        {"id": opportunity_id},
        manager,
    )
    interest = await gql_ok(
        api,
        "mutation($id: ID!) { expressInterest(opportunityId: $id) { id } }",
        {"id": opportunity_id},
        member,
    )
    event = await published_event(api, manager)
    registration = await register(api, member, event["id"])

    # messaging: they write to their manager, who answers naming them
    conversation = await gql_ok(
        api,
        "mutation($p: [ID!]!) { startConversation(participantIds: $p, "
        'subject: "Question") { id } }',
        {"p": [manager.id]},
        member,
    )
    conversation_id = conversation["startConversation"]["id"]
    send = "mutation($c: ID!, $b: String!) { sendMessage(conversationId: $c, body: $b) { id } }"
    sent = await gql_ok(
        api, send, {"c": conversation_id, "b": f"Hello, {SUBJECT_NAME} here, call me"}, member
    )
    await gql_ok(api, send, {"c": conversation_id, "b": f"Sure, {SUBJECT_NAME.upper()}!"}, manager)
    return Subject(
        member=member,
        name=SUBJECT_NAME,
        phone=SUBJECT_PHONE,
        prospect_id=prospect["id"],
        portfolio_id=portfolio_id,
        investment_id=investment_id,
        redemption_id=redemption["requestRedemption"]["id"],
        event_id=event["id"],
        registration_id=registration["id"],
        conversation_id=conversation_id,
        message_id=sent["sendMessage"]["id"],
        kyc_document_id=kyc["id"],
        statement_id=statement["generateStatement"]["id"],
        interest_id=interest["expressInterest"]["id"],
        refresh_token=secrets["refresh token"],
        secrets=secrets,
    )


def collection_of(model: type[Document]) -> Any:
    return model.get_pymongo_collection()


async def raw(model: type[Document], criteria: dict[str, Any] | None = None) -> list[Any]:
    return await collection_of(model).find(criteria or {}).sort("_id").to_list()


async def snapshot() -> dict[str, list[Any]]:
    """Every stored document of every collection (and the GridFS file list), raw."""
    found = {collection_of(m).name: await raw(m) for m in ALL_DOCUMENTS}
    found["gridfs"] = await gridfs_files().find({}).sort("_id").to_list()
    return found


def gridfs_files() -> Any:
    database = collection_of(DocumentRecord).database
    return database[f"{document_files.BUCKET}.files"]


def text_of(docs: list[Any]) -> str:
    return orjson.dumps(docs, default=str).decode().lower()


def oid(raw_id: str) -> PydanticObjectId:
    return PydanticObjectId(raw_id)
