"""GDPR/POPIA erasure of one user (ADMIN only), resumable after a crash.

The user is first claimed: ``erasure`` = ERASING with a pseudonym and a lease, in one
conditional update. Then every step runs; each is idempotent, so running them again
(another ``eraseUser`` call once the lease ran out, or at once after a step failed) finishes
the job. The person's name and email stay on the user document until the very last step,
because the earlier steps look for them (outbox, prospects, mentions in free text); that
last step swaps them for the pseudonym and sets ERASED. The ledger (investments,
redemptions, portfolios, transactions) and the audit log are kept, still pointing at the
now pseudonymous user id; only the person's name is taken out of their portfolios' names.
See docs/domain-decisions.md, Privacy."""

from collections.abc import Awaitable, Callable
from typing import Any

from pymongo import ReturnDocument

from models.audit import AuditEntry
from models.errors import BadUserInput, Conflict
from models.permissions import Can
from models.privacy import ERASURE_LEASE, MAX_CONFIRM, new_pseudonym
from models.users import ErasureState, Role, User, normalize_email, search_terms
from resolvers.audit import trail as audit
from resolvers.core.context import RequestContext
from resolvers.core.scope import get_in_tenant
from resolvers.privacy import erasure_steps
from resolvers.privacy.erasure_steps import Erasure

Step = Callable[[Erasure], Awaitable[None]]
STEPS: tuple[Step, ...] = (
    erasure_steps.credentials,
    erasure_steps.outbox,
    erasure_steps.documents,
    erasure_steps.messages,
    erasure_steps.prospects,
    erasure_steps.portfolio_names,
    erasure_steps.mentions,
)


async def _finish(run: Erasure) -> User:
    """The audit entry (once, even when resumed after it was written), then the user
    document itself: the pseudonym replaces name and email, and the erasure is final."""
    user = run.user
    already = await AuditEntry.find_one({**run.scope, "action": "user.erase", "target_id": user.id})
    if already is None:
        await audit.record(
            run.ctx,
            "user.erase",
            "User",
            user.id,
            pseudonym=run.pseudonym,
            resumed=run.resumed,
            steps=run.done,
        )
    finished = await User.get_pymongo_collection().find_one_and_update(
        {"_id": user.id, "erasure": ErasureState.ERASING.value, "pseudonym": run.pseudonym},
        {
            "$set": {
                "full_name": run.name,
                "email": run.email,
                "search": search_terms(run.name, run.email),
                "phone": None,
                "erasure": ErasureState.ERASED.value,
                "erasure_lease_until": None,
                "erased_at": run.ctx.now(),
            }
        },
        return_document=ReturnDocument.AFTER,
    )
    if finished is None:
        raise Conflict("The erasure was finished by another request")
    erased: User = User.model_validate(finished)
    return erased


async def _active_admins(user: User) -> int:
    return await User.find(
        {
            "tenant_id": user.tenant_id,
            "role": Role.ADMIN.value,
            "erasure": None,
            "_id": {"$ne": user.id},
        }
    ).count()


async def _claim(ctx: RequestContext, user: User) -> Erasure:
    """ERASING with a lease, in one conditional update: a fresh user, or an erasure whose
    lease ran out (its run crashed). Anything else is CONFLICT."""
    now = ctx.now()
    pseudonym = user.pseudonym or new_pseudonym()
    claimed = await User.get_pymongo_collection().find_one_and_update(
        {
            "_id": user.id,
            "tenant_id": user.tenant_id,
            "pseudonym": user.pseudonym,
            "$or": [
                {"erasure": None},
                {"erasure": ErasureState.ERASING.value, "erasure_lease_until": {"$lte": now}},
            ],
        },
        {
            "$set": {
                "erasure": ErasureState.ERASING.value,
                "pseudonym": pseudonym,
                "erasure_lease_until": now + ERASURE_LEASE,
            }
        },
        return_document=ReturnDocument.AFTER,
    )
    if claimed is None:
        current = await User.get(user.id)
        if current is not None and current.erasure is ErasureState.ERASED:
            raise Conflict("The user is already erased")
        raise Conflict("An erasure of this user is running; retry in a few minutes")
    return Erasure(ctx, User.model_validate(claimed), pseudonym, resumed=user.erasure is not None)


async def _release(run: Erasure, *, undo: bool) -> None:
    """Give the claim back at once (a failed step: retry now), or undo a fresh claim."""
    changes: dict[str, Any] = {"erasure_lease_until": run.ctx.now()}
    if undo:
        changes = {"erasure": None, "erasure_lease_until": None, "pseudonym": None}
    await User.get_pymongo_collection().update_one(
        {"_id": run.user.id, "erasure": ErasureState.ERASING.value, "pseudonym": run.pseudonym},
        {"$set": changes},
    )


async def erase_user(ctx: RequestContext, raw_user_id: str, confirm: str) -> User:
    principal = ctx.require(Can.ERASE_USERS)
    user = await get_in_tenant(User, principal, raw_user_id, field="userId", what="User")
    if user.id == principal.user_id:
        raise Conflict("You cannot erase yourself; another ADMIN can")
    if user.erasure is ErasureState.ERASED:
        raise Conflict("The user is already erased")
    if len(confirm) > MAX_CONFIRM or normalize_email(confirm) != user.email:
        raise BadUserInput("Type the user's email address to confirm", field="confirm")
    if user.role is Role.ADMIN and await _active_admins(user) == 0:
        raise Conflict("The last ADMIN of a tenant cannot be erased")
    run = await _claim(ctx, user)
    if not run.resumed and user.role is Role.ADMIN and await _active_admins(user) == 0:
        await _release(run, undo=True)  # two ADMINs erasing each other: neither goes
        raise Conflict("The last ADMIN of a tenant cannot be erased")
    try:
        for step in STEPS:
            await step(run)
        return await _finish(run)
    except BaseException:
        await _release(run, undo=False)
        raise
