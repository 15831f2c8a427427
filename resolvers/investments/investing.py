"""Investing in fund products: eligibility, readiness gate, idempotency, visibility."""

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from pymongo.errors import DuplicateKeyError

from models.documents.records import DocumentCategory, DocumentRecord
from models.errors import BadUserInput, Conflict, Forbidden, NotFound
from models.funds.products import FundInvitation
from models.investments import Investment
from models.permissions import Can
from models.users import KycStatus, Role, User
from models.webhooks import WebhookEventType
from resolvers.audit import trail as audit
from resolvers.core.context import Principal, RequestContext
from resolvers.core.post_commit import revalue_after_commit
from resolvers.core.scope import clean_idempotency_key, get_in_tenant, tenant_filter
from resolvers.funds.products import check_amount, get_fund
from resolvers.portfolios.defaults import default_portfolio
from resolvers.portfolios.ledger import can_see_owner
from resolvers.webhooks import endpoints as webhooks

MAX_REASON_LENGTH = 2000


@dataclass(frozen=True)
class NewInvestment:
    investor_id: str
    fund_code: str
    amount: Decimal
    deposit_date: date
    idempotency_key: str
    override_readiness_reason: str | None = None
    backdate_reason: str | None = None


async def find_replay(principal: Principal, key: str, **request: object) -> Investment | None:
    """The caller's earlier investment under ``key``; CONFLICT when that one was made for
    a different request (``request``: the fields that must match)."""
    found = await Investment.find_one(
        tenant_filter(principal, created_by=principal.user_id, idempotency_key=key)
    )
    if found is not None and any(
        str(getattr(found, name)) != str(value) for name, value in request.items()
    ):
        raise Conflict(
            "This idempotency key was used for a different request", field="idempotencyKey"
        )
    return found


async def readiness_gaps(investor: User) -> list[str]:
    """What keeps the investor from investing: KYC approval and a signed agreement."""
    gaps = []
    if investor.kyc_status is not KycStatus.APPROVED:
        gaps.append(f"KYC is {investor.kyc_status.value}, not APPROVED")
    signed = await DocumentRecord.find_one(
        {
            "tenant_id": investor.tenant_id,
            "owner_id": investor.id,
            "category": DocumentCategory.AGREEMENT.value,
            "signatures.signer_id": investor.id,  # signed by the investor themself
        }
    )
    if signed is None:
        gaps.append("no signed AGREEMENT document")
    return gaps


async def investor_for(principal: Principal, raw_id: str) -> User:
    """The investor a caller may act for: anyone in the tenant for staff, else themself."""
    if principal.role is Role.INVESTOR and raw_id != str(principal.user_id):
        raise NotFound("Investor not found")
    investor = await get_in_tenant(User, principal, raw_id, field="investorId", what="Investor")
    if investor.role is not Role.INVESTOR:
        raise BadUserInput("That user is not an investor", field="investorId")
    return investor


async def create_investment(ctx: RequestContext, new: NewInvestment) -> Investment:
    principal = ctx.require(Can.CREATE_INVESTMENTS)
    key = clean_idempotency_key(new.idempotency_key)
    same_request = {
        "investor_id": new.investor_id,
        "fund_code": new.fund_code.strip().upper(),
        "amount": new.amount,
        "deposit_date": new.deposit_date,
    }
    replay = await find_replay(principal, key, **same_request)
    if replay is not None:
        return replay
    investor = await investor_for(principal, new.investor_id)
    fund = await get_fund(principal.tenant_id, new.fund_code)
    check_amount(new.amount, fund)
    backdate_reason = _backdate_reason(ctx, principal, new.deposit_date, new.backdate_reason)
    if (
        fund.invitation_only
        and await FundInvitation.find_one(
            tenant_filter(principal, investor_id=investor.id, fund_code=fund.code)
        )
        is None
    ):
        raise Forbidden(f"{fund.code} is by invitation only")
    override = await _readiness_override(principal, investor, new.override_readiness_reason)
    assert investor.id is not None
    portfolio = await default_portfolio(investor)
    investment = Investment(
        tenant_id=principal.tenant_id,
        investor_id=investor.id,
        fund_code=fund.code,
        portfolio_id=portfolio.id,
        amount=new.amount,
        deposit_date=new.deposit_date,
        terms=fund.terms,
        created_by=principal.user_id,
        idempotency_key=key,
        override_reason=override,
        backdate_reason=backdate_reason,
        recorded_on=ctx.now().date(),
    )
    try:
        await investment.insert()
    except DuplicateKeyError:
        replay = await find_replay(principal, key, **same_request)
        if replay is None:
            raise
        return replay
    await audit.record(
        ctx,
        "investment.create",
        "Investment",
        investment.id,
        fund=fund.code,
        amount=str(new.amount),
        deposit_date=new.deposit_date.isoformat(),
        readiness_override=override,
        backdate_reason=backdate_reason,
    )
    assert portfolio.id is not None
    await revalue_after_commit(ctx.services, portfolio.tenant_id, portfolio.id, "INVESTMENT")
    await webhooks.emit(
        ctx, WebhookEventType.INVESTMENT_CREATED, webhooks.investment_created(investment)
    )
    return investment


def _backdate_reason(
    ctx: RequestContext, principal: Principal, deposit: date, reason: str | None
) -> str | None:
    """An investor's deposit is dated the server's today (or up to
    ``investor_backdate_days`` before); staff may date it earlier only with a reason,
    which is kept and audited. Never in the future."""
    today = ctx.now().date()
    if deposit > today:
        raise BadUserInput("Deposit date cannot be in the future", field="depositDate")
    if principal.role is Role.INVESTOR:
        window = ctx.services.investor_backdate_days
        if deposit < today - timedelta(days=window):
            raise BadUserInput(
                f"An investor's deposit date is at most {window} days before today"
                if window
                else "An investor's deposit is dated today",
                field="depositDate",
            )
        return None
    if deposit == today:
        return None
    reason = (reason or "").strip()
    if not reason:
        raise BadUserInput(
            "A deposit dated before today needs a backdateReason", field="backdateReason"
        )
    if len(reason) > MAX_REASON_LENGTH:
        raise BadUserInput("Reason is too long", field="backdateReason")
    return reason


async def _readiness_override(
    principal: Principal, investor: User, reason: str | None
) -> str | None:
    gaps = await readiness_gaps(investor)
    if not gaps:
        return None
    reason = (reason or "").strip() or None
    if reason is None:
        raise Conflict("The investor is not ready to invest: " + "; ".join(gaps))
    if principal.role is not Role.ADMIN:
        raise Forbidden("Only an ADMIN may override the readiness gate")
    if len(reason) > MAX_REASON_LENGTH:
        raise BadUserInput("Reason is too long", field="overrideReadinessReason")
    return reason


async def get_investment(ctx: RequestContext, raw_id: str, *, field: str = "id") -> Investment:
    principal = ctx.require_principal()
    investment = await get_in_tenant(Investment, principal, raw_id, field=field, what="Investment")
    if not can_see_owner(principal, investment.investor_id):
        raise NotFound("Investment not found")
    return investment
