"""Batch reads behind the per-request DataLoaders: one ``$in`` query per batch, results
in the order of the keys, always tenant-scoped."""

from collections import defaultdict
from typing import Any, TypeVar

from beanie import Document, PydanticObjectId

from models.crm import Activity, ProspectTask
from models.investments import Investment
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


async def activities_of_prospects(
    tenant_id: PydanticObjectId, keys: list[str]
) -> list[list[Activity]]:
    return await grouped(Activity, tenant_id, "prospect_id", keys)


async def tasks_of_prospects(
    tenant_id: PydanticObjectId, keys: list[str]
) -> list[list[ProspectTask]]:
    return await grouped(ProspectTask, tenant_id, "prospect_id", keys)
