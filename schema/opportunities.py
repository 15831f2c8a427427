"""Private-deal opportunities and interest."""

from collections.abc import AsyncGenerator
from datetime import datetime
from decimal import Decimal

import strawberry

from models import opportunities as models
from models.permissions import Can
from models.users import TENANT_READERS
from resolvers.core.pagination import DEFAULT_PAGE_SIZE
from resolvers.opportunities import deals as use_cases
from schema.core.context import Info
from schema.core.dates import BoundedDates
from schema.core.domains import Domain
from schema.core.loaders import loaders
from schema.core.permissions import Allowed, IsAuthenticated
from schema.core.relay import Connection, to_connection
from schema.core.streams import guarded
from schema.users import User

OpportunityStatus = models.OpportunityStatus
strawberry.enum(OpportunityStatus)


@strawberry.type
class Opportunity:
    id: strawberry.ID
    name: str
    description: str
    sector: str | None
    status: OpportunityStatus
    target_raise: Decimal
    minimum_investment: Decimal
    raised_amount: Decimal
    closes_at: datetime | None
    created_at: datetime

    @classmethod
    def from_model(cls, doc: models.Opportunity) -> "Opportunity":
        return cls(
            id=strawberry.ID(str(doc.id)),
            name=doc.name,
            description=doc.description,
            sector=doc.sector,
            status=doc.status,
            target_raise=doc.target_raise,
            minimum_investment=doc.minimum_investment,
            raised_amount=doc.raised_amount,
            closes_at=doc.closes_at,
            created_at=doc.created_at,
        )

    @strawberry.field(description="Staff and analysts see all; an investor only their own")
    async def interests(self, info: Info) -> list["Interest"]:
        principal = info.context.require_principal()
        found = await loaders(info).opportunity_interests.load(str(self.id))
        if principal.role not in TENANT_READERS:
            found = [i for i in found if i.investor_id == principal.user_id]
        return [Interest.from_model(i) for i in found]


@strawberry.type
class Interest:
    id: strawberry.ID
    created_at: datetime
    opportunity_id: strawberry.Private[str]
    investor_id: strawberry.Private[str]

    @classmethod
    def from_model(cls, doc: models.Interest) -> "Interest":
        return cls(
            id=strawberry.ID(str(doc.id)),
            created_at=doc.created_at,
            opportunity_id=str(doc.opportunity_id),
            investor_id=str(doc.investor_id),
        )

    @strawberry.field
    async def opportunity(self, info: Info) -> Opportunity:
        doc = await loaders(info).opportunities.load(self.opportunity_id)
        assert doc is not None
        return Opportunity.from_model(doc)

    @strawberry.field
    async def investor(self, info: Info) -> User:
        doc = await loaders(info).users.load(self.investor_id)
        assert doc is not None
        return User.from_model(doc)


@strawberry.input
class CreateOpportunityInput(BoundedDates):
    name: str
    description: str
    target_raise: Decimal
    minimum_investment: Decimal
    sector: str | None = None
    closes_at: datetime | None = None


@strawberry.input
class UpdateOpportunityInput(BoundedDates):
    name: str | None = None
    description: str | None = None
    sector: str | None = None
    target_raise: Decimal | None = None
    minimum_investment: Decimal | None = None
    closes_at: datetime | None = None


def _fields(data: CreateOpportunityInput | UpdateOpportunityInput) -> use_cases.OpportunityFields:
    return use_cases.OpportunityFields(
        name=data.name,
        description=data.description,
        sector=data.sector,
        target_raise=data.target_raise,
        minimum_investment=data.minimum_investment,
        closes_at=data.closes_at,
    )


@strawberry.type
class OpportunityQueries:
    @strawberry.field(permission_classes=[IsAuthenticated])
    async def opportunities(
        self,
        info: Info,
        first: int | None = DEFAULT_PAGE_SIZE,
        after: str | None = None,
        status: OpportunityStatus | None = None,
        sector: str | None = None,
    ) -> Connection[Opportunity]:
        page = await use_cases.page(info.context, first, after, status, sector)
        return to_connection(page, Opportunity.from_model)

    @strawberry.field(permission_classes=[IsAuthenticated])
    async def opportunity(self, info: Info, id: strawberry.ID) -> Opportunity | None:
        return Opportunity.from_model(await use_cases.get(info.context, id))


@strawberry.type
class OpportunityMutations:
    @strawberry.mutation(
        permission_classes=[Allowed(Can.MANAGE_OPPORTUNITIES)], description="Created as DRAFT"
    )
    async def create_opportunity(self, info: Info, input: CreateOpportunityInput) -> Opportunity:
        return Opportunity.from_model(await use_cases.create(info.context, _fields(input)))

    @strawberry.mutation(permission_classes=[Allowed(Can.MANAGE_OPPORTUNITIES)])
    async def update_opportunity(
        self, info: Info, id: strawberry.ID, input: UpdateOpportunityInput
    ) -> Opportunity:
        return Opportunity.from_model(await use_cases.update(info.context, id, _fields(input)))

    @strawberry.mutation(permission_classes=[Allowed(Can.MANAGE_OPPORTUNITIES)])
    async def publish_opportunity(self, info: Info, id: strawberry.ID) -> Opportunity:
        return Opportunity.from_model(await use_cases.publish(info.context, id))

    @strawberry.mutation(permission_classes=[Allowed(Can.MANAGE_OPPORTUNITIES)])
    async def close_opportunity(self, info: Info, id: strawberry.ID) -> Opportunity:
        return Opportunity.from_model(await use_cases.close(info.context, id))

    @strawberry.mutation(permission_classes=[IsAuthenticated], description="Investors, once")
    async def express_interest(self, info: Info, opportunity_id: strawberry.ID) -> Interest:
        return Interest.from_model(await use_cases.express_interest(info.context, opportunity_id))


@strawberry.type
class OpportunitySubscriptions:
    @strawberry.subscription(permission_classes=[IsAuthenticated])
    async def opportunity_published(self, info: Info) -> AsyncGenerator[Opportunity, None]:
        stream = await use_cases.published_opportunities(info.context)
        async for opportunity in guarded(info.context, stream):
            yield Opportunity.from_model(opportunity)


DOMAIN = Domain(
    queries=OpportunityQueries,
    mutations=OpportunityMutations,
    subscriptions=OpportunitySubscriptions,
)
