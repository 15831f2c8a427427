"""Private-deal opportunities: drafting, publishing, closing, interest, and investing with
an atomic capacity reservation, so concurrent investments never oversubscribe."""

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from functools import partial

from bson import Decimal128
from pymongo import ReturnDocument
from pymongo.errors import DuplicateKeyError

from models.errors import BadUserInput, Conflict, NotFound
from models.investments import Investment
from models.money import amount_problem
from models.opportunities import Interest, Opportunity, OpportunityStatus
from models.permissions import Can
from models.users import TENANT_READERS, KycStatus
from models.webhooks import WebhookEventType
from resolvers.audit import trail as audit
from resolvers.core.context import Principal, RequestContext
from resolvers.core.current_state_streams import DocumentEvents
from resolvers.core.pagination import Page, page_of
from resolvers.core.post_commit import after_commit, revalue_after_commit
from resolvers.core.scope import clean_idempotency_key, get_in_tenant, tenant_filter
from resolvers.core.writes import changed_fields, set_fields
from resolvers.investments.investing import find_replay
from resolvers.portfolios.defaults import default_portfolio
from resolvers.webhooks import endpoints as webhooks
from subscriptions.opportunities import opportunity_stream, publish_opportunity

MAX_NAME = 200
MAX_DESCRIPTION = 20_000
MAX_SECTOR = 100


@dataclass(frozen=True)
class OpportunityFields:
    name: str | None = None
    description: str | None = None
    sector: str | None = None
    target_raise: Decimal | None = None
    minimum_investment: Decimal | None = None
    closes_at: datetime | None = None


def _text(value: str, field: str, limit: int) -> str:
    cleaned = value.strip()
    if not cleaned or len(cleaned) > limit:
        raise BadUserInput(f"{field} must be 1-{limit} characters", field=field)
    return cleaned


def _money(value: Decimal, field: str) -> Decimal:
    problem = amount_problem(value)
    if problem:
        raise BadUserInput(problem, field=field)
    return value


def _apply(opportunity: Opportunity, fields: OpportunityFields, now: datetime) -> None:
    if fields.name is not None:
        opportunity.name = _text(fields.name, "name", MAX_NAME)
    if fields.description is not None:
        opportunity.description = _text(fields.description, "description", MAX_DESCRIPTION)
    if fields.sector is not None:
        opportunity.sector = _text(fields.sector, "sector", MAX_SECTOR)
        opportunity.sector_key = opportunity.sector.lower()
    if fields.target_raise is not None:
        opportunity.target_raise = _money(fields.target_raise, "targetRaise")
    if fields.minimum_investment is not None:
        opportunity.minimum_investment = _money(fields.minimum_investment, "minimumInvestment")
    if fields.closes_at is not None:
        if fields.closes_at <= now:
            raise BadUserInput("closesAt must be in the future", field="closesAt")
        opportunity.closes_at = fields.closes_at
    if opportunity.minimum_investment > opportunity.target_raise:
        raise BadUserInput("The minimum cannot exceed the target", field="minimumInvestment")


async def create(ctx: RequestContext, fields: OpportunityFields) -> Opportunity:
    principal = ctx.require(Can.MANAGE_OPPORTUNITIES)
    assert fields.target_raise is not None and fields.minimum_investment is not None
    opportunity = Opportunity(
        tenant_id=principal.tenant_id,
        name="",
        description="",
        target_raise=fields.target_raise,
        minimum_investment=fields.minimum_investment,
        created_by=principal.user_id,
    )
    _apply(opportunity, fields, ctx.now())  # validates every given field
    await opportunity.insert()
    await audit.record(ctx, "opportunity.create", "Opportunity", opportunity.id)
    return opportunity


def _visible(principal: Principal, opportunity: Opportunity) -> bool:
    return principal.role in TENANT_READERS or opportunity.status is not OpportunityStatus.DRAFT


async def get(ctx: RequestContext, raw_id: str, *, field: str = "id") -> Opportunity:
    principal = ctx.require_principal()
    opportunity = await get_in_tenant(
        Opportunity, principal, raw_id, field=field, what="Opportunity"
    )
    if not _visible(principal, opportunity):
        raise NotFound("Opportunity not found")
    return opportunity


async def update(ctx: RequestContext, raw_id: str, fields: OpportunityFields) -> Opportunity:
    ctx.require(Can.MANAGE_OPPORTUNITIES)
    opportunity = await get(ctx, raw_id)
    if opportunity.status is not OpportunityStatus.DRAFT:
        money = (fields.target_raise, fields.minimum_investment)
        if any(v is not None for v in money):
            raise Conflict("Target and minimum are fixed once the opportunity is published")
        if opportunity.status is not OpportunityStatus.OPEN:
            raise Conflict(f"A {opportunity.status.value} opportunity cannot be edited")
    read = opportunity.model_dump()
    _apply(opportunity, fields, ctx.now())
    # the edited fields only: investments move raised_amount concurrently
    changes = changed_fields(opportunity, read)
    if not await set_fields(opportunity, changes, expect={"status": opportunity.status}):
        raise Conflict("The opportunity changed status meanwhile; reload and edit again")
    await audit.record(ctx, "opportunity.update", "Opportunity", opportunity.id)
    return opportunity


async def _move(
    ctx: RequestContext, raw_id: str, source: OpportunityStatus, target: OpportunityStatus
) -> Opportunity:
    principal = ctx.require(Can.MANAGE_OPPORTUNITIES)
    opportunity = await get(ctx, raw_id)
    doc = await Opportunity.get_pymongo_collection().find_one_and_update(
        {"_id": opportunity.id, "tenant_id": principal.tenant_id, "status": source.value},
        {"$set": {"status": target.value}},
        return_document=ReturnDocument.AFTER,
    )
    if doc is None:
        raise Conflict(f"The opportunity is {opportunity.status.value}, not {source.value}")
    await audit.record(
        ctx,
        f"opportunity.{target.value.lower()}",
        "Opportunity",
        opportunity.id,
    )
    moved: Opportunity = Opportunity.model_validate(doc)
    return moved


async def publish(ctx: RequestContext, raw_id: str) -> Opportunity:
    opportunity = await _move(ctx, raw_id, OpportunityStatus.DRAFT, OpportunityStatus.OPEN)
    announce = partial(publish_opportunity, ctx.services.broker, opportunity)
    await after_commit(ctx.services.background, "opportunity-publish", announce)
    return opportunity


async def close(ctx: RequestContext, raw_id: str) -> Opportunity:
    return await _move(ctx, raw_id, OpportunityStatus.OPEN, OpportunityStatus.CLOSED)


async def page(
    ctx: RequestContext,
    first: int | None,
    after: str | None,
    status: OpportunityStatus | None,
    sector: str | None,
) -> Page[Opportunity]:
    principal = ctx.require_principal()
    criteria = tenant_filter(principal)
    if status is not None:
        if status is OpportunityStatus.DRAFT and principal.role not in TENANT_READERS:
            raise BadUserInput("Investors see published opportunities only", field="status")
        criteria["status"] = status.value
    elif principal.role not in TENANT_READERS:
        criteria["status"] = {"$ne": OpportunityStatus.DRAFT.value}
    if sector is not None:
        criteria["sector_key"] = sector.strip().lower()[:MAX_SECTOR]
    return await page_of(
        Opportunity, criteria, ctx, list_name="opportunities", first=first, after=after
    )


async def express_interest(ctx: RequestContext, raw_id: str) -> Interest:
    principal = ctx.require(Can.INVEST_IN_OPPORTUNITIES)
    opportunity = await get(ctx, raw_id, field="opportunityId")
    if opportunity.status is not OpportunityStatus.OPEN:
        raise Conflict(f"The opportunity is {opportunity.status.value}")
    assert opportunity.id is not None
    interest = Interest(
        tenant_id=principal.tenant_id, opportunity_id=opportunity.id, investor_id=principal.user_id
    )
    try:
        await interest.insert()
    except DuplicateKeyError as exc:
        raise Conflict("You have already expressed interest") from exc
    return interest


async def invest(ctx: RequestContext, raw_id: str, amount: Decimal, key: str) -> Investment:
    """INVESTOR with APPROVED KYC; reserves capacity with one conditional update."""
    principal = ctx.require(Can.INVEST_IN_OPPORTUNITIES)
    key = clean_idempotency_key(key)
    same_request = {"opportunity_id": raw_id, "amount": amount}
    replay = await find_replay(principal, key, **same_request)
    if replay is not None:
        return replay
    opportunity = await get(ctx, raw_id, field="opportunityId")
    _money(amount, "amount")
    if amount < opportunity.minimum_investment:
        raise BadUserInput(f"The minimum is {opportunity.minimum_investment}", field="amount")
    if principal.user.kyc_status is not KycStatus.APPROVED:
        raise Conflict(f"Your KYC is {principal.user.kyc_status.value}; it must be APPROVED")
    if opportunity.status is not OpportunityStatus.OPEN:
        raise Conflict(f"The opportunity is {opportunity.status.value}")
    if opportunity.closes_at is not None and ctx.now() >= opportunity.closes_at:
        raise Conflict("The opportunity has closed")
    collection = Opportunity.get_pymongo_collection()
    reserved = await collection.find_one_and_update(
        {
            "_id": opportunity.id,
            "status": OpportunityStatus.OPEN.value,
            "$expr": {"$lte": [{"$add": ["$raised_amount", Decimal128(amount)]}, "$target_raise"]},
        },
        {"$inc": {"raised_amount": Decimal128(amount)}},
        return_document=ReturnDocument.AFTER,
    )
    if reserved is None:
        current = await Opportunity.get(opportunity.id)
        assert current is not None
        if current.status is not OpportunityStatus.OPEN:
            raise Conflict(f"The opportunity is {current.status.value}")
        raise Conflict(f"Only {current.target_raise - current.raised_amount} remains to be raised")
    portfolio = await default_portfolio(principal.user)
    investment = Investment(
        tenant_id=principal.tenant_id,
        investor_id=principal.user_id,
        opportunity_id=opportunity.id,
        portfolio_id=portfolio.id,
        amount=amount,
        deposit_date=ctx.now().date(),
        created_by=principal.user_id,
        idempotency_key=key,
    )
    try:
        await investment.insert()
    except DuplicateKeyError:
        await collection.update_one(
            {"_id": opportunity.id}, {"$inc": {"raised_amount": Decimal128(-amount)}}
        )
        replay = await find_replay(principal, key, **same_request)
        if replay is None:
            raise
        return replay
    if reserved["raised_amount"].to_decimal() >= reserved["target_raise"].to_decimal():
        await collection.update_one(
            {"_id": opportunity.id, "status": OpportunityStatus.OPEN.value},
            {"$set": {"status": OpportunityStatus.FUNDED.value}},
        )
    await audit.record(
        ctx,
        "opportunity.invest",
        "Investment",
        investment.id,
        opportunity=str(opportunity.id),
        amount=str(amount),
    )
    assert portfolio.id is not None
    await revalue_after_commit(ctx.services, portfolio.tenant_id, portfolio.id, "INVESTMENT")
    await webhooks.emit(
        ctx, WebhookEventType.INVESTMENT_CREATED, webhooks.investment_created(investment)
    )
    return investment


async def published_opportunities(ctx: RequestContext) -> AsyncIterator[Opportunity]:
    """The tenant's opportunities as they are published, in their current state (each
    once; after a gap, those published meanwhile: resolvers.core.current_state_streams)."""
    principal = ctx.require_principal()
    events = opportunity_stream(ctx.services.broker, principal.tenant_id)
    published = DocumentEvents(
        Opportunity,
        principal.tenant_id,
        ("opportunity.open",),  # audited by publish (see _move)
        visible=lambda found: found.status is not OpportunityStatus.DRAFT,
    )
    return published.stream(events)
