"""Relay-style pages with keyset cursors: signed tokens (resolvers.core.signed_tokens)
bound to one list, so a forged or foreign cursor is BAD_USER_INPUT instead of a silent
wrong page."""

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar

from beanie import PydanticObjectId
from bson import ObjectId
from bson.errors import InvalidId

from models.base import TenantDocument
from models.errors import BadUserInput
from resolvers.core.signed_tokens import SigningKey, seal, unseal

D = TypeVar("D", bound=TenantDocument)


@dataclass(frozen=True)
class Page(Generic[D]):
    items: list[tuple[str, D]]  # (cursor, node)
    has_next_page: bool

    @property
    def end_cursor(self) -> str | None:
        return self.items[-1][0] if self.items else None


def encode_cursor(
    key: SigningKey, list_name: str, last_id: ObjectId, value: datetime | None = None
) -> str:
    claims = {"l": list_name, "k": str(last_id)}
    return seal(key, claims if value is None else claims | {"v": value.isoformat()})


def decode_cursor(
    key: SigningKey, list_name: str, cursor: str, *, by_time: bool = False
) -> tuple[PydanticObjectId, datetime | None]:
    """The last id (and, ``by_time``, the sort value) the cursor names."""
    invalid = BadUserInput("'after' is not a valid cursor for this list", field="after")
    claims = unseal(key, cursor)
    if claims is None or claims.get("l") != list_name:
        raise invalid
    value = claims.get("v")
    if by_time != isinstance(value, str):
        raise invalid
    try:
        last_id = PydanticObjectId(ObjectId(claims["k"]))
        return last_id, datetime.fromisoformat(value) if value is not None else None
    except (ValueError, KeyError, TypeError, InvalidId) as exc:
        raise invalid from exc


def check_first(first: int, max_page_size: int) -> int:
    if first < 1 or first > max_page_size:
        raise BadUserInput(f"'first' must be between 1 and {max_page_size}", field="first")
    return first


async def keyset_page(
    model: type[D],
    criteria: dict[str, Any],
    *,
    key: SigningKey,
    list_name: str,
    first: int,
    after: str | None,
    max_page_size: int,
    descending: bool = False,
    order_field: str = "_id",
) -> Page[D]:
    """One page ordered by ``order_field`` (default ``_id``, creation order; ascending
    unless ``descending``): a single indexed range query. ``order_field`` must hold a
    unique ObjectId per document (the cursor carries the last one seen)."""
    first = check_first(first, max_page_size)
    query = dict(criteria)
    if after is not None:
        operator = "$lt" if descending else "$gt"
        query[order_field] = {operator: decode_cursor(key, list_name, after)[0]}
    sort = f"-{order_field}" if descending else order_field
    docs = await model.find(query).sort(sort).limit(first + 1).to_list()
    has_next = len(docs) > first
    docs = docs[:first]
    attribute = "id" if order_field == "_id" else order_field
    items = [
        (encode_cursor(key, list_name, getattr(doc, attribute)), doc)
        for doc in docs
        if getattr(doc, attribute) is not None
    ]
    return Page(items=items, has_next_page=has_next)


async def keyset_page_by_time(
    model: type[D],
    criteria: dict[str, Any],
    *,
    sort_field: str,
    key: SigningKey,
    list_name: str,
    first: int,
    after: str | None,
    max_page_size: int,
) -> Page[D]:
    """One page ordered by a datetime field, then ``_id`` (the tie-breaker): the cursor
    carries both, so the next page starts strictly after the last (value, id) pair."""
    first = check_first(first, max_page_size)
    query: dict[str, Any] = dict(criteria)
    if after is not None:
        last_id, value = decode_cursor(key, list_name, after, by_time=True)
        after_last = {
            "$or": [
                {sort_field: {"$gt": value}},
                {sort_field: value, "_id": {"$gt": last_id}},
            ]
        }
        query = {"$and": [query, after_last]}
    docs = await model.find(query).sort(sort_field, "_id").limit(first + 1).to_list()
    has_next = len(docs) > first
    items = [
        (encode_cursor(key, list_name, doc.id, getattr(doc, sort_field)), doc)
        for doc in docs[:first]
        if doc.id is not None
    ]
    return Page(items=items, has_next_page=has_next)
