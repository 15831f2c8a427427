"""Machine credentials: hashed at rest, scoped, revocable, bound to one tenant."""

from dataclasses import dataclass

from beanie import PydanticObjectId

from models.errors import BadUserInput, Conflict, Forbidden, Unauthenticated
from models.identity import ServiceToken
from models.permissions import Can
from resolvers.audit import trail as audit
from resolvers.core.context import RequestContext
from resolvers.core.scope import get_in_tenant, tenant_filter
from resolvers.core.writes import set_fields
from resolvers.identity.credentials import hash_secret, new_secret

TOKEN_PREFIX = "fst_"  # noqa: S105 - a prefix, not a secret
KNOWN_SCOPES = frozenset({"mt5:ingest"})
MAX_TOKEN_NAME = 100


@dataclass(frozen=True)
class ServiceCaller:
    """Who is calling with a service token."""

    tenant_id: PydanticObjectId
    token_id: PydanticObjectId
    scopes: frozenset[str]


async def create(ctx: RequestContext, name: str, scopes: list[str]) -> tuple[ServiceToken, str]:
    """Returns the stored token and its secret, shown to the caller this once only."""
    principal = ctx.require(Can.MANAGE_SERVICE_TOKENS)
    name = name.strip()
    if not name or len(name) > MAX_TOKEN_NAME:
        raise BadUserInput(f"Name must be 1-{MAX_TOKEN_NAME} characters", field="name")
    unknown = sorted(set(scopes) - KNOWN_SCOPES)
    if not scopes or unknown:
        raise BadUserInput(
            f"Unknown or missing scopes {unknown}; known: {sorted(KNOWN_SCOPES)}", field="scopes"
        )
    secret = TOKEN_PREFIX + new_secret()
    token = ServiceToken(
        tenant_id=principal.tenant_id,
        name=name,
        scopes=sorted(set(scopes)),
        token_hash=hash_secret(secret),
        created_by=principal.user_id,
    )
    await token.insert()
    await audit.record(
        ctx,
        "service_token.create",
        "ServiceToken",
        token.id,
        name=name,
        scopes=token.scopes,
    )
    return token, secret


async def list_tokens(ctx: RequestContext) -> list[ServiceToken]:
    principal = ctx.require(Can.MANAGE_SERVICE_TOKENS)
    return await ServiceToken.find(tenant_filter(principal, revoked_at=None)).sort("_id").to_list()


async def revoke(ctx: RequestContext, raw_id: str) -> bool:
    principal = ctx.require(Can.MANAGE_SERVICE_TOKENS)
    token = await get_in_tenant(ServiceToken, principal, raw_id, what="Service token")
    if not await set_fields(token, {"revoked_at": ctx.now()}, expect={"revoked_at": None}):
        raise Conflict("Service token is already revoked")
    await audit.record(ctx, "service_token.revoke", "ServiceToken", token.id)
    return True


async def authenticate(secret: str, required_scope: str, ctx: RequestContext) -> ServiceCaller:
    """The caller behind a service token that holds ``required_scope``.
    UNAUTHENTICATED for an unknown/revoked token, FORBIDDEN for a missing scope."""
    if not secret.startswith(TOKEN_PREFIX) or len(secret) > 200:
        raise Unauthenticated("Invalid service token")
    doc = await ServiceToken.find_one({"token_hash": hash_secret(secret), "revoked_at": None})
    if doc is None or doc.id is None:
        raise Unauthenticated("Invalid or revoked service token")
    if required_scope not in doc.scopes:
        raise Forbidden(f"Service token lacks scope '{required_scope}'")
    await ServiceToken.get_pymongo_collection().update_one(
        {"_id": doc.id}, {"$set": {"last_used_at": ctx.now()}}
    )
    return ServiceCaller(tenant_id=doc.tenant_id, token_id=doc.id, scopes=frozenset(doc.scopes))
