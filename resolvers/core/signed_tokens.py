"""HMAC-SHA256 signed tokens: the one implementation behind every signed value the API
hands out (list cursors, event join links, document download links).

Each use has its own key, derived from the deployment's signing secret and a purpose
name, so a value signed for one purpose never verifies for another. The claims (a flat
mapping of strings and integers) are signed as compact JSON with sorted keys; ``seal``
makes a self-contained token ``base64url(claims).base64url(tag)``, ``tag`` a detached
tag for claims that travel as separate URL parameters. An ``x`` claim (Unix seconds) is
the expiry. Tags are compared in constant time, on their canonical text."""

import base64
import binascii
import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson

EXPIRES = "x"
MAX_TOKEN = 1_000  # characters; longer input is refused before any decoding
Claims = Mapping[str, str | int]


@dataclass(frozen=True)
class SigningKey:
    """The key of one purpose; ``tag_bytes`` truncates the tag (cursors: 16 bytes)."""

    key: bytes
    tag_bytes: int = 32


def derive_key(secret: str, purpose: str) -> bytes:
    """A key bound to ``purpose``: HMAC-SHA256(secret, purpose)."""
    return hmac.new(secret.encode(), purpose.encode(), hashlib.sha256).digest()


def signing_key(secret: str, purpose: str, tag_bytes: int = 32) -> SigningKey:
    return SigningKey(derive_key(secret, purpose), tag_bytes)


@dataclass(frozen=True)
class TokenKeys:
    """The keys of every purpose, all derived from the deployment's signing secret."""

    cursors: SigningKey
    join_links: SigningKey
    downloads: SigningKey

    @classmethod
    def derived_from(cls, secret: str) -> "TokenKeys":
        return cls(
            cursors=signing_key(secret, "cursor", tag_bytes=16),
            join_links=signing_key(secret, "event-join-link"),
            downloads=signing_key(secret, "document-download"),
        )


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _body(claims: Claims) -> bytes:
    return orjson.dumps(dict(claims), option=orjson.OPT_SORT_KEYS)


def _tag(key: SigningKey, body: bytes) -> str:
    return _b64(hmac.new(key.key, body, hashlib.sha256).digest()[: key.tag_bytes])


def _fresh(claims: Mapping[str, Any], now: datetime | None) -> bool:
    """Unexpired, or without an expiry; an expiry with no ``now`` to check it against
    does not pass."""
    if EXPIRES not in claims:
        return True
    expires = claims[EXPIRES]
    if now is None or not isinstance(expires, int) or isinstance(expires, bool):
        return False
    return now.timestamp() < expires


def with_expiry(claims: Claims, expires_at: datetime) -> dict[str, str | int]:
    return {**claims, EXPIRES: int(expires_at.timestamp())}


def seal(key: SigningKey, claims: Claims) -> str:
    body = _body(claims)
    return f"{_b64(body)}.{_tag(key, body)}"


def unseal(key: SigningKey, token: str, now: datetime | None = None) -> dict[str, Any] | None:
    """The claims of an intact, unexpired token made with ``key``; None otherwise."""
    if len(token) > MAX_TOKEN:
        return None
    body_part, dot, presented = token.partition(".")
    if not dot:
        return None
    try:
        body = _unb64(body_part)
    except (ValueError, binascii.Error):
        return None
    if not hmac.compare_digest(_tag(key, body).encode(), presented.encode()):
        return None
    try:
        claims = orjson.loads(body)
    except orjson.JSONDecodeError:
        return None
    if not isinstance(claims, dict) or not _fresh(claims, now):
        return None
    return claims


def tag(key: SigningKey, claims: Claims) -> str:
    """A detached tag over ``claims`` (which travel beside it in the clear)."""
    return _tag(key, _body(claims))


def tag_matches(
    key: SigningKey, claims: Claims, presented: str, now: datetime | None = None
) -> bool:
    """Whether ``presented`` is the tag of ``claims`` and they are unexpired."""
    if len(presented) > MAX_TOKEN:
        return False
    expected = tag(key, claims)
    return hmac.compare_digest(expected.encode(), presented.encode()) and _fresh(claims, now)
