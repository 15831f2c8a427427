"""Shortcuts to put the database in a state a test needs (real documents, no mocks)."""

import hashlib
from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import Any

from beanie import PydanticObjectId

from models.documents.records import DocumentCategory, DocumentRecord, SignatureRecord
from models.investments import Investment
from models.users import KycStatus, Role, User, search_terms
from resolvers.documents import files as document_files
from resolvers.portfolios.defaults import create_default_portfolio
from subscriptions.payloads import TickPayload
from tests.support.api import Api


async def insert_user(user: User) -> User:
    """Insert ``user`` as the app would have created them: an investor together with their
    default portfolio (resolvers.users.people.create_user)."""
    await user.insert()
    if user.role is Role.INVESTOR:
        await create_default_portfolio(user)
    return user


async def make_ready(member: Any, *, kyc: bool = True, agreement: bool = True) -> None:
    """Approve the member's KYC and give them an AGREEMENT document (real bytes in GridFS)
    that they signed, as signDocument would leave it."""
    user = await User.get(PydanticObjectId(member.id))
    assert user is not None
    if kyc:
        user.kyc_status = KycStatus.APPROVED
        await user.save()
    if agreement:
        assert user.id is not None
        data = b"%PDF-1.4\n% Fidus test agreement\n%%EOF\n"
        digest = hashlib.sha256(data).hexdigest()
        await DocumentRecord(
            tenant_id=user.tenant_id,
            owner_id=user.id,
            category=DocumentCategory.AGREEMENT,
            filename="agreement.pdf",
            content_type="application/pdf",
            size=len(data),
            sha256=digest,
            file_id=await document_files.put_bytes(data, "agreement.pdf", user.tenant_id),
            signatures=[
                SignatureRecord(
                    signer_id=user.id,
                    signed_at=datetime.now(UTC),
                    document_sha256=digest,
                    full_name=user.full_name,
                )
            ],
        ).insert()


async def tenant_id_of(member: Any) -> PydanticObjectId:
    user = await User.get(PydanticObjectId(member.id))
    assert user is not None
    return user.tenant_id


async def tenant_of(member: Any) -> str:
    return str(await tenant_id_of(member))


async def set_price(runtime: Any, member: Any, symbol: str, bid: float, ask: float) -> None:
    tick = TickPayload(
        symbol=symbol, time_msc=int(datetime.now(UTC).timestamp() * 1000), bid=bid, ask=ask
    )
    await runtime.services.broker.prices.put(await tenant_of(member), [tick])


CREATE_INVESTMENT = """mutation($i: CreateInvestmentInput!) { createInvestment(input: $i) {
  id fundCode amount depositDate status interestStartDate maturityDate
  investor { id email } } }"""


async def invest_in_fund(
    api: Api,
    caller: Any,
    investor: Any,
    fund: str = "CORE",
    amount: str = "10000.00",
    deposit: str = "2025-01-15",
    key: str | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """createInvestment as ``caller``. Staff record the (usually past) deposit with a
    backdate reason, and the investment then counts as recorded on its deposit date: a
    long-held investment, as most tests need. Pass ``backdateReason`` to see how a freshly
    recorded one behaves instead."""
    long_held = caller.role is not Role.INVESTOR and "backdateReason" not in extra
    if long_held:
        extra["backdateReason"] = "recorded from the signed subscription form"
    variables = {
        "i": {
            "investorId": investor.id,
            "fundCode": fund,
            "amount": amount,
            "depositDate": deposit,
            "idempotencyKey": key or f"{fund}-{deposit}-{amount}",
            **extra,
        }
    }
    result = await api.gql(CREATE_INVESTMENT, variables, token=caller.token)
    if long_held and not result.errors:
        created = PydanticObjectId(result.ok()["createInvestment"]["id"])
        day = datetime.combine(date.fromisoformat(deposit), time())
        await Investment.get_pymongo_collection().update_one(
            {"_id": created}, {"$set": {"recorded_on": day}}
        )
    return result.body


def money(value: Any) -> Decimal:
    return Decimal(str(value))


async def crowd(
    api: Any,
    world: Any,
    size: int,
    tenant: str = "acme",
    name: str = "Guest",
    kyc_status: KycStatus = KycStatus.NOT_STARTED,
) -> list[Any]:
    """``size`` more investors of ``tenant`` (``name`` 0, 1, ...), logged in."""
    from tests.conftest import Member

    template = await User.get(world(tenant, "investor").id)
    assert template is not None
    members = []
    for i in range(size):
        email = f"{name.lower().replace(' ', '')}{i}@{tenant}.test"
        user = User(
            tenant_id=template.tenant_id,
            email=email,
            full_name=f"{name} {i}",
            role=Role.INVESTOR,
            kyc_status=kyc_status,
            password_hash=template.password_hash,
            search=search_terms(f"{name} {i}", email),
        )
        await insert_user(user)
        member = Member(tenant, email, Role.INVESTOR, str(user.id))
        payload = await api.login(tenant, email, member.password)
        member.token = payload["accessToken"]
        members.append(member)
    return members
