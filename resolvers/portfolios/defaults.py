"""Every investor has a default portfolio, "Main", from the moment they exist: created with
the investor (resolvers.users.people.create_user, which prospect conversion goes through), and
for investors created before that rule by an idempotent pass at start-up. Its id is the
owner's id, so any number of concurrent creations meet on the primary key: never two."""

import contextlib
import logging
from typing import Any

from bson import Decimal128
from pymongo import ReturnDocument
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.errors import DuplicateKeyError

from models.base import utc_now
from models.portfolios.records import Portfolio
from models.users import Role, User

log = logging.getLogger(__name__)
DEFAULT_NAME = "Main"
BACKFILL_BATCH = 500


def _key(user_id: Any, tenant_id: Any) -> dict[str, Any]:
    return {"_id": user_id, "tenant_id": tenant_id, "owner_id": user_id, "is_default": True}


def _initial(base_currency: str) -> dict[str, Any]:
    return {
        "name": DEFAULT_NAME,
        "base_currency": base_currency,
        "cash": Decimal128("0.00"),
        "positions": [],
        "version": 0,
        "created_at": utc_now(),
    }


async def create_default_portfolio(user: User, session: AsyncClientSession | None = None) -> None:
    """The investor's default portfolio, unless it exists (in ``session``'s transaction
    when given: the investor and their portfolio are written together)."""
    assert user.id is not None
    await _upsert(user.id, user.tenant_id, user.base_currency, session)


async def _upsert(
    user_id: Any, tenant_id: Any, currency: str, session: AsyncClientSession | None = None
) -> bool:
    """Whether this call created it (False: it was there, or a concurrent call won)."""
    try:
        result = await Portfolio.get_pymongo_collection().update_one(
            _key(user_id, tenant_id),
            {"$setOnInsert": _initial(currency)},
            upsert=True,
            session=session,
        )
    except DuplicateKeyError:
        if session is not None:
            raise  # the transaction is aborted: its caller decides
        return False
    return result.upserted_id is not None


async def default_portfolio(user: User) -> Portfolio:
    """The investor's default portfolio, for a write that lands in it (a fund deposit);
    created should it be missing, as an investor created before start-up's pass has it."""
    assert user.id is not None
    collection = Portfolio.get_pymongo_collection()
    key = _key(user.id, user.tenant_id)
    doc = None
    with contextlib.suppress(DuplicateKeyError):  # a concurrent creation inserted it
        doc = await collection.find_one_and_update(
            key,
            {"$setOnInsert": _initial(user.base_currency)},
            upsert=True,
            return_document=ReturnDocument.AFTER,
        )
    if doc is None:
        doc = await collection.find_one(key)
    return Portfolio.model_validate(doc)  # type: ignore[no-any-return]


async def backfill_default_portfolios() -> int:
    """Create the default portfolio of every investor without one (investors created
    before portfolios came with the investor); how many were created. Idempotent: a
    second pass, or one running in another process at once, creates none."""
    users = User.get_pymongo_collection()
    portfolios = Portfolio.get_pymongo_collection()
    created = 0
    after: Any = None
    while True:
        criteria: dict[str, Any] = {"role": Role.INVESTOR.value, "erased_at": None}
        if after is not None:
            criteria["_id"] = {"$gt": after}
        batch = await (
            users.find(criteria, {"tenant_id": 1, "base_currency": 1})
            .sort("_id", 1)
            .limit(BACKFILL_BATCH)
            .to_list()
        )
        if not batch:
            break
        after = batch[-1]["_id"]
        ids = [doc["_id"] for doc in batch]
        found = await portfolios.find({"_id": {"$in": ids}}, {"_id": 1}).to_list()
        have = {doc["_id"] for doc in found}
        for doc in batch:
            if doc["_id"] not in have:
                created += await _upsert(
                    doc["_id"], doc["tenant_id"], doc.get("base_currency") or "USD"
                )
    if created:
        log.info("default portfolios created for earlier investors", extra={"created": created})
    return created
