"""Credentials at the edge: Argon2id password hashing, access JWTs, and turning an
``Authorization: Bearer`` value into a Principal (HTTP and WebSocket alike)."""

import contextlib
import secrets
from datetime import UTC, datetime, timedelta

import jwt
from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError
from beanie import PydanticObjectId
from pymongo.errors import DuplicateKeyError

from models.base import utc_now
from models.identity import SigningKey
from models.users import User
from resolvers.core.context import Principal
from resolvers.identity.sessions import resolve_principal

_ALGORITHM = "HS256"
_ISSUER = "fidus"


class Argon2Hasher:
    """Argon2id; ``needs_rehash`` is true once the configured parameters change."""

    def __init__(self, time_cost: int, memory_kib: int, parallelism: int) -> None:
        self._hasher = PasswordHasher(
            time_cost=time_cost, memory_cost=memory_kib, parallelism=parallelism, type=Type.ID
        )

    def hash(self, password: str) -> str:
        return self._hasher.hash(password)

    def verify(self, password_hash: str, password: str) -> bool:
        try:
            return self._hasher.verify(password_hash, password)
        except (VerificationError, InvalidHashError):
            return False

    def needs_rehash(self, password_hash: str) -> bool:
        return self._hasher.check_needs_rehash(password_hash)


class AccessTokens:
    """Short-lived HS256 access tokens naming user, tenant and session."""

    def __init__(self, secret: str, ttl: timedelta) -> None:
        self._secret = secret
        self._ttl = ttl

    def issue(self, user: User, session_id: PydanticObjectId) -> tuple[str, datetime]:
        now = utc_now()
        expires_at = now + self._ttl
        claims = {
            "iss": _ISSUER,
            "sub": str(user.id),
            "tid": str(user.tenant_id),
            "sid": str(session_id),
            "typ": "access",
            "iat": int(now.timestamp()),
            "exp": int(expires_at.timestamp()),
            "jti": secrets.token_hex(8),
        }
        return jwt.encode(claims, self._secret, algorithm=_ALGORITHM), expires_at

    def decode(self, token: str) -> dict[str, str]:
        """Claims of a valid token; raises ``jwt.InvalidTokenError`` otherwise."""
        claims: dict[str, str] = jwt.decode(
            token,
            self._secret,
            algorithms=[_ALGORITHM],
            issuer=_ISSUER,
            options={"require": ["exp", "iat", "sub", "tid", "sid", "typ"]},
        )
        if claims.get("typ") != "access":
            raise jwt.InvalidTokenError("not an access token")
        return claims


async def authenticate_bearer(
    authorization: str | None, tokens: AccessTokens, now: datetime
) -> tuple[Principal | None, str | None]:
    """(principal, None) for a valid, live token; (None, reason) otherwise;
    (None, None) when no credentials were sent."""
    if not authorization:
        return None, None
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None, "Authorization must be 'Bearer <access token>'"
    return await principal_for_token(token.strip(), tokens, now)


async def principal_for_token(
    token: str, tokens: AccessTokens, now: datetime
) -> tuple[Principal | None, str | None]:
    """(principal, None) for a valid access token of a live session; (None, reason) else."""
    try:
        claims = tokens.decode(token)
    except jwt.ExpiredSignatureError:
        return None, "Access token expired"
    except jwt.InvalidTokenError:
        return None, "Invalid access token"
    principal = await resolve_principal(claims["sub"], claims["tid"], claims["sid"], now=now)
    if principal is None:
        return None, "Session revoked or expired"
    principal.expires_at = datetime.fromtimestamp(int(claims["exp"]), UTC)
    return principal, None


async def load_or_create_signing_secret(name: str = "jwt") -> str:
    """One random secret per deployment, created by whichever process starts first."""
    existing = await SigningKey.find_one({"name": name})
    if existing is not None:
        return existing.secret
    with contextlib.suppress(DuplicateKeyError):  # another process won the race: use its key
        await SigningKey(name=name, secret=secrets.token_urlsafe(48)).insert()
    created = await SigningKey.find_one({"name": name})
    assert created is not None
    return created.secret
