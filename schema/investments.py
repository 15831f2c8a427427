"""Investments (fund products and opportunities) and redemptions."""

from datetime import date
from decimal import Decimal

import strawberry

from models import investments as models
from models.funds.payouts import Schedule, accrued_interest, schedule
from models.money import ZERO
from models.permissions import Can
from resolvers.investments import investing as use_cases
from resolvers.investments import redemptions as redemption_cases
from resolvers.opportunities import deals as opportunity_cases
from resolvers.portfolios.valuation import investment_value
from schema.core.context import Info
from schema.core.dates import BoundedDates, bounded
from schema.core.domains import Domain
from schema.core.loaders import loaders
from schema.core.permissions import Allowed, IsAuthenticated
from schema.funds import Payout, payouts
from schema.opportunities import Opportunity
from schema.users import User

RedemptionStatus = models.RedemptionStatus
strawberry.enum(RedemptionStatus)
InvestmentStatus = models.InvestmentStatus
strawberry.enum(
    InvestmentStatus,
    description="INCUBATING: a fund investment before its interest starts; ACTIVE: earning "
    "interest, or an opportunity investment from its commitment; MATURED: on or after the "
    "maturity date; REDEEMED: the principal was paid back",
)
RedemptionKind = models.RedemptionKind
strawberry.enum(
    RedemptionKind,
    description="INTEREST: accrued interest not yet paid out; PRINCIPAL: the whole principal, "
    "on or after maturity",
)


@strawberry.type
class Investment:
    model: strawberry.Private[models.Investment]
    id: strawberry.ID
    fund_code: str | None
    amount: Decimal
    deposit_date: date

    @classmethod
    def from_model(cls, doc: models.Investment) -> "Investment":
        return cls(
            model=doc,
            id=strawberry.ID(str(doc.id)),
            fund_code=doc.fund_code,
            amount=doc.amount,
            deposit_date=doc.deposit_date,
        )

    @strawberry.field
    async def investor(self, info: Info) -> User:
        user = await loaders(info).users.load(str(self.model.investor_id))
        assert user is not None
        return User.from_model(user)

    @strawberry.field
    async def opportunity(self, info: Info) -> Opportunity | None:
        if self.model.opportunity_id is None:
            return None
        doc = await loaders(info).opportunities.load(str(self.model.opportunity_id))
        return Opportunity.from_model(doc) if doc else None

    @strawberry.field(description="On the server's today")
    def status(self, info: Info) -> InvestmentStatus:
        return self.model.status(info.context.now().date())

    @strawberry.field
    def interest_start_date(self) -> date | None:
        return self._plan().interest_start if self.model.terms else None

    @strawberry.field
    def maturity_date(self) -> date | None:
        return self._plan().maturity if self.model.terms else None

    @strawberry.field(description="Interest accrued at asOf (default: today), per fund rules")
    def accrued_interest(self, info: Info, as_of: date | None = None) -> Decimal:
        if self.model.terms is None:
            return ZERO
        day = bounded(as_of, "asOf") or info.context.now().date()
        return accrued_interest(self.model.amount, self.model.terms, self.model.deposit_date, day)

    @strawberry.field
    def schedule(self) -> list[Payout]:
        return payouts(self._plan()) if self.model.terms else []

    @strawberry.field(
        description="Principal plus unpaid accrued interest (fixed-rate) or the "
        "share of the fund's MT5 profit (UNLIMITED), today"
    )
    async def current_value(self, info: Info) -> Decimal:
        share = await loaders(info).profit_share() if self.model.fund_code == "UNLIMITED" else None
        return investment_value(self.model, info.context.now().date(), share)

    def _plan(self) -> Schedule:
        assert self.model.terms is not None
        return schedule(self.model.amount, self.model.terms, self.model.deposit_date)


@strawberry.type
class Redemption:
    model: strawberry.Private[models.Redemption]
    id: strawberry.ID
    amount: Decimal
    kind: RedemptionKind
    status: RedemptionStatus
    reason: str | None

    @classmethod
    def from_model(cls, doc: models.Redemption) -> "Redemption":
        return cls(
            model=doc,
            id=strawberry.ID(str(doc.id)),
            amount=doc.amount,
            kind=doc.kind,
            status=doc.status,
            reason=doc.reason,
        )

    @strawberry.field
    async def investment(self, info: Info) -> Investment:
        doc = await use_cases.get_investment(info.context, str(self.model.investment_id))
        return Investment.from_model(doc)


@strawberry.input
class CreateInvestmentInput(BoundedDates):
    investor_id: strawberry.ID
    fund_code: str
    amount: Decimal
    deposit_date: date
    idempotency_key: str
    override_readiness_reason: str | None = strawberry.field(
        default=None, description="ADMIN only: bypass the readiness gate, audited"
    )
    backdate_reason: str | None = strawberry.field(
        default=None,
        description="Staff (ADMIN/MANAGER): required for a deposit dated before today; audited",
    )


@strawberry.input
class RedemptionRequestInput:
    investment_id: strawberry.ID
    amount: Decimal
    kind: str


@strawberry.input
class InvestInput:
    opportunity_id: strawberry.ID
    amount: Decimal
    idempotency_key: str


@strawberry.type
class InvestmentQueries:
    @strawberry.field(permission_classes=[IsAuthenticated])
    async def investment(self, info: Info, id: strawberry.ID) -> Investment | None:
        return Investment.from_model(await use_cases.get_investment(info.context, id))


@strawberry.type
class InvestmentMutations:
    @strawberry.mutation(permission_classes=[IsAuthenticated])
    async def create_investment(self, info: Info, input: CreateInvestmentInput) -> Investment:
        new = use_cases.NewInvestment(
            investor_id=input.investor_id,
            fund_code=input.fund_code,
            amount=input.amount,
            deposit_date=input.deposit_date,
            idempotency_key=input.idempotency_key,
            override_readiness_reason=input.override_readiness_reason,
            backdate_reason=input.backdate_reason,
        )
        return Investment.from_model(await use_cases.create_investment(info.context, new))

    @strawberry.mutation(
        permission_classes=[IsAuthenticated],
        description="The investor's KYC must be APPROVED, else CONFLICT",
    )
    async def invest(self, info: Info, input: InvestInput) -> Investment:
        doc = await opportunity_cases.invest(
            info.context, input.opportunity_id, input.amount, input.idempotency_key
        )
        return Investment.from_model(doc)

    @strawberry.mutation(permission_classes=[IsAuthenticated])
    async def request_redemption(self, info: Info, input: RedemptionRequestInput) -> Redemption:
        doc = await redemption_cases.request_redemption(
            info.context, input.investment_id, input.amount, input.kind
        )
        return Redemption.from_model(doc)

    @strawberry.mutation(permission_classes=[Allowed(Can.SETTLE_REDEMPTIONS)])
    async def approve_redemption(self, info: Info, id: strawberry.ID) -> Redemption:
        return Redemption.from_model(await redemption_cases.approve(info.context, id))

    @strawberry.mutation(permission_classes=[Allowed(Can.SETTLE_REDEMPTIONS)])
    async def reject_redemption(self, info: Info, id: strawberry.ID, reason: str) -> Redemption:
        return Redemption.from_model(await redemption_cases.reject(info.context, id, reason))

    @strawberry.mutation(permission_classes=[IsAuthenticated], description="The requester only")
    async def cancel_redemption(self, info: Info, id: strawberry.ID) -> Redemption:
        return Redemption.from_model(await redemption_cases.cancel(info.context, id))

    @strawberry.mutation(
        permission_classes=[Allowed(Can.SETTLE_REDEMPTIONS)], description="Records the withdrawal"
    )
    async def complete_redemption(self, info: Info, id: strawberry.ID) -> Redemption:
        return Redemption.from_model(await redemption_cases.complete(info.context, id))


DOMAIN = Domain(queries=InvestmentQueries, mutations=InvestmentMutations)
