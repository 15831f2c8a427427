"""Fund products, simulation and invitations."""

from datetime import date
from decimal import Decimal

import strawberry

from models.funds import products as fund_models
from models.funds.payouts import Schedule
from models.permissions import Can
from resolvers.funds import products as use_cases
from schema.core.context import Info
from schema.core.dates import bounded
from schema.core.domains import Domain
from schema.core.permissions import Allowed, IsAuthenticated


@strawberry.type
class FundProduct:
    code: str
    name: str
    minimum_investment: Decimal
    monthly_rate: Decimal | None
    payout_frequency_months: int | None
    incubation_months: int
    term_months: int
    invitation_only: bool

    @classmethod
    def from_model(cls, fund: fund_models.FundProduct) -> "FundProduct":
        return cls(
            code=fund.code,
            name=fund.name,
            minimum_investment=fund.minimum_investment,
            monthly_rate=fund.monthly_rate,
            payout_frequency_months=fund.payout_every_months,
            incubation_months=fund.incubation_months,
            term_months=fund.term_months,
            invitation_only=fund.invitation_only,
        )


@strawberry.type
class Payout:
    date: date
    amount: Decimal
    kind: str


def payouts(plan: Schedule) -> list[Payout]:
    return [Payout(date=p.day, amount=p.amount, kind=p.kind) for p in plan.payouts]


@strawberry.type
class InvestmentSimulation:
    fund_code: str
    amount: Decimal
    interest_start_date: date
    maturity_date: date
    payouts: list[Payout]
    total_interest: Decimal
    final_value: Decimal


@strawberry.type
class FundInvitation:
    investor_id: strawberry.ID
    fund_code: str


@strawberry.input
class UpdateFundInput:
    name: str | None = None
    minimum_investment: Decimal | None = None
    monthly_rate: Decimal | None = None
    invitation_only: bool | None = None


@strawberry.type
class FundQueries:
    @strawberry.field(permission_classes=[IsAuthenticated])
    async def funds(self, info: Info) -> list[FundProduct]:
        return [FundProduct.from_model(f) for f in await use_cases.list_funds(info.context)]

    @strawberry.field(permission_classes=[IsAuthenticated])
    async def simulate_investment(
        self, info: Info, fund_code: str, amount: Decimal, start_date: date
    ) -> InvestmentSimulation:
        start = bounded(start_date, "startDate")
        result = await use_cases.simulate(info.context, fund_code, amount, start)
        return InvestmentSimulation(
            fund_code=result.fund.code,
            amount=result.amount,
            interest_start_date=result.plan.interest_start,
            maturity_date=result.plan.maturity,
            payouts=payouts(result.plan),
            total_interest=result.plan.total_interest,
            final_value=result.amount + result.plan.total_interest,
        )


@strawberry.type
class FundMutations:
    @strawberry.mutation(
        permission_classes=[Allowed(Can.CHANGE_FUNDS)], description="ADMIN; audited"
    )
    async def update_fund(self, info: Info, code: str, input: UpdateFundInput) -> FundProduct:
        changes = use_cases.FundChanges(
            name=input.name,
            minimum_investment=input.minimum_investment,
            monthly_rate=input.monthly_rate,
            invitation_only=input.invitation_only,
        )
        return FundProduct.from_model(await use_cases.update_fund(info.context, code, changes))

    @strawberry.mutation(
        permission_classes=[Allowed(Can.INVITE_TO_FUNDS)], description="For invitation-only funds"
    )
    async def invite_to_fund(
        self, info: Info, investor_id: strawberry.ID, fund_code: str
    ) -> FundInvitation:
        invitation = await use_cases.invite_to_fund(info.context, investor_id, fund_code)
        return FundInvitation(
            investor_id=strawberry.ID(str(invitation.investor_id)), fund_code=invitation.fund_code
        )


DOMAIN = Domain(queries=FundQueries, mutations=FundMutations)
