"""The CRM's root fields: queries, mutations and the pipeline stream."""

from collections.abc import AsyncGenerator

import strawberry

from models.permissions import Can
from resolvers.crm import aml as aml_use_cases
from resolvers.crm import pipeline as use_cases
from resolvers.crm import timeline
from schema.core.context import Info
from schema.core.domains import Domain
from schema.core.permissions import Allowed
from schema.core.relay import Connection, to_connection
from schema.core.streams import guarded
from schema.crm.aml import AmlResult
from schema.crm.prospects import CreateProspectInput, PipelineStage, Prospect, ProspectStage
from schema.crm.timeline import Activity, CreateTaskInput, LogActivityInput, ProspectTask
from schema.users import User


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


DOMAIN = Domain(queries=CrmQueries, mutations=CrmMutations, subscriptions=CrmSubscriptions)
