"""A prospect's activity timeline (calls, emails, meetings, notes) and follow-up tasks."""

from datetime import date, datetime

from pymongo import ReturnDocument

from models.crm import Activity, ActivityKind, ProspectTask
from models.errors import BadUserInput, Conflict
from models.permissions import Can
from models.users import STAFF_ROLES, User
from resolvers.core.context import RequestContext
from resolvers.core.scope import get_in_tenant
from resolvers.crm import pipeline as crm

MAX_TEXT = 5000
MAX_TITLE = 200


def _text(value: str, field: str, limit: int) -> str:
    cleaned = value.strip()
    if not cleaned or len(cleaned) > limit:
        raise BadUserInput(f"{field} must be 1-{limit} characters", field=field)
    return cleaned


async def log_activity(
    ctx: RequestContext,
    raw_prospect_id: str,
    kind: ActivityKind,
    text: str,
    occurred_at: datetime | None = None,
) -> Activity:
    principal = ctx.require(Can.MANAGE_PROSPECTS)
    text = _text(text, "text", MAX_TEXT)
    now = ctx.now()
    if occurred_at is not None and occurred_at > now:
        raise BadUserInput("An activity cannot be in the future", field="occurredAt")
    prospect = await crm.get(ctx, raw_prospect_id, field="prospectId")
    assert prospect.id is not None
    activity = Activity(
        tenant_id=principal.tenant_id,
        prospect_id=prospect.id,
        kind=kind,
        text=text,
        author_id=principal.user_id,
        occurred_at=occurred_at or now,
    )
    await activity.insert()
    return activity


async def create_task(
    ctx: RequestContext, raw_prospect_id: str, title: str, due_date: date, raw_assignee: str
) -> ProspectTask:
    principal = ctx.require(Can.MANAGE_PROSPECTS)
    title = _text(title, "title", MAX_TITLE)
    if due_date < ctx.now().date():
        raise BadUserInput("The due date is in the past", field="dueDate")
    prospect = await crm.get(ctx, raw_prospect_id, field="prospectId")
    assignee = await get_in_tenant(User, principal, raw_assignee, field="assigneeId", what="User")
    if assignee.role not in STAFF_ROLES:
        raise BadUserInput("Tasks are assigned to an ADMIN or MANAGER", field="assigneeId")
    assert prospect.id is not None and assignee.id is not None
    task = ProspectTask(
        tenant_id=principal.tenant_id,
        prospect_id=prospect.id,
        title=title,
        due_date=due_date,
        assignee_id=assignee.id,
        created_by=principal.user_id,
    )
    await task.insert()
    return task


async def complete_task(ctx: RequestContext, raw_id: str) -> ProspectTask:
    """Done once: one conditional update, a second completion is CONFLICT."""
    principal = ctx.require(Can.MANAGE_PROSPECTS)
    task = await get_in_tenant(ProspectTask, principal, raw_id, what="Task")
    doc = await ProspectTask.get_pymongo_collection().find_one_and_update(
        {"_id": task.id, "tenant_id": principal.tenant_id, "done": False},
        {"$set": {"done": True, "done_at": ctx.now(), "done_by": principal.user_id}},
        return_document=ReturnDocument.AFTER,
    )
    if doc is None:
        raise Conflict("The task is already done")
    done: ProspectTask = ProspectTask.model_validate(doc)
    return done
