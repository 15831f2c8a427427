"""The password life cycle: accepting an invitation, changing the password, and resetting
it (by a mailed token, or by the operator's command line). A new password ends the user's
other sessions and lifts a sign-in lockout."""

import logging

from models.errors import NotFound, Unauthenticated
from models.identity import ActionToken, TokenPurpose
from models.tenants import Tenant
from models.users import User, normalize_email
from resolvers.audit import trail as audit
from resolvers.core.context import RequestContext
from resolvers.identity import login_throttle as throttle
from resolvers.identity.credentials import (
    MAX_CREDENTIAL_LENGTH,
    AuthResult,
    check_password_policy,
    consume_action_token,
    issue_action_token,
    revoke_user_sessions,
    set_password,
    start_session,
    verify_password,
)

log = logging.getLogger(__name__)


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
    email = normalize_email(email)[:MAX_CREDENTIAL_LENGTH]
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
