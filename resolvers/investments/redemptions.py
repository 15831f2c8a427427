"""Redemptions: request (investor or staff), approve/reject (ADMIN/MANAGER), cancel (the
requester), complete (records the withdrawal). Acting on a non-PENDING one is CONFLICT."""

from datetime import date
from decimal import Decimal
from typing import Any

from bson import Decimal128
from pymongo.asynchronous.client_session import AsyncClientSession

from models.errors import BadUserInput, Conflict, Forbidden, NotFound
from models.investments import (
    OUTSTANDING,
    Investment,
    Redemption,
    RedemptionKind,
    RedemptionStatus,
    interest_limit,
    redemption_problem,
)
from models.money import amount_problem
from models.permissions import Can
from models.portfolios.ledger import TransactionType
from models.portfolios.records import Transaction
from models.webhooks import WebhookEventType
from resolvers.audit import trail as audit
from resolvers.core.atomic import in_transaction
from resolvers.core.context import Principal, RequestContext
from resolvers.core.post_commit import revalue_after_commit
from resolvers.core.scope import get_in_tenant
from resolvers.investments.investing import get_investment
from resolvers.portfolios.ledger import can_see_owner
from resolvers.portfolios.valuation import investment_value
from resolvers.webhooks import endpoints as webhooks


async def outstanding_for(investment: Investment) -> list[Redemption]:
    return await Redemption.find(
        {
            "tenant_id": investment.tenant_id,
            "investment_id": investment.id,
            "status": {"$in": [s.value for s in OUTSTANDING]},
        }
    ).to_list()


async def request_redemption(
    ctx: RequestContext, raw_investment_id: str, amount: Decimal, kind: str
) -> Redemption:
    principal = ctx.require(Can.REQUEST_REDEMPTIONS)
    investment = await get_investment(ctx, raw_investment_id, field="investmentId")
    try:
        redemption_kind = RedemptionKind(kind.strip().upper())
    except ValueError as exc:
        raise BadUserInput("Kind must be INTEREST or PRINCIPAL", field="kind") from exc
    problem = amount_problem(amount)
    if problem:
        raise BadUserInput(problem, field="amount")
    if investment.redeemed:
        raise Conflict("The investment has been redeemed")
    today: date = ctx.now().date()
    outstanding = await outstanding_for(investment)
    reason = redemption_problem(
        investment, redemption_kind, amount, today, outstanding, investment_value(investment, today)
    )
    if reason is not None:
        raise Conflict(reason)
    claim, reserve = _reservation(investment, redemption_kind, amount, today)
    claimed = await Investment.get_pymongo_collection().update_one(
        {"_id": investment.id, "redeemed": False, **claim}, reserve
    )
    if claimed.modified_count != 1:
        raise Conflict("A concurrent redemption request used this amount; nothing was requested")
    redemption = Redemption(
        tenant_id=principal.tenant_id,
        investment_id=investment.id,
        investor_id=investment.investor_id,
        amount=amount,
        kind=redemption_kind,
        requested_by=principal.user_id,
    )
    try:
        await redemption.insert()
    except BaseException:
        await _release_for(investment, redemption_kind, amount)
        raise
    await audit.record(
        ctx,
        "redemption.request",
        "Redemption",
        redemption.id,
        amount=str(amount),
        kind=redemption_kind.value,
    )
    return redemption


def _claims_principal(investment: Investment, kind: RedemptionKind) -> bool:
    terms = investment.terms
    return terms is not None and terms.fixed_rate and kind is RedemptionKind.PRINCIPAL


def _reservation(
    investment: Investment, kind: RedemptionKind, amount: Decimal, today: date
) -> tuple[dict[str, Any], dict[str, Any]]:
    """(filter, update): one conditional update on the investment claims this request's
    share, so concurrent requests can never exceed what is available."""
    if _claims_principal(investment, kind):
        return {"principal_requested": False}, {"$set": {"principal_requested": True}}
    terms = investment.terms
    if terms is not None and terms.fixed_rate:
        limit = interest_limit(investment, today)
    else:
        limit = investment.amount  # a profit-share investment's gross value
    return (
        {"requested": {"$lte": Decimal128(limit - amount)}},
        {"$inc": {"requested": Decimal128(amount)}},
    )


async def _release_for(investment: Investment, kind: RedemptionKind, amount: Decimal) -> None:
    """Give back what a rejected, cancelled or failed request had reserved."""
    release = (
        {"$set": {"principal_requested": False}}
        if _claims_principal(investment, kind)
        else {"$inc": {"requested": Decimal128(-amount)}}
    )
    await Investment.get_pymongo_collection().update_one({"_id": investment.id}, release)


async def _visible_redemption(ctx: RequestContext, principal: Principal, raw_id: str) -> Redemption:
    redemption = await get_in_tenant(Redemption, principal, raw_id, what="Redemption")
    if not can_see_owner(principal, redemption.investor_id):
        raise NotFound("Redemption not found")
    return redemption


async def _transition(
    ctx: RequestContext,
    principal: Principal,
    redemption: Redemption,
    source: RedemptionStatus,
    target: RedemptionStatus,
    **changes: object,
) -> Redemption:
    """Atomic compare-and-set on the status: concurrent decisions cannot both win."""
    now = ctx.now()
    updated = await Redemption.get_pymongo_collection().update_one(
        {"_id": redemption.id, "tenant_id": principal.tenant_id, "status": source.value},
        {"$set": {"status": target.value, **changes}},
    )
    if updated.modified_count != 1:
        raise Conflict(f"The redemption is {redemption.status.value}, not {source.value}")
    await audit.record(
        ctx,
        f"redemption.{target.value.lower()}",
        "Redemption",
        redemption.id,
        at=now.isoformat(),
    )
    fresh = await Redemption.get(redemption.id)
    assert fresh is not None
    return fresh


async def _transition_releasing(
    ctx: RequestContext,
    principal: Principal,
    redemption: Redemption,
    target: RedemptionStatus,
    **changes: object,
) -> Redemption:
    """PENDING → REJECTED/CANCELLED gives the reserved amount back."""
    moved = await _transition(
        ctx, principal, redemption, RedemptionStatus.PENDING, target, **changes
    )
    investment = await Investment.get(redemption.investment_id)
    assert investment is not None
    await _release_for(investment, redemption.kind, redemption.amount)
    return moved


async def approve(ctx: RequestContext, raw_id: str) -> Redemption:
    principal = ctx.require(Can.SETTLE_REDEMPTIONS)
    redemption = await _visible_redemption(ctx, principal, raw_id)
    approved = await _transition(
        ctx,
        principal,
        redemption,
        RedemptionStatus.PENDING,
        RedemptionStatus.APPROVED,
        decided_by=principal.user_id,
        decided_at=ctx.now(),
    )
    await webhooks.emit(
        ctx, WebhookEventType.REDEMPTION_DECIDED, webhooks.redemption_decided(approved)
    )
    return approved


async def reject(ctx: RequestContext, raw_id: str, reason: str) -> Redemption:
    principal = ctx.require(Can.SETTLE_REDEMPTIONS)
    reason = reason.strip()
    if not reason or len(reason) > 2000:
        raise BadUserInput("A rejection needs a reason (at most 2000 characters)", field="reason")
    redemption = await _visible_redemption(ctx, principal, raw_id)
    rejected = await _transition_releasing(
        ctx,
        principal,
        redemption,
        RedemptionStatus.REJECTED,
        decided_by=principal.user_id,
        decided_at=ctx.now(),
        reason=reason,
    )
    await webhooks.emit(
        ctx, WebhookEventType.REDEMPTION_DECIDED, webhooks.redemption_decided(rejected)
    )
    return rejected


async def cancel(ctx: RequestContext, raw_id: str) -> Redemption:
    principal = ctx.require_principal()
    redemption = await _visible_redemption(ctx, principal, raw_id)
    if redemption.requested_by != principal.user_id:
        raise Forbidden("Only the requester may cancel a redemption")
    return await _transition_releasing(ctx, principal, redemption, RedemptionStatus.CANCELLED)


async def complete(ctx: RequestContext, raw_id: str) -> Redemption:
    """APPROVED → COMPLETED; records the withdrawal on the investment and in the ledger of
    its portfolio (an investment-linked entry: the fund pays out, portfolio cash is untouched)."""
    principal = ctx.require(Can.SETTLE_REDEMPTIONS)
    redemption = await _visible_redemption(ctx, principal, raw_id)
    investment = await Investment.get(redemption.investment_id)
    assert investment is not None
    now = ctx.now()

    async def write(session: AsyncClientSession) -> None:
        updated = await Redemption.get_pymongo_collection().update_one(
            {"_id": redemption.id, "status": RedemptionStatus.APPROVED.value},
            {"$set": {"status": RedemptionStatus.COMPLETED.value, "completed_at": now}},
            session=session,
        )
        if updated.modified_count != 1:
            raise Conflict(f"The redemption is {redemption.status.value}, not APPROVED")
        fixed_rate = investment.terms is not None and investment.terms.fixed_rate
        if fixed_rate and redemption.kind is RedemptionKind.PRINCIPAL:
            change: dict[str, object] = {"$set": {"redeemed": True}}
        else:
            change = {"$inc": {"withdrawn": Decimal128(redemption.amount)}}
        await Investment.get_pymongo_collection().update_one(
            {"_id": investment.id}, change, session=session
        )
        if investment.portfolio_id is not None:
            await Transaction(
                tenant_id=principal.tenant_id,
                portfolio_id=investment.portfolio_id,
                type=TransactionType.WITHDRAWAL,
                amount=redemption.amount,
                occurred_at=now,
                idempotency_key=f"redemption:{redemption.id}",
                recorded_by=principal.user_id,
                investment_id=investment.id,
            ).insert(session=session)

    await in_transaction(ctx.services.transactions, write)
    await audit.record(
        ctx,
        "redemption.completed",
        "Redemption",
        redemption.id,
        amount=str(redemption.amount),
    )
    if investment.portfolio_id is not None:
        await revalue_after_commit(
            ctx.services, investment.tenant_id, investment.portfolio_id, "INVESTMENT"
        )
    fresh = await Redemption.get(redemption.id)
    assert fresh is not None
    return fresh
