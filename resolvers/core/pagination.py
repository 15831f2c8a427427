"""Relay-style pages with keyset cursors: opaque, HMAC-signed and bound to one list, so a
forged or foreign cursor is BAD_USER_INPUT instead of a silent wrong page."""

import base64
import binascii
import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar

import orjson
from beanie import PydanticObjectId
from bson import ObjectId
from bson.errors import InvalidId

from models.base import TenantDocument
from models.errors import BadUserInput

D = TypeVar("D", bound=TenantDocument)
_SIGNATURE_BYTES = 16


@dataclass(frozen=True)
class Page(Generic[D]):
    items: list[tuple[str, D]]  # (cursor, node)
    has_next_page: bool

    @property
    def end_cursor(self) -> str | None:
        return self.items[-1][0] if self.items else None


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def encode_cursor(key: bytes, list_name: str, last_id: ObjectId) -> str:
    body = orjson.dumps({"l": list_name, "k": str(last_id)})
    signature = hmac.new(key, body, hashlib.sha256).digest()[:_SIGNATURE_BYTES]
    return f"{_b64(body)}.{_b64(signature)}"


def decode_cursor(key: bytes, list_name: str, cursor: str) -> PydanticObjectId:
    invalid = BadUserInput("'after' is not a valid cursor for this list", field="after")
    try:
        body_part, signature_part = cursor.split(".", 1)
        body, signature = _unb64(body_part), _unb64(signature_part)
        expected = hmac.new(key, body, hashlib.sha256).digest()[:_SIGNATURE_BYTES]
        if not hmac.compare_digest(signature, expected):
            raise invalid
        payload = orjson.loads(body)
        if payload.get("l") != list_name:
            raise invalid
        return PydanticObjectId(ObjectId(payload["k"]))
    except (ValueError, KeyError, TypeError, AttributeError, binascii.Error, InvalidId) as exc:
        raise invalid from exc


def check_first(first: int, max_page_size: int) -> int:
    if first < 1 or first > max_page_size:
        raise BadUserInput(f"'first' must be between 1 and {max_page_size}", field="first")
    return first


async def keyset_page(
    model: type[D],
    criteria: dict[str, Any],
    *,
    key: bytes,
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
        query[order_field] = {operator: decode_cursor(key, list_name, after)}
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


def encode_sorted_cursor(key: bytes, list_name: str, value: datetime, last_id: ObjectId) -> str:
    body = orjson.dumps({"l": list_name, "k": str(last_id), "v": value.isoformat()})
    signature = hmac.new(key, body, hashlib.sha256).digest()[:_SIGNATURE_BYTES]
    return f"{_b64(body)}.{_b64(signature)}"


def decode_sorted_cursor(
    key: bytes, list_name: str, cursor: str
) -> tuple[datetime, PydanticObjectId]:
    invalid = BadUserInput("'after' is not a valid cursor for this list", field="after")
    try:
        body_part, signature_part = cursor.split(".", 1)
        body, signature = _unb64(body_part), _unb64(signature_part)
        expected = hmac.new(key, body, hashlib.sha256).digest()[:_SIGNATURE_BYTES]
        if not hmac.compare_digest(signature, expected):
            raise invalid
        payload = orjson.loads(body)
        if payload.get("l") != list_name or not isinstance(payload.get("v"), str):
            raise invalid
        value = datetime.fromisoformat(payload["v"])
        return value, PydanticObjectId(ObjectId(payload["k"]))
    except (ValueError, KeyError, TypeError, AttributeError, binascii.Error, InvalidId) as exc:
        raise invalid from exc


async def keyset_page_by_time(
    model: type[D],
    criteria: dict[str, Any],
    *,
    sort_field: str,
    key: bytes,
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
        value, last_id = decode_sorted_cursor(key, list_name, after)
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
        (encode_sorted_cursor(key, list_name, getattr(doc, sort_field), doc.id), doc)
        for doc in docs[:first]
        if doc.id is not None
    ]
    return Page(items=items, has_next_page=has_next)
