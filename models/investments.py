"""Investments in fund products or opportunities, redemptions, and the pure eligibility
rules for redemptions (fund-rules.md)."""

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

from beanie import DecimalAnnotation, PydanticObjectId

from models.base import TenantDocument, tenant_index
from models.funds.payouts import Terms, accrued_interest, month_boundary
from models.money import ZERO


class InvestmentStatus(StrEnum):
    """Where an investment stands on a given day. A fund investment is INCUBATING until its
    interest starts, ACTIVE until maturity, then MATURED; an opportunity investment (no
    fund terms) is ACTIVE from its commitment. REDEEMED: the principal was paid back."""

    INCUBATING = "INCUBATING"
    ACTIVE = "ACTIVE"
    MATURED = "MATURED"
    REDEEMED = "REDEEMED"


class Investment(TenantDocument):
    investor_id: PydanticObjectId
    fund_code: str | None = None
    opportunity_id: PydanticObjectId | None = None
    portfolio_id: PydanticObjectId | None = None
    amount: DecimalAnnotation
    deposit_date: date
    terms: Terms | None = None  # frozen at investment time: later product edits don't apply
    redeemed: bool = False
    interest_paid_out: DecimalAnnotation = ZERO  # scheduled payouts actually made
    withdrawn: DecimalAnnotation = ZERO  # completed redemptions (except a whole principal)
    requested: DecimalAnnotation = ZERO  # interest/profit-share requests not rejected/cancelled
    principal_requested: bool = False
    created_by: PydanticObjectId
    idempotency_key: str
    override_reason: str | None = None
    backdate_reason: str | None = None  # staff recorded a deposit dated before that day
    recorded_on: date | None = None  # the server's date when recorded (None: see created_at)

    class Settings:
        name = "investments"
        indexes = [
            tenant_index("created_by", "idempotency_key", unique=True),
            tenant_index("investor_id"),
            tenant_index("portfolio_id"),
        ]

    def status(self, today: date) -> InvestmentStatus:
        if self.redeemed:
            return InvestmentStatus.REDEEMED
        if self.terms is None:
            return InvestmentStatus.ACTIVE
        if today < month_boundary(self.deposit_date, 0, self.terms.incubation_months):
            return InvestmentStatus.INCUBATING
        if today >= month_boundary(
            self.deposit_date, self.terms.term_months, self.terms.incubation_months
        ):
            return InvestmentStatus.MATURED
        return InvestmentStatus.ACTIVE


class RedemptionStatus(StrEnum):
    PENDING = "PENDING"
    APPROVED = "APPROVED"
    REJECTED = "REJECTED"
    COMPLETED = "COMPLETED"
    CANCELLED = "CANCELLED"


OUTSTANDING = (RedemptionStatus.PENDING, RedemptionStatus.APPROVED, RedemptionStatus.COMPLETED)


class RedemptionKind(StrEnum):
    INTEREST = "INTEREST"
    PRINCIPAL = "PRINCIPAL"


class Redemption(TenantDocument):
    investment_id: PydanticObjectId
    investor_id: PydanticObjectId
    amount: DecimalAnnotation
    kind: RedemptionKind
    status: RedemptionStatus = RedemptionStatus.PENDING
    reason: str | None = None
    requested_by: PydanticObjectId
    decided_by: PydanticObjectId | None = None
    decided_at: datetime | None = None
    completed_at: datetime | None = None

    class Settings:
        name = "redemptions"
        indexes = [tenant_index("investment_id")]


def redemption_problem(
    investment: Investment,
    kind: RedemptionKind,
    amount: Decimal,
    day: date,
    outstanding: list[Redemption],
    current_value: Decimal,
) -> str | None:
    """Why this redemption may not be requested on ``day`` (CONFLICT), or None.
    ``outstanding``: the investment's PENDING, APPROVED and COMPLETED redemptions."""
    terms = investment.terms
    if terms is None:
        return "Opportunity investments are not redeemable through Fidus"
    deposit = investment.deposit_date
    if day < month_boundary(deposit, 0, terms.incubation_months):
        return "The investment is still in its incubation period"
    if not terms.fixed_rate:  # profit-share product: any amount up to the current value
        # completed redemptions are already out of the current value
        pending = [r for r in outstanding if r.status is not RedemptionStatus.COMPLETED]
        taken = sum((r.amount for r in pending), ZERO)
        if amount > current_value - taken:
            return f"At most {current_value - taken} can be redeemed now"
        return None
    assert terms.payout_every_months is not None
    if kind is RedemptionKind.PRINCIPAL:
        maturity = month_boundary(deposit, terms.term_months, terms.incubation_months)
        if day < maturity:
            return f"Principal can be redeemed on or after {maturity.isoformat()}"
        if any(r.kind is RedemptionKind.PRINCIPAL for r in outstanding):
            return "The principal has already been requested"
        if amount != investment.amount:
            return f"Principal is redeemed whole: {investment.amount}"
        return None
    first_period = month_boundary(deposit, terms.payout_every_months, terms.incubation_months)
    if day < first_period:
        return f"Interest can be redeemed from {first_period.isoformat()}"
    available = interest_available(investment, day, outstanding)
    if amount > available:
        return f"At most {available} of interest is available"
    return None


def interest_limit(investment: Investment, day: date) -> Decimal:
    """Interest that INTEREST redemptions may draw on at ``day``, before outstanding
    requests: accrual counts from the later of the deposit date and the day the investment
    was recorded (a back-dated deposit makes no earlier interest redeemable), less what
    scheduled payouts have paid beyond that earlier accrual."""
    terms = investment.terms
    if terms is None or not terms.fixed_rate:
        return ZERO
    accrued = accrued_interest(investment.amount, terms, investment.deposit_date, day)
    recorded = min(investment.recorded_on or investment.created_at.date(), day)
    before = accrued_interest(investment.amount, terms, investment.deposit_date, recorded)
    return accrued - max(before, investment.interest_paid_out)


def interest_available(investment: Investment, day: date, outstanding: list[Redemption]) -> Decimal:
    """The interest limit less INTEREST redemptions outstanding."""
    requested = sum((r.amount for r in outstanding if r.kind is RedemptionKind.INTEREST), ZERO)
    return max(ZERO, interest_limit(investment, day) - requested)
