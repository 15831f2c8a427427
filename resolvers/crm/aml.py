"""AML/KYC screening of prospects: the automatic screen against the configured sanctions
list, and manual results recorded (and audited) by staff."""

from pymongo import ReturnDocument

from models.crm import AmlCheck, AmlResult, Prospect
from models.errors import BadUserInput, Conflict
from models.permissions import Can
from resolvers.audit import trail as audit
from resolvers.core.context import RequestContext
from resolvers.crm.pipeline import automatic_check, get

MAX_NOTE = 2000
NOTE_REQUIRED = frozenset({AmlResult.APPROVED, AmlResult.REJECTED})


async def _append(ctx: RequestContext, prospect: Prospect, check: AmlCheck) -> Prospect:
    entry = check.model_dump()
    entry["result"] = check.result.value
    doc = await Prospect.get_pymongo_collection().find_one_and_update(
        {"_id": prospect.id, "tenant_id": prospect.tenant_id},
        {"$set": {"aml_result": check.result.value}, "$push": {"aml_checks": entry}},
        return_document=ReturnDocument.AFTER,
    )
    assert doc is not None  # prospects are never deleted
    updated: Prospect = Prospect.model_validate(doc)
    return updated


async def screen(ctx: RequestContext, raw_id: str) -> Prospect:
    """Re-run the automatic screen; CONFLICT when no sanctions list is configured."""
    ctx.require(Can.MANAGE_PROSPECTS)
    prospect = await get(ctx, raw_id)
    check = automatic_check(ctx, prospect.full_name)
    if check is None:
        raise Conflict(
            "No sanctions list is configured (FIDUS_SANCTIONS_FILE); "
            "record a manual result with recordAmlCheck"
        )
    screened = await _append(ctx, prospect, check)
    await audit.record(
        ctx,
        "prospect.aml_screen",
        "Prospect",
        prospect.id,
        result=check.result.value,
        score=check.score,
        matched=check.matched_entry_id,
    )
    return screened


async def record_check(
    ctx: RequestContext, raw_id: str, result: AmlResult, note: str | None
) -> Prospect:
    """A person's result; APPROVED and REJECTED are decisions and need a note."""
    principal = ctx.require(Can.MANAGE_PROSPECTS)
    cleaned = (note or "").strip() or None
    if cleaned is not None and len(cleaned) > MAX_NOTE:
        raise BadUserInput(f"Note is limited to {MAX_NOTE} characters", field="note")
    prospect = await get(ctx, raw_id, field="prospectId")
    if result in NOTE_REQUIRED and cleaned is None:
        raise BadUserInput(f"A {result.value} decision needs a note", field="note")
    check = AmlCheck(
        result=result, automatic=False, at=ctx.now(), by=principal.user_id, note=cleaned
    )
    updated = await _append(ctx, prospect, check)
    await audit.record(
        ctx,
        "prospect.aml_check",
        "Prospect",
        prospect.id,
        previous=prospect.aml_result.value if prospect.aml_result else None,
        result=result.value,
        note=cleaned,
    )
    return updated
