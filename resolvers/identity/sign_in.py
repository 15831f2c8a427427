"""Sign-in and credential life cycle: login, refresh rotation with reuse detection,
logout, invitations, password change and reset (by token, or by the operator)."""

import logging

from pymongo import ReturnDocument

from models.errors import NotFound, Unauthenticated
from models.identity import (
    MAX_PREVIOUS_REFRESH_HASHES,
    ActionToken,
    RefreshSession,
    TokenPurpose,
)
from models.tenants import Tenant
from models.users import MAX_EMAIL_LENGTH, User, normalize_email
from resolvers.audit import trail as audit
from resolvers.core.context import RequestContext
from resolvers.core.writes import set_fields
from resolvers.identity import login_throttle as throttle
from resolvers.identity import mfa
from resolvers.identity.credentials import (
    AuthResult,
    check_password_policy,
    consume_action_token,
    hash_password,
    hash_secret,
    issue_action_token,
    issue_tokens,
    new_secret,
    revoke_user_sessions,
    set_password,
    split_refresh_token,
    start_session,
    verify_password,
)
from subscriptions.sessions import sessions_changed

log = logging.getLogger(__name__)
_BAD_CREDENTIALS = "Invalid tenant, email or password"
_MAX_CREDENTIAL_LENGTH = 1024


async def login(
    ctx: RequestContext, tenant_slug: str, email: str, password: str, otp: str | None
) -> AuthResult:
    email = normalize_email(email)[:_MAX_CREDENTIAL_LENGTH]
    tenant_slug = tenant_slug.strip().lower()[:_MAX_CREDENTIAL_LENGTH]
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


async def accept_invitation(ctx: RequestContext, token: str, password: str) -> AuthResult:
    def policy_check(user: User) -> None:
        check_password_policy(password, ctx.services, field="password", email=user.email)

    user = await consume_action_token(ctx, token, TokenPurpose.INVITATION, check=policy_check)
    await set_password(ctx, user, password)
    result = await start_session(ctx, user)
    await audit.record(
        ctx,
        "auth.invitation_accept",
        "User",
        user.id,
        tenant_id=user.tenant_id,
        actor_id=user.id,
        session=result.refresh_token.partition(".")[0],
    )
    return result


async def change_password(ctx: RequestContext, current_password: str, new_password: str) -> bool:
    principal = ctx.require_principal()
    user, policy, now = principal.user, ctx.services.policy, ctx.now()
    account = throttle.account_key(await _tenant_slug(user), user.email)
    await throttle.ensure_not_locked([account], now)
    if not await verify_password(ctx.services, user.password_hash, current_password[:1024]):
        await throttle.record_failure(account, policy.account_failure_limit, policy, now)
        await audit.record(ctx, "auth.password_change_failed", "User", user.id)
        raise Unauthenticated("Current password is wrong", field="currentPassword")
    check_password_policy(new_password, ctx.services, field="newPassword", email=user.email)
    await set_password(ctx, user, new_password)
    await revoke_user_sessions(
        ctx.services.broker, user, now, "password changed", keep=principal.session_id
    )
    await audit.record(ctx, "auth.password_change", "User", user.id)
    return True


async def request_password_reset(ctx: RequestContext, tenant_slug: str, email: str) -> bool:
    """Always True, at once: looking the account up and what follows for it (token, mail,
    audit entry) run after the answer, so neither the answer nor how long it takes tells
    whether the account exists."""
    email = normalize_email(email)[:_MAX_CREDENTIAL_LENGTH]
    tenant_slug = tenant_slug.strip().lower()[:100]
    ctx.services.background.start(_send_reset(ctx, tenant_slug, email), "password reset request")
    return True


async def _send_reset(ctx: RequestContext, tenant_slug: str, email: str) -> None:
    tenant = await Tenant.find_one({"slug": tenant_slug})
    user = await User.find_one({"tenant_id": tenant.id, "email": email}) if tenant else None
    if user is None or user.erasure is not None:  # an erased user never gets back in
        return
    recent = await _recent_reset_requests(ctx, user)
    if recent >= 3:
        log.info("password reset request dropped: too many recent requests")
        return
    await issue_action_token(
        ctx,
        user,
        TokenPurpose.PASSWORD_RESET,
        "Reset your Fidus password",
        "Use this token to reset your password within the hour: {token}",
    )
    await audit.record(
        ctx, "auth.password_reset_request", "User", user.id, tenant_id=user.tenant_id
    )  # the requester is anonymous: no actor


async def _recent_reset_requests(ctx: RequestContext, user: User) -> int:
    since = ctx.now() - ctx.services.policy.password_reset_ttl
    return await ActionToken.find(
        {
            "tenant_id": user.tenant_id,
            "user_id": user.id,
            "purpose": TokenPurpose.PASSWORD_RESET.value,
            "created_at": {"$gt": since},
        }
    ).count()


async def reset_password(ctx: RequestContext, token: str, new_password: str) -> bool:
    def policy_check(user: User) -> None:
        check_password_policy(new_password, ctx.services, field="newPassword", email=user.email)

    user = await consume_action_token(ctx, token, TokenPurpose.PASSWORD_RESET, check=policy_check)
    await _replace_password(ctx, user, new_password, await _tenant_slug(user))
    await audit.record(
        ctx, "auth.password_reset", "User", user.id, tenant_id=user.tenant_id, actor_id=user.id
    )
    return True


async def reset_password_by_operator(
    ctx: RequestContext, tenant_slug: str, email: str, new_password: str
) -> User:
    """The operator's command line sets a user's password (say, the one-time ADMIN password
    was missed): the same policy, hash, session revocation and lockout reset as a reset
    by token; audited without an actor. NOT_FOUND for an unknown or erased user."""
    slug, email = tenant_slug.strip().lower(), normalize_email(email)
    tenant = await Tenant.find_one({"slug": slug})
    user = await User.find_one({"tenant_id": tenant.id, "email": email}) if tenant else None
    if user is None or user.erasure is not None:
        raise NotFound(f"No user {email} in tenant '{slug}'")
    check_password_policy(new_password, ctx.services, field="password", email=user.email)
    await _replace_password(ctx, user, new_password, slug)
    await audit.record(
        ctx, "auth.password_reset", "User", user.id, tenant_id=user.tenant_id, by="operator"
    )
    return user


async def _replace_password(ctx: RequestContext, user: User, password: str, slug: str) -> None:
    """A new password ends every session of the user and lifts a sign-in lockout."""
    await set_password(ctx, user, password)
    await revoke_user_sessions(ctx.services.broker, user, ctx.now(), "password reset")
    await throttle.clear(throttle.account_key(slug, user.email))


async def _tenant_slug(user: User) -> str:
    tenant = await Tenant.get(user.tenant_id)
    return tenant.slug if tenant else ""
