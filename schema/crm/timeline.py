"""A prospect's timeline (calls, emails, meetings, notes) and follow-up tasks."""

from datetime import date, datetime

import strawberry

from models import crm as models
from schema.core.context import Info
from schema.core.dates import BoundedDates
from schema.users import User, load_user

ActivityKind = models.ActivityKind
strawberry.enum(ActivityKind)


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
        return await load_user(info, self.author_id)


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
        return await load_user(info, self.assignee_id)


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
