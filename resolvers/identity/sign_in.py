"""Sign-in: login (with MFA and the sign-in throttle), refresh rotation with reuse
detection, logout. The password life cycle is in resolvers/identity/passwords.py."""

import logging

from pymongo import ReturnDocument

from models.errors import Unauthenticated
from models.identity import (
    MAX_PREVIOUS_REFRESH_HASHES,
    RefreshSession,
)
from models.tenants import Tenant
from models.users import MAX_EMAIL_LENGTH, User, normalize_email
from resolvers.audit import trail as audit
from resolvers.core.context import RequestContext
from resolvers.core.writes import set_fields
from resolvers.identity import login_throttle as throttle
from resolvers.identity import mfa
from resolvers.identity.credentials import (
    MAX_CREDENTIAL_LENGTH,
    AuthResult,
    hash_password,
    hash_secret,
    issue_tokens,
    new_secret,
    split_refresh_token,
    start_session,
    verify_password,
)
from subscriptions.sessions import sessions_changed

log = logging.getLogger(__name__)
_BAD_CREDENTIALS = "Invalid tenant, email or password"


async def login(
    ctx: RequestContext, tenant_slug: str, email: str, password: str, otp: str | None
) -> AuthResult:
    email = normalize_email(email)[:MAX_CREDENTIAL_LENGTH]
    tenant_slug = tenant_slug.strip().lower()[:MAX_CREDENTIAL_LENGTH]
    policy, now = ctx.services.policy, ctx.now()
    account = throttle.account_key(tenant_slug, email)
    address = throttle.address_key(ctx.client_ip)
    await throttle.ensure_not_locked([k for k in (account, address) if k], now)

    tenant = await Tenant.find_one({"slug": tenant_slug})
    user = await User.find_one({"tenant_id": tenant.id, "email": email}) if tenant else None
    password_ok = await verify_password(
        ctx.services,
        user.password_hash if user else None,
        password[: policy.password_max_length],
    )
    if user is None or not password_ok:
        await throttle.record_failures(account, address, policy, now)
        await _login_failed(ctx, tenant, user, email, "bad_credentials")
        raise Unauthenticated(_BAD_CREDENTIALS)
    if user.mfa_enabled:
        if not otp:  # the password was right: the client now asks for the code
            raise Unauthenticated("A one-time code is required", mfaRequired=True)
        if not await mfa.accept_code(user, otp, now.timestamp()):
            await throttle.record_failures(account, address, policy, now)
            await _login_failed(ctx, tenant, user, email, "invalid_otp")
            raise Unauthenticated("Invalid one-time code", mfaRequired=True, field="otp")
    await throttle.clear(account)
    assert user.password_hash is not None
    if ctx.services.passwords.needs_rehash(user.password_hash):
        rehashed = await hash_password(ctx.services, password)  # unless changed meanwhile
        await set_fields(
            user, {"password_hash": rehashed}, expect={"password_hash": user.password_hash}
        )
    result = await start_session(ctx, user)
    await audit.record(
        ctx,
        "auth.login",
        "User",
        user.id,
        tenant_id=user.tenant_id,
        actor_id=user.id,
        session=result.refresh_token.partition(".")[0],
        mfa=user.mfa_enabled,
    )
    return result


async def _login_failed(
    ctx: RequestContext, tenant: Tenant | None, user: User | None, email: str, reason: str
) -> None:
    """Audited under the named tenant (an unknown tenant has no log to file it in)."""
    if tenant is None:
        log.info("login failed for an unknown tenant")
        return
    await audit.record(
        ctx,
        "auth.login_failed",
        "User",
        user.id if user else None,
        tenant_id=tenant.id,
        actor_id=user.id if user else None,
        email=email[:MAX_EMAIL_LENGTH],
        reason=reason,
    )


async def refresh(ctx: RequestContext, refresh_token: str) -> AuthResult:
    """Rotate the refresh token. Presenting an already-rotated token means it leaked:
    the whole session (token family) is revoked."""
    invalid = Unauthenticated("Invalid or expired refresh token")
    parts = split_refresh_token(refresh_token)
    if parts is None:
        raise invalid
    session_id, secret = parts
    presented, now = hash_secret(secret), ctx.now()
    new = new_secret()
    collection = RefreshSession.get_pymongo_collection()
    doc = await collection.find_one_and_update(
        {
            "_id": session_id,
            "token_hash": presented,
            "revoked_at": None,
            "expires_at": {"$gt": now},
        },
        {
            "$set": {"token_hash": hash_secret(new), "last_used_at": now},
            "$push": {
                "previous_hashes": {"$each": [presented], "$slice": -MAX_PREVIOUS_REFRESH_HASHES}
            },
        },
        return_document=ReturnDocument.AFTER,
    )
    if doc is None:
        reused = await collection.find_one_and_update(
            {"_id": session_id, "previous_hashes": presented, "revoked_at": None},
            {"$set": {"revoked_at": now, "revoked_reason": "refresh token reuse"}},
            projection={"tenant_id": 1, "user_id": 1},
        )
        if reused is not None:
            await sessions_changed(ctx.services.broker, session_ids=[session_id])
            log.warning(
                "refresh token reuse detected; session revoked",
                extra={"session_id": str(session_id)},
            )
            await audit.record(
                ctx,
                "auth.refresh_reuse",
                "Session",
                session_id,
                tenant_id=reused["tenant_id"],
                user=str(reused["user_id"]),
            )
        raise invalid
    user = await User.find_one({"_id": doc["user_id"], "tenant_id": doc["tenant_id"]})
    if user is None:
        raise invalid
    return issue_tokens(ctx, user, session_id, new)


async def logout(ctx: RequestContext, refresh_token: str) -> bool:
    """Revoke the session the refresh token belongs to; repeating it is harmless."""
    parts = split_refresh_token(refresh_token)
    if parts is None:
        raise Unauthenticated("Invalid refresh token")
    session_id, secret = parts
    presented = hash_secret(secret)
    collection = RefreshSession.get_pymongo_collection()
    doc = await collection.find_one(
        {"_id": session_id, "$or": [{"token_hash": presented}, {"previous_hashes": presented}]}
    )
    if doc is None:
        raise Unauthenticated("Invalid refresh token")
    revoked = await collection.update_one(
        {"_id": session_id, "revoked_at": None},
        {"$set": {"revoked_at": ctx.now(), "revoked_reason": "logout"}},
    )
    if revoked.modified_count:
        await audit.record(
            ctx,
            "auth.logout",
            "Session",
            session_id,
            tenant_id=doc["tenant_id"],
            actor_id=doc["user_id"],
        )
        await sessions_changed(ctx.services.broker, session_ids=[session_id])  # last
    return True
