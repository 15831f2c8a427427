"""People in a tenant: who may see whom, creating users, profiles and KYC review."""

import re
from dataclasses import dataclass
from functools import partial
from typing import Any

from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.errors import DuplicateKeyError

from models.errors import BadUserInput, Conflict, Forbidden, NotFound
from models.identity import TokenPurpose
from models.permissions import Can
from models.users import (
    CURRENCY_PATTERN,
    MAX_NAME_LENGTH,
    PHONE_PATTERN,
    TENANT_READERS,
    KycStatus,
    Role,
    User,
    is_valid_email,
    normalize_email,
    search_terms,
)
from resolvers.audit import trail as audit
from resolvers.core.atomic import in_transaction
from resolvers.core.context import RequestContext
from resolvers.core.pagination import Page, page_of
from resolvers.core.scope import get_in_tenant, tenant_filter
from resolvers.core.writes import set_fields
from resolvers.identity.credentials import check_password_policy, hash_password, issue_action_token
from resolvers.portfolios.defaults import create_default_portfolio

MAX_SEARCH_LENGTH = 100
MAX_REASON_LENGTH = 2000


@dataclass(frozen=True)
class NewUser:
    email: str
    full_name: str
    role: Role
    password: str | None = None


@dataclass(frozen=True)
class ProfileChanges:
    full_name: str | None = None
    phone: str | None = None
    base_currency: str | None = None


def clean_full_name(value: str, field: str = "fullName") -> str:
    name = " ".join(value.split())
    if not name:
        raise BadUserInput("Full name must not be empty", field=field)
    if len(name) > MAX_NAME_LENGTH:
        raise BadUserInput(f"Full name must be at most {MAX_NAME_LENGTH} characters", field=field)
    return name


def clean_email(value: str, field: str = "email") -> str:
    email = normalize_email(value)
    if not is_valid_email(email):
        raise BadUserInput("Not a valid email address", field=field)
    return email


async def get_user(ctx: RequestContext, raw_id: str) -> User:
    """Staff and analysts see everyone in their tenant; an investor sees only themself."""
    principal = ctx.require_principal()
    user = await get_in_tenant(User, principal, raw_id, what="User")
    if principal.role not in TENANT_READERS and user.id != principal.user_id:
        raise NotFound("User not found")
    return user


async def list_users(
    ctx: RequestContext, first: int | None, after: str | None, role: Role | None, search: str | None
) -> Page[User]:
    principal = ctx.require(Can.READ_TENANT)
    criteria = tenant_filter(principal)
    if role is not None:
        criteria["role"] = role.value
    if search is not None and search.strip():
        term = search.strip().lower()
        if len(term) > MAX_SEARCH_LENGTH:
            raise BadUserInput(
                f"Search is limited to {MAX_SEARCH_LENGTH} characters", field="search"
            )
        criteria["search"] = {"$regex": "^" + re.escape(term)}
    return await page_of(User, criteria, ctx, list_name="users", first=first, after=after)


async def create_user(ctx: RequestContext, new: NewUser) -> User:
    """ADMIN creates any role; MANAGER creates investors. Without a password, the user
    gets a single-use invitation through the outbox (no password is ever invented). An
    investor is written in one transaction with their default portfolio."""
    principal = ctx.require(Can.CREATE_USERS)
    if principal.role is Role.MANAGER and new.role is not Role.INVESTOR:
        raise Forbidden("Managers may only create investors")
    email, full_name = clean_email(new.email), clean_full_name(new.full_name)
    if new.password is not None:
        check_password_policy(new.password, ctx.services, field="password", email=email)
    user = User(
        tenant_id=principal.tenant_id,
        email=email,
        full_name=full_name,
        role=new.role,
        search=search_terms(full_name, email),
    )
    if new.password is not None:
        user.password_hash = await hash_password(ctx.services, new.password)
        user.password_changed_at = ctx.now()
    try:
        if user.role is Role.INVESTOR:
            await in_transaction(ctx.services.transactions, partial(_insert_investor, user))
        else:
            await user.insert()
    except DuplicateKeyError as exc:
        raise Conflict("A user with this email already exists", field="email") from exc
    if new.password is None:
        await issue_action_token(
            ctx,
            user,
            TokenPurpose.INVITATION,
            "You are invited to Fidus",
            "Accept your invitation and choose a password with this token: {token}",
        )
    await audit.record(
        ctx,
        "user.create",
        "User",
        user.id,
        role=new.role.value,
        invited=new.password is None,
    )
    return user


async def _insert_investor(user: User, session: AsyncClientSession) -> None:
    await user.insert(session=session)
    await create_default_portfolio(user, session)


async def update_profile(ctx: RequestContext, changes: ProfileChanges) -> User:
    """Only the fields given are written (a stale copy of the user never overwrites a
    concurrent password change, KYC decision or erasure)."""
    user = ctx.require_principal().user
    fields: dict[str, object] = {}
    if changes.full_name is not None:
        fields["full_name"] = clean_full_name(changes.full_name)
        fields["search"] = search_terms(str(fields["full_name"]), user.email)
    if changes.phone is not None:
        phone = changes.phone.replace(" ", "")
        if phone and not PHONE_PATTERN.fullmatch(phone):
            raise BadUserInput(
                "Phone must be in international format, e.g. +41791234567", field="phone"
            )
        fields["phone"] = phone or None
    if changes.base_currency is not None:
        currency = changes.base_currency.strip().upper()
        if not CURRENCY_PATTERN.fullmatch(currency):
            raise BadUserInput(
                "Base currency must be an ISO 4217 code such as USD", field="baseCurrency"
            )
        fields["base_currency"] = currency
    if not await set_fields(user, fields, expect={"erased_at": None}):
        raise NotFound("User not found")
    return user


async def review_kyc(
    ctx: RequestContext, raw_user_id: str, status: KycStatus, reason: str | None
) -> User:
    principal = ctx.require(Can.REVIEW_KYC)
    user = await get_in_tenant(User, principal, raw_user_id, field="userId", what="User")
    if user.id == principal.user_id:
        raise Forbidden("You cannot review your own KYC")
    if status is KycStatus.NOT_STARTED:
        raise BadUserInput("A review sets PENDING, APPROVED or REJECTED", field="status")
    reason = clean_review_reason(reason, required=status is KycStatus.REJECTED)
    previous = user.kyc_status
    if not await set_fields(user, {"kyc_status": status}, expect={"kyc_status": previous}):
        raise Conflict("The KYC status changed meanwhile; reload and review again")
    await audit_kyc_change(ctx, user, previous, reason)
    return user


def clean_review_reason(reason: str | None, *, required: bool) -> str | None:
    """A review's reason, trimmed; required for a rejection."""
    reason = (reason or "").strip() or None
    if reason is not None and len(reason) > MAX_REASON_LENGTH:
        raise BadUserInput(f"Reason is limited to {MAX_REASON_LENGTH} characters", field="reason")
    if required and reason is None:
        raise BadUserInput("A rejection needs a reason", field="reason")
    return reason


async def audit_kyc_change(
    ctx: RequestContext, user: User, previous: KycStatus, reason: str | None, **detail: Any
) -> None:
    """The audit entry of every KYC decision (direct or through a document review)."""
    await audit.record(
        ctx,
        "kyc.review",
        "User",
        user.id,
        previous=previous.value,
        status=user.kyc_status.value,
        reason=reason,
        **detail,
    )
