"""Virtual-room join links: ``/events/{id}/join?token=...`` where the token names tenant,
event, user and expiry and carries an HMAC-SHA256 under a key derived from the deployment's
stored signing secret. Following the link re-checks that the user still holds a place."""

from datetime import datetime

from beanie import PydanticObjectId
from bson import ObjectId
from bson.errors import InvalidId

from models.events import HOLDS_PLACE, Event, EventStatus, Registration
from models.users import STAFF_ROLES, User
from resolvers.core.context import Principal, RequestContext, Services
from resolvers.core.signed_tokens import SigningKey, seal, unseal, with_expiry


def sign(key: SigningKey, event: Event, user_id: PydanticObjectId, expires_at: datetime) -> str:
    claims = {"t": str(event.tenant_id), "e": str(event.id), "u": str(user_id)}
    return seal(key, with_expiry(claims, expires_at))


def verify(key: SigningKey, token: str, event_id: str, now: datetime) -> dict[str, str] | None:
    """The token's claims if it is intact, for this event and not expired; else None."""
    claims = unseal(key, token, now)
    if claims is None or claims.get("e") != event_id:
        return None
    if not all(isinstance(claims.get(name), str) for name in ("t", "e", "u")):
        return None
    return {name: claims[name] for name in ("t", "e", "u")}


def may_join(principal: Principal, event: Event, registration: Registration | None) -> bool:
    if event.status is not EventStatus.PUBLISHED or not event.is_virtual or not event.room_url:
        return False
    if principal.role in STAFF_ROLES:
        return True
    return (
        registration is not None
        and registration.user_id == principal.user_id
        and registration.status in HOLDS_PLACE
    )


def join_url(ctx: RequestContext, event: Event, registration: Registration | None) -> str | None:
    """A fresh signed link (relative to the API's origin) for a registrant holding a place,
    or for ADMIN/MANAGER; None for anyone else or when there is no room."""
    principal = ctx.require_principal()
    if not may_join(principal, event, registration):
        return None
    expires_at = ctx.now() + ctx.services.event_join_ttl
    token = sign(ctx.services.token_keys.join_links, event, principal.user_id, expires_at)
    return f"/events/{event.id}/join?token={token}"


def _object_id(raw: str) -> PydanticObjectId | None:
    try:
        return PydanticObjectId(ObjectId(raw))
    except (InvalidId, TypeError):
        return None


async def room_for(services: Services, event_id: str, token: str) -> str | None:
    """The room URL the link leads to, or None (tampered, expired, or no longer allowed)."""
    claims = verify(services.token_keys.join_links, token, event_id, services.clock())
    if claims is None:
        return None
    ids = [_object_id(claims[k]) for k in ("t", "e", "u")]
    tenant_id, eid, user_id = ids
    if tenant_id is None or eid is None or user_id is None:
        return None
    event = await Event.find_one({"_id": eid, "tenant_id": tenant_id})
    user = await User.find_one({"_id": user_id, "tenant_id": tenant_id})
    if event is None or user is None:
        return None
    registration = await Registration.find_one(
        {"tenant_id": tenant_id, "event_id": eid, "user_id": user_id}
    )
    principal = Principal(user=user, session_id=None)
    return event.room_url if may_join(principal, event, registration) else None
