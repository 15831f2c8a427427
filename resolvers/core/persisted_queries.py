"""Resolve and register persisted queries (Apollo's automatic persisted queries protocol:
``extensions.persistedQuery.sha256Hash``). Modes: ``off``; ``auto`` (a hash alone is looked
up, a query with its hash is verified and, once it has passed validation, remembered);
``only`` (every operation must be a registered one: raw queries and new registrations
are refused).

What clients register is bounded (``PersistedQueryLimits``): only signed-in callers add,
only documents that parsed and validated, at most ``max_chars`` long and
``registrations_per_minute`` per user, and each entry expires ``ttl`` after it was last
registered. An operation that is not stored still runs: the client's next hash-only
request answers ``PersistedQueryNotFound`` and it sends the text again, as the protocol
expects. Manifest entries (``fidus persisted-queries register``) do not expire."""

import contextlib
import hashlib
from collections import OrderedDict
from datetime import datetime
from typing import Any, NamedTuple

from pymongo.errors import DuplicateKeyError

from models.base import utc_now
from models.errors import BadUserInput
from models.persisted_queries import PersistedQuery
from resolvers.core.context import PersistedQueryLimits, Services

NOT_FOUND = "PersistedQueryNotFound"  # the message Apollo clients retry on
REGISTRATION_WINDOW_SECONDS = 60.0
# sha256 → (query, expires_at or None for manifest entries)
_cache: OrderedDict[str, tuple[str, datetime | None]] = OrderedDict()
CACHE_SIZE = 10_000


class Resolution(NamedTuple):
    query: str | None  # the operation text to run
    offered: bool  # sent with its hash and not registered yet: ``register_offered`` next


def sha256_of(query: str) -> str:
    return hashlib.sha256(query.encode()).hexdigest()


def forget_cached() -> None:
    """After the registry was emptied (tests do between cases)."""
    _cache.clear()


def _remember(sha: str, query: str, expires_at: datetime | None) -> None:
    _cache[sha] = (query, expires_at)
    _cache.move_to_end(sha)
    if len(_cache) > CACHE_SIZE:
        _cache.popitem(last=False)


async def lookup(sha: str, now: datetime) -> str | None:
    cached = _cache.get(sha)
    if cached is not None and (cached[1] is None or cached[1] > now):
        return cached[0]
    stored = await PersistedQuery.find_one(
        {"sha256": sha, "$or": [{"expires_at": None}, {"expires_at": {"$gt": now}}]}
    )
    if stored is None:
        _cache.pop(sha, None)
        return None
    _remember(sha, stored.query, stored.expires_at)
    return stored.query


async def register_manifest_entry(
    query: str, name: str | None, limits: PersistedQueryLimits
) -> str:
    """Store a manifest's operation (checked against the schema by the caller), without
    expiry; an automatic entry of the same text becomes a manifest one."""
    if not query.strip() or len(query) > limits.max_chars:
        raise BadUserInput(f"A persisted query must be 1-{limits.max_chars} characters")
    sha = sha256_of(query)
    await PersistedQuery.get_pymongo_collection().update_one(
        {"sha256": sha},
        {
            "$set": {"source": "manifest", "name": name, "expires_at": None},
            "$setOnInsert": {"query": query, "created_at": utc_now()},
        },
        upsert=True,
    )
    _remember(sha, query, None)
    return sha


async def register_offered(query: str, services: Services, user_id: str, now: datetime) -> bool:
    """Store an operation a signed-in client sent with its hash, once it has passed
    validation; False when it was not stored (too long, or the user's registrations for
    this minute are spent)."""
    limits = services.persisted_query_limits
    if len(query) > limits.max_chars:
        return False
    wait = await services.broker.rate_limits.hit(
        f"persisted:user:{user_id}", limits.registrations_per_minute, REGISTRATION_WINDOW_SECONDS
    )
    if wait > 0:
        return False
    sha, expires_at = sha256_of(query), now + limits.ttl
    with contextlib.suppress(DuplicateKeyError):  # a manifest entry (no expiry) stays as is
        await PersistedQuery.get_pymongo_collection().update_one(
            {"sha256": sha, "expires_at": {"$ne": None}},
            {
                "$set": {"expires_at": expires_at},
                "$setOnInsert": {"query": query, "source": "automatic", "created_at": now},
            },
            upsert=True,
        )
    _remember(sha, query, expires_at)
    return True


def manifest_entries(manifest: Any) -> list[tuple[str, str, str | None]]:
    """(sha256, query, name) from an Apollo persisted-query manifest
    (``{"operations": [{"id", "name", "body"}]}``) or a plain ``{sha256: query}`` map;
    every hash is checked against its text."""
    if isinstance(manifest, dict) and isinstance(manifest.get("operations"), list):
        raw = [(o.get("id"), o.get("body"), o.get("name")) for o in manifest["operations"]]
    elif isinstance(manifest, dict):
        raw = [(sha, query, None) for sha, query in manifest.items()]
    else:
        raise BadUserInput("a manifest is an object: Apollo's format or {sha256: query}")
    entries = []
    for sha, query, name in raw:
        if not isinstance(query, str) or sha != sha256_of(query):
            raise BadUserInput(f"manifest entry {str(sha)[:16]}… does not hash to its query")
        entries.append((sha, query, name if isinstance(name, str) else None))
    return entries


def requested_hash(extensions: Any) -> str | None:
    persisted = extensions.get("persistedQuery") if isinstance(extensions, dict) else None
    if not isinstance(persisted, dict):
        return None
    sha = persisted.get("sha256Hash")
    if not isinstance(sha, str) or len(sha) != 64 or not all(c in "0123456789abcdef" for c in sha):
        raise BadUserInput("persistedQuery.sha256Hash must be a lowercase hex SHA-256")
    return sha


async def resolve(query: str | None, extensions: Any, mode: str, now: datetime) -> Resolution:
    """The operation text to run, or a BadUserInput (NOT_FOUND when the hash is unknown)."""
    if mode == "off":
        return Resolution(query, offered=False)
    sha = requested_hash(extensions)
    if sha is None:
        if mode == "only" and query is not None and await lookup(sha256_of(query), now) is None:
            raise BadUserInput("Only registered (persisted) queries are accepted")
        return Resolution(query, offered=False)
    if query is None:
        found = await lookup(sha, now)
        if found is None:
            raise BadUserInput(NOT_FOUND)
        return Resolution(found, offered=False)
    if sha256_of(query) != sha:
        raise BadUserInput("provided sha256Hash does not match the query")
    if await lookup(sha, now) is None:
        if mode == "only":
            raise BadUserInput(NOT_FOUND)
        return Resolution(query, offered=True)
    return Resolution(query, offered=False)
