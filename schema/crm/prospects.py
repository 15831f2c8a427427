"""Prospects: their stage history, AML checks, timeline and tasks, and the pipeline."""

from datetime import datetime
from decimal import Decimal

import strawberry

from models import crm as models
from schema.core.context import Info
from schema.core.loaders import loaders
from schema.crm.aml import AmlCheck, AmlResult
from schema.crm.timeline import Activity, ProspectTask
from schema.users import User, load_user

ProspectStage = models.ProspectStage
strawberry.enum(ProspectStage)


@strawberry.type
class StageChange:
    from_stage: ProspectStage | None
    to_stage: ProspectStage
    at: datetime
    by_id: strawberry.Private[str]

    @strawberry.field
    async def by(self, info: Info) -> User:
        return await load_user(info, self.by_id)


@strawberry.type
class Prospect:
    id: strawberry.ID
    full_name: str
    email: str
    stage: ProspectStage
    aml_result: AmlResult | None = strawberry.field(description="null: not screened yet")
    expected_amount: Decimal | None
    created_at: datetime
    model: strawberry.Private[models.Prospect]

    @classmethod
    def from_model(cls, doc: models.Prospect) -> "Prospect":
        return cls(
            id=strawberry.ID(str(doc.id)),
            full_name=doc.full_name,
            email=doc.email,
            stage=doc.stage,
            aml_result=doc.aml_result,
            expected_amount=doc.expected_amount,
            created_at=doc.created_at,
            model=doc,
        )

    @strawberry.field
    async def owner(self, info: Info) -> User:
        return await load_user(info, str(self.model.owner_id))

    @strawberry.field
    async def converted_user(self, info: Info) -> User | None:
        if self.model.converted_user_id is None:
            return None
        return await load_user(info, str(self.model.converted_user_id))

    @strawberry.field(description="Oldest first, starting with the creation as LEAD")
    def stage_history(self) -> list[StageChange]:
        return [
            StageChange(from_stage=c.from_stage, to_stage=c.to_stage, at=c.at, by_id=str(c.by))
            for c in self.model.stage_history
        ]

    @strawberry.field(description="Oldest first; the last one decides amlResult")
    def aml_checks(self) -> list[AmlCheck]:
        return [AmlCheck.from_model(c) for c in self.model.aml_checks]

    @strawberry.field(description="Newest first")
    async def activities(self, info: Info) -> list[Activity]:
        found = await loaders(info).prospect_activities.load(str(self.id))
        ordered = sorted(found, key=lambda a: (a.occurred_at, str(a.id)), reverse=True)
        return [Activity.from_model(a) for a in ordered]

    @strawberry.field(description="Open tasks first, by due date")
    async def tasks(self, info: Info) -> list[ProspectTask]:
        found = await loaders(info).prospect_tasks.load(str(self.id))
        ordered = sorted(found, key=lambda t: (t.done, t.due_date, str(t.id)))
        return [ProspectTask.from_model(t) for t in ordered]


@strawberry.type
class PipelineStage:
    stage: ProspectStage
    count: int
    expected_amount: Decimal


@strawberry.input
class CreateProspectInput:
    full_name: str
    email: str
    expected_amount: Decimal | None = None
    owner_id: strawberry.ID | None = strawberry.field(
        default=None, description="A MANAGER; defaults to the creating manager (ADMIN only)"
    )
