"""The caller's sessions, and turning verified access-token claims into a Principal."""

import asyncio
from datetime import datetime

from beanie import PydanticObjectId

from models.errors import NotFound
from models.identity import RefreshSession
from models.users import User
from resolvers.audit import trail as audit
from resolvers.core.context import Principal, RequestContext
from resolvers.core.scope import parse_id
from subscriptions.sessions import sessions_changed


def live(now: datetime) -> dict[str, object]:
    """The criteria of a session still in force."""
    return {"revoked_at": None, "expires_at": {"$gt": now}}


async def live_session_ids(
    session_ids: list[PydanticObjectId], now: datetime
) -> set[PydanticObjectId]:
    """Which of these sessions are still in force: one query, whatever their number."""
    found = RefreshSession.get_pymongo_collection().find(
        {"_id": {"$in": session_ids}, **live(now)}, projection={"_id": 1}
    )
    return {doc["_id"] async for doc in found}


async def resolve_principal(
    user_id: str, tenant_id: str, session_id: str, *, now: datetime
) -> Principal | None:
    """The principal behind a signature-checked access token, or None when its session
    was revoked/expired or the user no longer exists (revocation takes effect at once)."""
    try:
        uid, tid, sid = (PydanticObjectId(v) for v in (user_id, tenant_id, session_id))
    except Exception:
        return None
    # every authenticated request pays this: both reads in one round trip's time
    session, user = await asyncio.gather(
        RefreshSession.get_pymongo_collection().find_one(
            {
                "_id": sid,
                "user_id": uid,
                "tenant_id": tid,
                **live(now),
            },
            projection={"_id": 1},
        ),
        User.find_one({"_id": uid, "tenant_id": tid}),
    )
    if session is None:
        return None
    return Principal(user=user, session_id=sid) if user else None


async def list_sessions(ctx: RequestContext) -> list[RefreshSession]:
    principal = ctx.require_principal()
    return (
        await RefreshSession.find(
            {
                "tenant_id": principal.tenant_id,
                "user_id": principal.user_id,
                **live(ctx.now()),
            }
        )
        .sort("-_id")
        .to_list()
    )


async def revoke_session(ctx: RequestContext, raw_id: str) -> bool:
    principal = ctx.require_principal()
    session_id = parse_id(raw_id)
    result = await RefreshSession.get_pymongo_collection().update_one(
        {
            "_id": session_id,
            "tenant_id": principal.tenant_id,
            "user_id": principal.user_id,
            "revoked_at": None,
        },
        {"$set": {"revoked_at": ctx.now(), "revoked_reason": "revoked by user"}},
    )
    if result.matched_count == 0:
        raise NotFound("Session not found")
    await audit.record(ctx, "session.revoke", "Session", session_id)
    await sessions_changed(ctx.services.broker, session_ids=[session_id])  # last: it may
    return True  # close the very socket this runs on
