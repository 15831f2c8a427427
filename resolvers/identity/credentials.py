"""Secrets, password policy and session issuing shared by the identity use cases."""

import asyncio
import hashlib
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from beanie import PydanticObjectId

from models.errors import BadUserInput
from models.identity import ActionToken, OutboxMessage, RefreshSession, TokenPurpose
from models.users import User
from resolvers.core.context import RequestContext, Services
from resolvers.core.writes import set_fields
from subscriptions.broker import Broker
from subscriptions.sessions import sessions_changed

MAX_CREDENTIAL_LENGTH = 1024  # characters of a tenant slug or email looked at
_DUMMY_PASSWORD = "fidus-timing-equaliser"  # noqa: S105 - hashed once, never a credential


@dataclass(frozen=True)
class AuthResult:
    access_token: str
    refresh_token: str
    expires_at: datetime
    user: User


def new_secret(nbytes: int = 32) -> str:
    return secrets.token_urlsafe(nbytes)


def hash_secret(secret: str) -> str:
    """Tokens we mint carry 256 bits of entropy, so one SHA-256 is enough to store them."""
    return hashlib.sha256(secret.encode()).hexdigest()


def check_password_policy(password: str, services: Services, *, field: str, email: str) -> None:
    policy = services.policy
    if len(password) < policy.password_min_length:
        raise BadUserInput(
            f"Password must be at least {policy.password_min_length} characters", field=field
        )
    if len(password) > policy.password_max_length:
        raise BadUserInput(
            f"Password must be at most {policy.password_max_length} characters", field=field
        )
    if password.strip().lower() in {email, email.split("@", 1)[0]}:
        raise BadUserInput("Password must not be your email address", field=field)
    if len(set(password)) < 4:
        raise BadUserInput("Password is too simple", field=field)


async def hash_password(services: Services, password: str) -> str:
    return await asyncio.to_thread(services.passwords.hash, password)


async def verify_password(services: Services, password_hash: str | None, password: str) -> bool:
    """Constant work whether or not the account exists (no user enumeration by timing)."""
    if password_hash is None:
        if services.dummy_password_hash is None:
            services.dummy_password_hash = await hash_password(services, _DUMMY_PASSWORD)
        await asyncio.to_thread(services.passwords.verify, services.dummy_password_hash, password)
        return False
    return await asyncio.to_thread(services.passwords.verify, password_hash, password)


async def set_password(ctx: RequestContext, user: User, password: str) -> None:
    password_hash = await hash_password(ctx.services, password)
    changes = {"password_hash": password_hash, "password_changed_at": ctx.now()}
    if not await set_fields(user, changes, expect={"erased_at": None}):
        raise BadUserInput("This account no longer exists", field="password")


def split_refresh_token(token: str) -> tuple[PydanticObjectId, str] | None:
    session_part, _, secret = token.partition(".")
    if not secret or len(session_part) != 24:
        return None
    try:
        return PydanticObjectId(session_part), secret
    except Exception:  # bson.errors.InvalidId and friends
        return None


async def start_session(ctx: RequestContext, user: User) -> AuthResult:
    assert user.id is not None
    secret = new_secret()
    now = ctx.now()
    session = RefreshSession(
        tenant_id=user.tenant_id,
        user_id=user.id,
        token_hash=hash_secret(secret),
        expires_at=now + ctx.services.policy.refresh_ttl,
        last_used_at=now,
        user_agent=(ctx.user_agent or "")[:300] or None,
        client_ip=ctx.client_ip,
    )
    await session.insert()
    assert session.id is not None
    return issue_tokens(ctx, user, session.id, secret)


def issue_tokens(
    ctx: RequestContext, user: User, session_id: PydanticObjectId, secret: str
) -> AuthResult:
    access, expires_at = ctx.services.access_tokens.issue(user, session_id)
    return AuthResult(
        access_token=access,
        refresh_token=f"{session_id}.{secret}",
        expires_at=expires_at,
        user=user,
    )


async def revoke_user_sessions(
    broker: Broker,
    user: User,
    now: datetime,
    reason: str,
    *,
    keep: PydanticObjectId | None = None,
) -> None:
    """Revoke the user's sessions (but ``keep``); their open sockets close in every process."""
    criteria: dict[str, object] = {
        "tenant_id": user.tenant_id,
        "user_id": user.id,
        "revoked_at": None,
    }
    if keep is not None:
        criteria["_id"] = {"$ne": keep}
    await RefreshSession.get_pymongo_collection().update_many(
        criteria, {"$set": {"revoked_at": now, "revoked_reason": reason}}
    )
    await sessions_changed(broker, user_ids=[user.id])


async def issue_action_token(
    ctx: RequestContext, user: User, purpose: TokenPurpose, subject: str, body: str
) -> str:
    """Create a single-use token and deliver it through the outbox. Returns the token."""
    assert user.id is not None
    token = new_secret()
    ttl = (
        ctx.services.policy.password_reset_ttl
        if purpose is TokenPurpose.PASSWORD_RESET
        else ctx.services.policy.invitation_ttl
    )
    await ActionToken(
        tenant_id=user.tenant_id,
        user_id=user.id,
        purpose=purpose,
        token_hash=hash_secret(token),
        expires_at=ctx.now() + ttl,
    ).insert()
    await OutboxMessage(
        tenant_id=user.tenant_id,
        to=user.email,
        kind=purpose.value,
        subject=subject,
        body=body.format(token=token),
    ).insert()
    return token


async def consume_action_token(
    ctx: RequestContext,
    token: str,
    purpose: TokenPurpose,
    *,
    check: Callable[[User], None] | None = None,
    field: str = "token",
) -> User:
    """Return the token's user and mark the token used, atomically and once; ``check``
    runs first, so a rejected request leaves the token usable. Else BAD_USER_INPUT."""
    invalid = BadUserInput("The token is invalid, expired or already used", field=field)
    if not token or len(token) > 200:
        raise invalid
    now = ctx.now()
    live = {
        "token_hash": hash_secret(token),
        "purpose": purpose.value,
        "used_at": None,
        "expires_at": {"$gt": now},
    }
    collection = ActionToken.get_pymongo_collection()
    doc = await collection.find_one(live)
    user = None
    if doc is not None:
        user = await User.find_one({"_id": doc["user_id"], "tenant_id": doc["tenant_id"]})
    if doc is None or user is None:
        raise invalid
    if check is not None:
        check(user)
    if await collection.find_one_and_update(live, {"$set": {"used_at": now}}) is None:
        raise invalid  # lost a race with a concurrent use of the same token
    return user
