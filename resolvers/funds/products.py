"""Fund products: listing (seeded per tenant), ADMIN edits, invitations, simulation."""

import contextlib
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from beanie import PydanticObjectId
from pymongo.errors import DuplicateKeyError

from models.errors import BadUserInput, Conflict
from models.funds.payouts import Schedule, schedule
from models.funds.products import FundInvitation, FundProduct, default_products
from models.money import amount_problem, decimal_places
from models.permissions import Can
from models.users import Role, User
from resolvers.audit import trail as audit
from resolvers.core.context import RequestContext
from resolvers.core.scope import get_in_tenant, tenant_filter
from resolvers.core.writes import changed_fields, set_fields

MAX_RATE = Decimal("0.5")


async def seed_funds(tenant_id: PydanticObjectId) -> None:
    """Insert the default products a tenant lacks (idempotent, safe to race)."""
    existing = {p.code for p in await FundProduct.find({"tenant_id": tenant_id}).to_list()}
    for product in default_products(tenant_id):
        if product.code not in existing:
            with contextlib.suppress(DuplicateKeyError):  # a concurrent seed won
                await product.insert()


async def list_funds(ctx: RequestContext) -> list[FundProduct]:
    principal = ctx.require_principal()
    funds = await FundProduct.find(tenant_filter(principal)).sort("minimum_investment").to_list()
    if not funds:
        await seed_funds(principal.tenant_id)
        funds = (
            await FundProduct.find(tenant_filter(principal)).sort("minimum_investment").to_list()
        )
    return funds


async def get_fund(
    tenant_id: PydanticObjectId, code: str, *, field: str = "fundCode"
) -> FundProduct:
    fund = await FundProduct.find_one({"tenant_id": tenant_id, "code": code.strip().upper()})
    if fund is None:
        await seed_funds(tenant_id)
        fund = await FundProduct.find_one({"tenant_id": tenant_id, "code": code.strip().upper()})
    if fund is None:
        raise BadUserInput(f"Unknown fund '{code[:40]}'", field=field)
    return fund


@dataclass(frozen=True)
class FundChanges:
    name: str | None = None
    minimum_investment: Decimal | None = None
    monthly_rate: Decimal | None = None
    invitation_only: bool | None = None


async def update_fund(ctx: RequestContext, code: str, changes: FundChanges) -> FundProduct:
    """ADMIN only; terms of existing investments are frozen, so edits apply to new ones."""
    principal = ctx.require(Can.CHANGE_FUNDS)
    fund = await get_fund(principal.tenant_id, code, field="code")
    read = fund.model_dump()
    before = fund.model_dump(
        include={"name", "minimum_investment", "monthly_rate", "invitation_only"}, mode="json"
    )
    if changes.name is not None:
        name = changes.name.strip()
        if not name or len(name) > 100:
            raise BadUserInput("Name must be 1-100 characters", field="name")
        fund.name = name
    if changes.minimum_investment is not None:
        problem = amount_problem(changes.minimum_investment)
        if problem:
            raise BadUserInput(problem, field="minimumInvestment")
        fund.minimum_investment = changes.minimum_investment
    if changes.monthly_rate is not None:
        if fund.monthly_rate is None:
            raise Conflict("A profit-share product has no monthly rate", field="monthlyRate")
        rate = changes.monthly_rate
        if not rate.is_finite() or not 0 < rate <= MAX_RATE or decimal_places(rate) > 6:
            raise BadUserInput(
                "Monthly rate must be in (0, 0.5] with at most 6 decimals", field="monthlyRate"
            )
        fund.monthly_rate = changes.monthly_rate
    if changes.invitation_only is not None:
        fund.invitation_only = changes.invitation_only
    await set_fields(fund, changed_fields(fund, read))
    await audit.record(
        ctx,
        "fund.update",
        "FundProduct",
        fund.id,
        code=fund.code,
        before=before,
    )
    return fund


async def invite_to_fund(ctx: RequestContext, raw_investor_id: str, code: str) -> FundInvitation:
    principal = ctx.require(Can.INVITE_TO_FUNDS)
    investor = await get_in_tenant(
        User, principal, raw_investor_id, field="investorId", what="Investor"
    )
    if investor.role is not Role.INVESTOR or investor.id is None:
        raise BadUserInput("Only investors can be invited to a fund", field="investorId")
    fund = await get_fund(principal.tenant_id, code)
    if not fund.invitation_only:
        raise Conflict(f"{fund.code} is open to every investor", field="fundCode")
    invitation = FundInvitation(
        tenant_id=principal.tenant_id,
        investor_id=investor.id,
        fund_code=fund.code,
        invited_by=principal.user_id,
    )
    try:
        await invitation.insert()
    except DuplicateKeyError as exc:
        raise Conflict("The investor is already invited to this fund") from exc
    await audit.record(ctx, "fund.invite", "User", investor.id, fund=fund.code)
    return invitation


def check_amount(amount: Decimal, fund: FundProduct) -> None:
    problem = amount_problem(amount)
    if problem:
        raise BadUserInput(problem, field="amount")
    if amount < fund.minimum_investment:
        raise BadUserInput(
            f"{fund.code} requires at least {fund.minimum_investment}", field="amount"
        )


@dataclass(frozen=True)
class Simulation:
    fund: FundProduct
    amount: Decimal
    plan: Schedule


async def simulate(ctx: RequestContext, code: str, amount: Decimal, start: date) -> Simulation:
    principal = ctx.require_principal()
    fund = await get_fund(principal.tenant_id, code)
    check_amount(amount, fund)
    if not date(1990, 1, 1) <= start <= date(2200, 1, 1):
        raise BadUserInput("Start date is out of range", field="startDate")
    return Simulation(fund=fund, amount=amount, plan=schedule(amount, fund.terms, start))
