"""CRM: prospects, their pipeline, timeline, tasks, AML screening and conversion."""

from collections.abc import AsyncGenerator
from datetime import date, datetime
from decimal import Decimal

import strawberry

from models import crm as models
from models.permissions import Can
from resolvers.crm import aml as aml_use_cases
from resolvers.crm import pipeline as use_cases
from resolvers.crm import timeline
from schema.core.context import Info
from schema.core.dates import BoundedDates
from schema.core.loaders import loaders
from schema.core.permissions import Allowed
from schema.core.relay import Connection, to_connection
from schema.core.streams import guarded
from schema.users import User

ProspectStage = models.ProspectStage
AmlResult = models.AmlResult
ActivityKind = models.ActivityKind
strawberry.enum(ProspectStage)
strawberry.enum(AmlResult)
strawberry.enum(ActivityKind)


async def _user(info: Info, user_id: str) -> User:
    doc = await loaders(info).users.load(user_id)
    assert doc is not None  # users are never deleted
    return User.from_model(doc)


@strawberry.type
class StageChange:
    from_stage: ProspectStage | None
    to_stage: ProspectStage
    at: datetime
    by_id: strawberry.Private[str]

    @strawberry.field
    async def by(self, info: Info) -> User:
        return await _user(info, self.by_id)


@strawberry.type
class AmlCheck:
    result: AmlResult
    automatic: bool
    at: datetime
    note: str | None
    matched_entry_id: str | None
    matched_name: str | None
    score: float | None = strawberry.field(description="0-100, best over names and aliases")
    list_source: str | None
    by_id: strawberry.Private[str]

    @classmethod
    def from_model(cls, check: models.AmlCheck) -> "AmlCheck":
        return cls(
            result=check.result,
            automatic=check.automatic,
            at=check.at,
            note=check.note,
            matched_entry_id=check.matched_entry_id,
            matched_name=check.matched_name,
            score=check.score,
            list_source=check.list_source,
            by_id=str(check.by),
        )

    @strawberry.field
    async def by(self, info: Info) -> User:
        return await _user(info, self.by_id)


@strawberry.type
class Activity:
    id: strawberry.ID
    kind: ActivityKind
    text: str
    occurred_at: datetime
    author_id: strawberry.Private[str]

    @classmethod
    def from_model(cls, doc: models.Activity) -> "Activity":
        return cls(
            id=strawberry.ID(str(doc.id)),
            kind=doc.kind,
            text=doc.text,
            occurred_at=doc.occurred_at,
            author_id=str(doc.author_id),
        )

    @strawberry.field
    async def author(self, info: Info) -> User:
        return await _user(info, self.author_id)


@strawberry.type
class ProspectTask:
    id: strawberry.ID
    prospect_id: strawberry.ID
    title: str
    due_date: date
    done: bool
    done_at: datetime | None
    assignee_id: strawberry.Private[str]

    @classmethod
    def from_model(cls, doc: models.ProspectTask) -> "ProspectTask":
        return cls(
            id=strawberry.ID(str(doc.id)),
            prospect_id=strawberry.ID(str(doc.prospect_id)),
            title=doc.title,
            due_date=doc.due_date,
            done=doc.done,
            done_at=doc.done_at,
            assignee_id=str(doc.assignee_id),
        )

    @strawberry.field
    async def assignee(self, info: Info) -> User:
        return await _user(info, self.assignee_id)


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
        return await _user(info, str(self.model.owner_id))

    @strawberry.field
    async def converted_user(self, info: Info) -> User | None:
        if self.model.converted_user_id is None:
            return None
        return await _user(info, str(self.model.converted_user_id))

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


@strawberry.input
class LogActivityInput(BoundedDates):
    prospect_id: strawberry.ID
    kind: ActivityKind
    text: str
    occurred_at: datetime | None = None


@strawberry.input
class CreateTaskInput(BoundedDates):
    prospect_id: strawberry.ID
    title: str
    due_date: date
    assignee_id: strawberry.ID


@strawberry.type
class CrmQueries:
    @strawberry.field(permission_classes=[Allowed(Can.READ_TENANT)])
    async def prospects(
        self,
        info: Info,
        first: int | None = 20,
        after: str | None = None,
        stage: ProspectStage | None = None,
        owner_id: strawberry.ID | None = None,
    ) -> Connection[Prospect]:
        page = await use_cases.page(
            info.context, 20 if first is None else first, after, stage, owner_id
        )
        return to_connection(page, Prospect.from_model)

    @strawberry.field(permission_classes=[Allowed(Can.READ_TENANT)])
    async def prospect(self, info: Info, id: strawberry.ID) -> Prospect | None:
        return Prospect.from_model(await use_cases.get(info.context, id))

    @strawberry.field(
        permission_classes=[Allowed(Can.READ_TENANT)], description="Every stage, zeros too"
    )
    async def pipeline(self, info: Info) -> list[PipelineStage]:
        rows = await use_cases.pipeline(info.context)
        return [
            PipelineStage(stage=r.stage, count=r.count, expected_amount=r.expected_amount)
            for r in rows
        ]


@strawberry.type
class CrmMutations:
    @strawberry.mutation(
        permission_classes=[Allowed(Can.MANAGE_PROSPECTS)], description="Screened on creation"
    )
    async def create_prospect(self, info: Info, input: CreateProspectInput) -> Prospect:
        new = use_cases.NewProspect(
            full_name=input.full_name,
            email=input.email,
            expected_amount=input.expected_amount,
            owner_id=input.owner_id,
        )
        return Prospect.from_model(await use_cases.create(info.context, new))

    @strawberry.mutation(permission_classes=[Allowed(Can.MANAGE_PROSPECTS)])
    async def move_prospect(self, info: Info, id: strawberry.ID, stage: ProspectStage) -> Prospect:
        return Prospect.from_model(await use_cases.move(info.context, id, stage))

    @strawberry.mutation(
        permission_classes=[Allowed(Can.MANAGE_PROSPECTS)],
        description="APPROVED/REJECTED need a note",
    )
    async def record_aml_check(
        self, info: Info, prospect_id: strawberry.ID, result: AmlResult, note: str | None = None
    ) -> Prospect:
        updated = await aml_use_cases.record_check(info.context, prospect_id, result, note)
        return Prospect.from_model(updated)

    @strawberry.mutation(
        permission_classes=[Allowed(Can.MANAGE_PROSPECTS)], description="Against the sanctions list"
    )
    async def screen_prospect(self, info: Info, id: strawberry.ID) -> Prospect:
        return Prospect.from_model(await aml_use_cases.screen(info.context, id))

    @strawberry.mutation(
        permission_classes=[Allowed(Can.MANAGE_PROSPECTS)],
        description="WON, AML CLEAR/APPROVED, once",
    )
    async def convert_prospect(self, info: Info, id: strawberry.ID) -> User:
        return User.from_model(await use_cases.convert(info.context, id))

    @strawberry.mutation(permission_classes=[Allowed(Can.MANAGE_PROSPECTS)])
    async def log_activity(self, info: Info, input: LogActivityInput) -> Activity:
        activity = await timeline.log_activity(
            info.context, input.prospect_id, input.kind, input.text, input.occurred_at
        )
        return Activity.from_model(activity)

    @strawberry.mutation(permission_classes=[Allowed(Can.MANAGE_PROSPECTS)])
    async def create_task(self, info: Info, input: CreateTaskInput) -> ProspectTask:
        task = await timeline.create_task(
            info.context, input.prospect_id, input.title, input.due_date, input.assignee_id
        )
        return ProspectTask.from_model(task)

    @strawberry.mutation(permission_classes=[Allowed(Can.MANAGE_PROSPECTS)])
    async def complete_task(self, info: Info, id: strawberry.ID) -> ProspectTask:
        return ProspectTask.from_model(await timeline.complete_task(info.context, id))


@strawberry.type
class CrmSubscriptions:
    @strawberry.subscription(
        permission_classes=[Allowed(Can.READ_TENANT)],
        description="A prospect was created or changed stage (its current state)",
    )
    async def pipeline_changed(self, info: Info) -> AsyncGenerator[Prospect, None]:
        stream = await use_cases.pipeline_changes(info.context)
        async for prospect in guarded(info.context, stream):  # fresh DataLoaders per event
            yield Prospect.from_model(prospect)
