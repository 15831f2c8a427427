"""Tenant scoping: every lookup by id goes through here, so another tenant's id is
simply NOT_FOUND."""

from typing import Any, TypeVar

from beanie import PydanticObjectId
from bson import ObjectId
from bson.errors import InvalidId

from models.base import TenantDocument
from models.errors import BadUserInput, NotFound
from resolvers.core.context import Principal

D = TypeVar("D", bound=TenantDocument)


def parse_id(raw: str, *, field: str = "id") -> PydanticObjectId:
    """A well-formed id or BAD_USER_INPUT naming the field."""
    try:
        if not isinstance(raw, str) or len(raw) != 24:
            raise InvalidId(raw)
        return PydanticObjectId(ObjectId(raw))
    except (InvalidId, TypeError) as exc:
        raise BadUserInput(f"'{field}' is not a valid id", field=field) from exc


def tenant_filter(principal: Principal, **criteria: Any) -> dict[str, Any]:
    return {"tenant_id": principal.tenant_id, **criteria}


async def get_in_tenant(
    model: type[D], principal: Principal, raw_id: str, *, field: str = "id", what: str = ""
) -> D:
    object_id = parse_id(raw_id, field=field)
    found = await model.find_one(tenant_filter(principal, _id=object_id))
    if found is None:
        raise NotFound(f"{what or model.__name__} not found")
    return found


MAX_IDEMPOTENCY_KEY = 200


def clean_idempotency_key(key: str) -> str:
    """A caller-chosen key naming one write, 1-200 characters after trimming."""
    key = key.strip()
    if not key or len(key) > MAX_IDEMPOTENCY_KEY:
        raise BadUserInput(
            f"Idempotency key must be 1-{MAX_IDEMPOTENCY_KEY} characters", field="idempotencyKey"
        )
    return key
