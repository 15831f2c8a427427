"""Relay-style pages with keyset cursors, one call per list (``page_of``). Cursors are
signed tokens (resolvers.core.signed_tokens) bound to one list, so a forged or foreign
cursor is BAD_USER_INPUT instead of a silent wrong page."""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar

from beanie import PydanticObjectId
from bson import ObjectId
from bson.errors import InvalidId

from models.base import TenantDocument
from models.errors import BadUserInput
from resolvers.core.context import RequestContext
from resolvers.core.signed_tokens import seal, unseal

D = TypeVar("D", bound=TenantDocument)
DEFAULT_PAGE_SIZE = 20  # `first` when the client gives none


@dataclass(frozen=True)
class Page(Generic[D]):
    items: list[tuple[str, D]]  # (cursor, node)
    has_next_page: bool

    @property
    def end_cursor(self) -> str | None:
        return self.items[-1][0] if self.items else None


@dataclass(frozen=True)
class Sort:
    """A list's keyset order. ``field`` holds a unique ObjectId per document (default
    ``_id``, creation order); with ``by_time`` it is a datetime, ties broken by ``_id``,
    and the cursor carries both."""

    field: str = "_id"
    descending: bool = False
    by_time: bool = False


OLDEST_FIRST = Sort()
NEWEST_FIRST = Sort(descending=True)


@dataclass(frozen=True)
class Position:
    """Where a cursor points: the last document seen (and its sort value, by time)."""

    last_id: PydanticObjectId
    value: datetime | None = None


def _attribute(sort: Sort) -> str:
    return "id" if sort.field == "_id" else sort.field


def encode_cursor(ctx: RequestContext, list_name: str, doc: TenantDocument, sort: Sort) -> str:
    claims: dict[str, str | int] = {"l": list_name}
    if sort.by_time:
        claims |= {"k": str(doc.id), "v": getattr(doc, sort.field).isoformat()}
    else:
        claims["k"] = str(getattr(doc, _attribute(sort)))
    return seal(ctx.services.token_keys.cursors, claims)


def decode_cursor(
    ctx: RequestContext, list_name: str, cursor: str, sort: Sort = OLDEST_FIRST
) -> Position:
    invalid = BadUserInput("'after' is not a valid cursor for this list", field="after")
    claims = unseal(ctx.services.token_keys.cursors, cursor)
    if claims is None or claims.get("l") != list_name:
        raise invalid
    value = claims.get("v")
    if sort.by_time != isinstance(value, str):
        raise invalid
    try:
        last_id = PydanticObjectId(ObjectId(claims["k"]))
        return Position(last_id, datetime.fromisoformat(value) if value is not None else None)
    except (ValueError, KeyError, TypeError, InvalidId) as exc:
        raise invalid from exc


def check_first(first: int | None, max_page_size: int) -> int:
    first = DEFAULT_PAGE_SIZE if first is None else first
    if first < 1 or first > max_page_size:
        raise BadUserInput(f"'first' must be between 1 and {max_page_size}", field="first")
    return first


def _after(sort: Sort, position: Position) -> dict[str, Any]:
    beyond = "$lt" if sort.descending else "$gt"
    if not sort.by_time:
        return {sort.field: {beyond: position.last_id}}
    return {
        "$or": [
            {sort.field: {beyond: position.value}},
            {sort.field: position.value, "_id": {beyond: position.last_id}},
        ]
    }


async def page_of(
    model: type[D],
    criteria: Mapping[str, Any],
    ctx: RequestContext,
    *,
    list_name: str,
    first: int | None,
    after: str | None,
    sort: Sort = OLDEST_FIRST,
) -> Page[D]:
    """One page of ``model`` matching ``criteria``: a single indexed range query.
    ``first`` defaults to DEFAULT_PAGE_SIZE and is capped by the deployment's limit;
    ``after`` must be a cursor this list handed out."""
    first = check_first(first, ctx.services.max_page_size)
    query = dict(criteria)
    if after is not None:
        beyond = _after(sort, decode_cursor(ctx, list_name, after, sort))
        clash = beyond.keys() & query.keys()
        query = {"$and": [query, beyond]} if clash else query | beyond
    fields = [sort.field, "_id"] if sort.by_time else [sort.field]
    keys = [f"-{field}" if sort.descending else field for field in fields]
    docs = await model.find(query).sort(*keys).limit(first + 1).to_list()
    key = "id" if sort.by_time else _attribute(sort)
    items = [
        (encode_cursor(ctx, list_name, doc, sort), doc)
        for doc in docs[:first]
        if getattr(doc, key) is not None
    ]
    return Page(items=items, has_next_page=len(docs) > first)
