"""Optional TOTP second factor (RFC 6238 through pyotp), with replay protection: a code's
time step is accepted once."""

import time
from dataclasses import dataclass

import pyotp

from models.errors import BadUserInput, Conflict
from models.users import User
from resolvers.audit import trail as audit
from resolvers.core.context import RequestContext
from resolvers.core.writes import set_fields

_STEP_SECONDS = 30
_DRIFT_STEPS = 1


@dataclass(frozen=True)
class Enrollment:
    secret: str
    otpauth_uri: str


def _matching_step(secret: str, code: str, now_ts: float) -> int | None:
    code = code.strip().replace(" ", "")
    if not code.isdigit() or len(code) != 6:
        return None
    totp = pyotp.TOTP(secret)
    current = int(now_ts // _STEP_SECONDS)
    for step in range(current - _DRIFT_STEPS, current + _DRIFT_STEPS + 1):
        if pyotp.utils.strings_equal(totp.at(step * _STEP_SECONDS), code):
            return step
    return None


async def _claim_step(user: User, secret_field: str, code: str, now_ts: float) -> bool:
    """Verify ``code`` against the secret in ``secret_field`` and burn its time step."""
    secret = getattr(user, secret_field)
    step = _matching_step(secret, code, now_ts) if secret else None
    if step is None:
        return False
    claimed = await User.get_pymongo_collection().update_one(
        {"_id": user.id, secret_field: secret, "mfa_last_step": {"$lt": step}},
        {"$set": {"mfa_last_step": step}},
    )
    if claimed.modified_count:
        user.mfa_last_step = step
    return bool(claimed.modified_count)


async def accept_code(user: User, code: str, now_ts: float | None = None) -> bool:
    return await _claim_step(user, "mfa_secret", code, now_ts or time.time())


async def enroll(ctx: RequestContext) -> Enrollment:
    user = ctx.require_principal().user
    if user.mfa_enabled:
        raise Conflict("MFA is already enabled; disable it first")
    secret = pyotp.random_base32()
    if not await set_fields(user, {"mfa_pending_secret": secret}, expect={"mfa_secret": None}):
        raise Conflict("MFA is already enabled; disable it first")
    uri = pyotp.TOTP(secret).provisioning_uri(
        name=user.email, issuer_name=ctx.services.policy.mfa_issuer
    )
    return Enrollment(secret=secret, otpauth_uri=uri)


async def confirm(ctx: RequestContext, code: str) -> bool:
    user = ctx.require_principal().user
    if user.mfa_pending_secret is None:
        raise Conflict("No MFA enrollment is pending; call enrollMfa first")
    if not await _claim_step(user, "mfa_pending_secret", code, ctx.now().timestamp()):
        raise BadUserInput("Invalid one-time code", field="code")
    pending = user.mfa_pending_secret
    enabled = await set_fields(
        user,
        {"mfa_secret": pending, "mfa_pending_secret": None},
        expect={"mfa_pending_secret": pending, "mfa_secret": None},
    )
    if not enabled:
        raise Conflict("The MFA enrollment changed meanwhile; call enrollMfa again")
    await audit.record(ctx, "mfa.enable", "User", user.id)
    return True


async def disable(ctx: RequestContext, code: str) -> bool:
    user = ctx.require_principal().user
    if not user.mfa_enabled:
        raise Conflict("MFA is not enabled")
    if not await accept_code(user, code, ctx.now().timestamp()):
        raise BadUserInput("Invalid one-time code", field="code")
    if not await set_fields(user, {"mfa_secret": None}, expect={"mfa_secret": user.mfa_secret}):
        raise Conflict("MFA changed meanwhile; reload and try again")
    await audit.record(ctx, "mfa.disable", "User", user.id)
    return True
