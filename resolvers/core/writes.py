"""Targeted writes: change only the fields a use case means to change, on the condition
of the state it read where that matters. A document read earlier and saved back whole
would undo whatever changed meanwhile (a password, a KYC decision, an erasure)."""

from collections.abc import Mapping
from typing import Any

from pymongo.results import UpdateResult

from models.base import TenantDocument


async def set_fields(
    document: TenantDocument, changes: Mapping[str, Any], *, expect: Mapping[str, Any] = {}
) -> bool:
    """``$set`` ``changes`` on the stored ``document`` if it still matches ``expect``;
    True (and the in-memory copy updated) when it did."""
    if not changes:
        return True
    model = type(document)
    result = await model.find_one(
        {"_id": document.id, "tenant_id": document.tenant_id, **expect}
    ).update({"$set": dict(changes)})
    if not isinstance(result, UpdateResult) or not result.matched_count:
        return False
    for name, value in changes.items():
        setattr(document, name, value)
    return True


def changed_fields(document: TenantDocument, before: Mapping[str, Any]) -> dict[str, Any]:
    """The fields whose value differs from ``before`` (a ``model_dump()`` taken earlier)."""
    after = document.model_dump()
    return {
        name: getattr(document, name) for name, value in after.items() if before.get(name) != value
    }
