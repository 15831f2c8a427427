"""CRM prospects: creation (with automatic AML screening), the guarded stage pipeline,
the per-stage summary and conversion into an invited INVESTOR user."""

from collections.abc import AsyncIterator
from dataclasses import dataclass
from decimal import Decimal
from functools import partial
from typing import Any

from bson import Decimal128
from pymongo import ReturnDocument
from pymongo.errors import DuplicateKeyError

from models.crm import (
    CONVERTIBLE_AML,
    FUNNEL,
    AmlCheck,
    Prospect,
    ProspectStage,
    StageChange,
    move_allowed,
)
from models.errors import BadUserInput, Conflict, Forbidden
from models.money import ZERO, amount_problem, round_half_up
from models.permissions import Can
from models.users import Role, User
from models.webhooks import WebhookEventType
from resolvers.audit import trail as audit
from resolvers.core.context import Principal, RequestContext
from resolvers.core.current_state_streams import DocumentEvents
from resolvers.core.pagination import Page, page_of
from resolvers.core.post_commit import after_commit
from resolvers.core.scope import get_in_tenant, parse_id, tenant_filter
from resolvers.users.people import NewUser, clean_email, clean_full_name, create_user
from resolvers.webhooks import endpoints as webhooks
from subscriptions.crm import pipeline_stream, publish_prospect_changed

ALL_STAGES = (*FUNNEL, ProspectStage.LOST)


@dataclass(frozen=True)
class NewProspect:
    full_name: str
    email: str
    expected_amount: Decimal | None = None
    owner_id: str | None = None


async def _owner(ctx: RequestContext, principal: Principal, raw_owner: str | None) -> User:
    """The creating manager by default; only an ADMIN names another manager."""
    if raw_owner is None:
        if principal.role is not Role.MANAGER:
            raise BadUserInput("Name the owning manager (ownerId)", field="ownerId")
        return principal.user
    if principal.role is not Role.ADMIN and raw_owner != str(principal.user_id):
        raise Forbidden("Only an admin may assign a prospect to another manager")
    owner = await get_in_tenant(User, principal, raw_owner, field="ownerId", what="User")
    if owner.role is not Role.MANAGER:
        raise BadUserInput("The owner must be a MANAGER", field="ownerId")
    return owner


def automatic_check(ctx: RequestContext, full_name: str) -> AmlCheck | None:
    """Screen ``full_name`` against the configured list; None when no list is configured."""
    sanctions = ctx.services.sanctions
    if sanctions is None:
        return None
    outcome = sanctions.screen(full_name)
    return AmlCheck(
        result=outcome.result,
        automatic=True,
        at=ctx.now(),
        by=ctx.require_principal().user_id,
        matched_entry_id=outcome.entry.entry_id if outcome.entry else None,
        matched_name=outcome.matched_name,
        score=outcome.score,
        list_source=sanctions.source,
    )


async def create(ctx: RequestContext, new: NewProspect) -> Prospect:
    principal = ctx.require(Can.MANAGE_PROSPECTS)
    full_name, email = clean_full_name(new.full_name), clean_email(new.email)
    if new.expected_amount is not None:
        problem = amount_problem(new.expected_amount)
        if problem:
            raise BadUserInput(problem, field="expectedAmount")
    owner = await _owner(ctx, principal, new.owner_id)
    assert owner.id is not None
    check = automatic_check(ctx, full_name)
    prospect = Prospect(
        tenant_id=principal.tenant_id,
        full_name=full_name,
        email=email,
        expected_amount=new.expected_amount,
        owner_id=owner.id,
        created_by=principal.user_id,
        aml_result=check.result if check else None,
        aml_checks=[check] if check else [],
        stage_history=[
            StageChange(
                from_stage=None, to_stage=ProspectStage.LEAD, at=ctx.now(), by=principal.user_id
            )
        ],
    )
    try:
        await prospect.insert()
    except DuplicateKeyError as exc:
        raise Conflict("A prospect with this email already exists", field="email") from exc
    await audit.record(
        ctx,
        "prospect.create",
        "Prospect",
        prospect.id,
        owner=str(owner.id),
        aml=prospect.aml_result.value if prospect.aml_result else None,
    )
    await _announce(ctx, prospect)
    return prospect


async def _announce(ctx: RequestContext, prospect: Prospect) -> None:
    """After the write: the pipeline's subscribers see the prospect as it now is."""
    announce = partial(publish_prospect_changed, ctx.services.broker, prospect)
    await after_commit(ctx.services.background, "prospect-publish", announce)


async def get(ctx: RequestContext, raw_id: str, *, field: str = "id") -> Prospect:
    """ADMIN/MANAGER/ANALYST of the tenant; investors are FORBIDDEN."""
    principal = ctx.require(Can.READ_TENANT)
    return await get_in_tenant(Prospect, principal, raw_id, field=field, what="Prospect")


async def page(
    ctx: RequestContext,
    first: int | None,
    after: str | None,
    stage: ProspectStage | None,
    owner_id: str | None = None,
) -> Page[Prospect]:
    principal = ctx.require(Can.READ_TENANT)
    criteria = tenant_filter(principal)
    if stage is not None:
        criteria["stage"] = stage.value
    if owner_id is not None:
        criteria["owner_id"] = parse_id(owner_id, field="ownerId")
    return await page_of(Prospect, criteria, ctx, list_name="prospects", first=first, after=after)


async def move(ctx: RequestContext, raw_id: str, target: ProspectStage) -> Prospect:
    """One conditional update on the stage read: of concurrent moves exactly one wins."""
    principal = ctx.require(Can.MANAGE_PROSPECTS)
    prospect = await get(ctx, raw_id)
    source = prospect.stage
    if not move_allowed(source, target):
        raise Conflict(f"A {source.value} prospect cannot move to {target.value}", field="stage")
    change: dict[str, Any] = {"from_stage": source.value, "to_stage": target.value}
    change |= {"at": ctx.now(), "by": principal.user_id}
    doc = await Prospect.get_pymongo_collection().find_one_and_update(
        {"_id": prospect.id, "tenant_id": principal.tenant_id, "stage": source.value},
        {"$set": {"stage": target.value}, "$push": {"stage_history": change}},
        return_document=ReturnDocument.AFTER,
    )
    if doc is None:
        raise Conflict(f"The prospect is no longer {source.value}; reload and retry")
    moved: Prospect = Prospect.model_validate(doc)
    await audit.record(
        ctx, "prospect.move", "Prospect", moved.id, source=source.value, target=target.value
    )
    await _announce(ctx, moved)
    return moved


@dataclass(frozen=True)
class PipelineRow:
    stage: ProspectStage
    count: int
    expected_amount: Decimal


def _decimal(value: Any) -> Decimal:
    return value.to_decimal() if isinstance(value, Decimal128) else Decimal(str(value or 0))


async def pipeline(ctx: RequestContext) -> list[PipelineRow]:
    """Count and summed expected amount per stage, every stage present (one aggregation)."""
    principal = ctx.require(Can.READ_TENANT)
    cursor = await Prospect.get_pymongo_collection().aggregate(
        [
            {"$match": {"tenant_id": principal.tenant_id}},
            {
                "$group": {
                    "_id": "$stage",
                    "count": {"$sum": 1},
                    "amount": {"$sum": {"$ifNull": ["$expected_amount", Decimal128("0")]}},
                }
            },
        ]
    )
    rows = {row["_id"]: row for row in await cursor.to_list()}
    return [
        PipelineRow(
            stage=stage,
            count=int(rows[stage.value]["count"]) if stage.value in rows else 0,
            expected_amount=(
                round_half_up(_decimal(rows[stage.value]["amount"]))
                if stage.value in rows
                else ZERO
            ),
        )
        for stage in ALL_STAGES
    ]


def _conversion_problem(prospect: Prospect) -> str | None:
    if prospect.converted_user_id is not None or prospect.converting:
        return "The prospect has already been converted"
    if prospect.stage is not ProspectStage.WON:
        return f"Only a WON prospect can be converted; this one is {prospect.stage.value}"
    if prospect.aml_result is None:
        return "The prospect has no AML result; screen it or record a check first"
    if prospect.aml_result not in CONVERTIBLE_AML:
        return f"AML result is {prospect.aml_result.value}; it must be CLEAR or APPROVED"
    return None


async def convert(ctx: RequestContext, raw_id: str) -> User:
    """WON + AML CLEAR/APPROVED → an INVESTOR invited through the outbox, exactly once: the
    prospect is claimed with one conditional update before the user is created."""
    principal = ctx.require(Can.MANAGE_PROSPECTS)
    prospect = await get(ctx, raw_id)
    problem = _conversion_problem(prospect)
    if problem:
        raise Conflict(problem)
    if await User.find_one(tenant_filter(principal, email=prospect.email)) is not None:
        raise Conflict("A user with this email already exists", field="email")
    collection = Prospect.get_pymongo_collection()
    claimed = await collection.find_one_and_update(
        {
            "_id": prospect.id,
            "tenant_id": principal.tenant_id,
            "stage": ProspectStage.WON.value,
            "aml_result": {"$in": [r.value for r in CONVERTIBLE_AML]},
            "converted_user_id": None,
            "converting": False,
        },
        {"$set": {"converting": True}},
    )
    if claimed is None:
        current = await get(ctx, raw_id)
        raise Conflict(_conversion_problem(current) or "The prospect changed; reload and retry")
    try:
        user = await create_user(
            ctx, NewUser(email=prospect.email, full_name=prospect.full_name, role=Role.INVESTOR)
        )
    except BaseException:
        await collection.update_one({"_id": prospect.id}, {"$set": {"converting": False}})
        raise
    await collection.update_one(
        {"_id": prospect.id}, {"$set": {"converted_user_id": user.id, "converting": False}}
    )
    await audit.record(ctx, "prospect.convert", "Prospect", prospect.id, user=str(user.id))
    await webhooks.emit(
        ctx,
        WebhookEventType.PROSPECT_CONVERTED,
        {"prospectId": str(prospect.id), "userId": str(user.id), "email": user.email},
    )
    return user


async def pipeline_changes(ctx: RequestContext) -> AsyncIterator[Prospect]:
    """The tenant's prospects as they are created or move, in their current state (each
    state once; after a gap, those changed meanwhile: resolvers.core.current_state_streams). Only
    ADMIN/MANAGER/ANALYST of the tenant may subscribe; checked before streaming."""
    principal = ctx.require(Can.READ_TENANT)
    events = pipeline_stream(ctx.services.broker, principal.tenant_id)
    changes = DocumentEvents(
        Prospect,
        principal.tenant_id,
        ("prospect.create", "prospect.move"),  # audited by create and move
        version=lambda found: len(found.stage_history),  # one entry per move
    )
    return changes.stream(events)
