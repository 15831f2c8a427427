"""Failed-login throttling per account and per client address, stored in MongoDB so it
holds across processes. Lockouts grow exponentially up to a cap."""

import math
from datetime import datetime, timedelta

from pymongo import ReturnDocument

from models.errors import RateLimited
from models.identity import LoginThrottle
from resolvers.core.context import IdentityPolicy


def account_key(tenant_slug: str, email: str) -> str:
    return f"account:{tenant_slug}:{email}"


def address_key(client_ip: str | None) -> str | None:
    return f"address:{client_ip}" if client_ip else None


async def ensure_not_locked(keys: list[str], now: datetime) -> None:
    """RATE_LIMITED (with retryAfter) when any key is locked out."""
    if not keys:
        return
    collection = LoginThrottle.get_pymongo_collection()
    cursor = collection.find({"key": {"$in": keys}, "locked_until": {"$gt": now}})
    wait = 0.0
    async for doc in cursor:
        wait = max(wait, (doc["locked_until"] - now).total_seconds())
    if wait > 0:
        raise RateLimited("Too many failed attempts; try again later", retry_after=math.ceil(wait))


async def record_failure(key: str, limit: int, policy: IdentityPolicy, now: datetime) -> None:
    collection = LoginThrottle.get_pymongo_collection()
    window_start = now - policy.failure_window
    # A stale window starts over; otherwise count one more failure.
    await collection.update_one(
        {"key": key, "window_started_at": {"$lt": window_start}},
        {"$set": {"failures": 0, "window_started_at": now, "locked_until": None}},
    )
    doc = await collection.find_one_and_update(
        {"key": key},
        {"$inc": {"failures": 1}, "$setOnInsert": {"window_started_at": now}},
        upsert=True,
        return_document=ReturnDocument.AFTER,
    )
    over = int(doc["failures"] if doc else 1) - limit
    if over >= 0:
        lock_seconds = min(
            policy.lockout_base.total_seconds() * (2 ** min(over, 16)),
            policy.lockout_max.total_seconds(),
        )
        await collection.update_one(
            {"key": key},
            {"$set": {"locked_until": now + timedelta(seconds=lock_seconds)}},
        )


async def record_failures(
    account: str, address: str | None, policy: IdentityPolicy, now: datetime
) -> None:
    await record_failure(account, policy.account_failure_limit, policy, now)
    if address is not None:
        await record_failure(address, policy.address_failure_limit, policy, now)


async def clear(key: str) -> None:
    await LoginThrottle.get_pymongo_collection().delete_one({"key": key})
