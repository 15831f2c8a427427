"""Resolve and register persisted queries (Apollo's automatic persisted queries protocol:
``extensions.persistedQuery.sha256Hash``). Modes: ``off``; ``auto`` (a hash alone is looked
up, a query with its hash is verified and remembered); ``only`` (every operation must be a
registered one: raw queries and new registrations are refused)."""

import contextlib
import hashlib
from collections import OrderedDict
from typing import Any

from pymongo.errors import DuplicateKeyError

from models.errors import BadUserInput
from models.persisted_queries import PersistedQuery

NOT_FOUND = "PersistedQueryNotFound"  # the message Apollo clients retry on
MAX_QUERY_CHARS = 100_000
_cache: OrderedDict[str, str] = OrderedDict()
CACHE_SIZE = 10_000


def sha256_of(query: str) -> str:
    return hashlib.sha256(query.encode()).hexdigest()


def forget_cached() -> None:
    """After the registry was emptied (tests do between cases)."""
    _cache.clear()


def _remember(sha: str, query: str) -> None:
    _cache[sha] = query
    _cache.move_to_end(sha)
    if len(_cache) > CACHE_SIZE:
        _cache.popitem(last=False)


async def lookup(sha: str) -> str | None:
    if sha in _cache:
        return _cache[sha]
    stored = await PersistedQuery.find_one({"sha256": sha})
    if stored is not None:
        _remember(sha, stored.query)
        return stored.query
    return None


async def register(query: str, *, source: str, name: str | None = None) -> str:
    if not query.strip() or len(query) > MAX_QUERY_CHARS:
        raise BadUserInput(f"A persisted query must be 1-{MAX_QUERY_CHARS} characters")
    sha = sha256_of(query)
    with contextlib.suppress(DuplicateKeyError):  # registered before: the same text
        await PersistedQuery(sha256=sha, query=query, source=source, name=name).insert()
    _remember(sha, query)
    return sha


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


async def resolve(
    query: str | None, extensions: Any, mode: str, *, may_register: bool
) -> str | None:
    """The operation text to run, or a BadUserInput (NOT_FOUND when the hash is unknown).
    Only signed-in callers add to the registry (``may_register``): anonymous ones cannot
    fill it."""
    if mode == "off":
        return query
    sha = requested_hash(extensions)
    if sha is None:
        if mode == "only" and query is not None and await lookup(sha256_of(query)) is None:
            raise BadUserInput("Only registered (persisted) queries are accepted")
        return query
    if query is None:
        found = await lookup(sha)
        if found is None:
            raise BadUserInput(NOT_FOUND)
        return found
    if sha256_of(query) != sha:
        raise BadUserInput("provided sha256Hash does not match the query")
    if await lookup(sha) is None:
        if mode == "only":
            raise BadUserInput(NOT_FOUND)
        if may_register:
            await register(query, source="automatic")
    return query
