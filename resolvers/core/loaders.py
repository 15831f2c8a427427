"""Batch reads behind the per-request DataLoaders: one ``$in`` query per batch, results
in the order of the keys, always tenant-scoped."""

from collections import defaultdict
from typing import Any, TypeVar

from beanie import Document, PydanticObjectId

from models.crm import Activity, ProspectTask
from models.events import Event, Registration
from models.investments import Investment
from models.messaging import Message
from models.opportunities import Interest, Opportunity
from models.users import User

D = TypeVar("D", bound=Document)


def _ids(keys: list[str]) -> list[PydanticObjectId]:
    return [PydanticObjectId(k) for k in keys]


async def by_ids(model: type[D], tenant_id: PydanticObjectId, keys: list[str]) -> list[D | None]:
    found = await model.find({"tenant_id": tenant_id, "_id": {"$in": _ids(keys)}}).to_list()
    index = {str(doc.id): doc for doc in found}
    return [index.get(key) for key in keys]


async def grouped(
    model: type[D],
    tenant_id: PydanticObjectId,
    field: str,
    keys: list[str],
    extra: dict[str, Any] | None = None,
) -> list[list[D]]:
    found = (
        await model.find({"tenant_id": tenant_id, field: {"$in": _ids(keys)}, **(extra or {})})
        .sort("_id")
        .to_list()
    )
    groups: dict[str, list[D]] = defaultdict(list)
    for doc in found:
        groups[str(getattr(doc, field))].append(doc)
    return [groups.get(key, []) for key in keys]


async def users(tenant_id: PydanticObjectId, keys: list[str]) -> list[User | None]:
    return await by_ids(User, tenant_id, keys)


async def opportunities(tenant_id: PydanticObjectId, keys: list[str]) -> list[Opportunity | None]:
    return await by_ids(Opportunity, tenant_id, keys)


async def investments_of_portfolios(
    tenant_id: PydanticObjectId, keys: list[str]
) -> list[list[Investment]]:
    return await grouped(Investment, tenant_id, "portfolio_id", keys)


async def interests_of_opportunities(
    tenant_id: PydanticObjectId, keys: list[str]
) -> list[list[Interest]]:
    return await grouped(Interest, tenant_id, "opportunity_id", keys)


async def events(tenant_id: PydanticObjectId, keys: list[str]) -> list[Event | None]:
    return await by_ids(Event, tenant_id, keys)


async def event_registrations(
    tenant_id: PydanticObjectId, keys: list[str]
) -> list[Registration | None]:
    """Keys are ``"<event id>:<user id>"``: that user's registration for that event."""
    pairs = [key.split(":", 1) for key in keys]
    found = await Registration.find(
        {
            "tenant_id": tenant_id,
            "event_id": {"$in": _ids([event for event, _ in pairs])},
            "user_id": {"$in": _ids([user for _, user in pairs])},
        }
    ).to_list()
    index = {f"{r.event_id}:{r.user_id}": r for r in found}
    return [index.get(key) for key in keys]


async def messages(tenant_id: PydanticObjectId, keys: list[str]) -> list[Message | None]:
    return await by_ids(Message, tenant_id, keys)


def unread_key(conversation_id: object, reader_id: object, read_up_to: object | None) -> str:
    return f"{conversation_id}:{reader_id}:{read_up_to or ''}"


async def unread_counts(tenant_id: PydanticObjectId, keys: list[str]) -> list[int]:
    """Messages from others after each reader's marker; keys from ``unread_key``. One
    aggregation for the whole batch."""
    branches: list[dict[str, Any]] = []
    for key in keys:
        conversation, reader, marker = key.split(":")
        branch: dict[str, Any] = {
            "conversation_id": PydanticObjectId(conversation),
            "sender_id": {"$ne": PydanticObjectId(reader)},
        }
        if marker:
            branch["_id"] = {"$gt": PydanticObjectId(marker)}
        branches.append(branch)
    cursor = await Message.get_pymongo_collection().aggregate(
        [
            {"$match": {"tenant_id": tenant_id, "$or": branches}},
            {"$group": {"_id": "$conversation_id", "n": {"$sum": 1}}},
        ]
    )
    counts = {str(row["_id"]): int(row["n"]) for row in await cursor.to_list()}
    return [counts.get(key.split(":")[0], 0) for key in keys]


async def activities_of_prospects(
    tenant_id: PydanticObjectId, keys: list[str]
) -> list[list[Activity]]:
    return await grouped(Activity, tenant_id, "prospect_id", keys)


async def tasks_of_prospects(
    tenant_id: PydanticObjectId, keys: list[str]
) -> list[list[ProspectTask]]:
    return await grouped(ProspectTask, tenant_id, "prospect_id", keys)
