"""Relay connections: ``XConnection { edges { cursor node } pageInfo }``."""

from collections.abc import Callable
from typing import Any, Generic, TypeVar

import strawberry

from resolvers.core.pagination import Page

NodeT = TypeVar("NodeT")


@strawberry.type
class PageInfo:
    has_next_page: bool
    end_cursor: str | None


@strawberry.type
class Edge(Generic[NodeT]):
    cursor: str
    node: NodeT


@strawberry.type
class Connection(Generic[NodeT]):
    edges: list[Edge[NodeT]]
    page_info: PageInfo


def to_connection(page: Page[Any], convert: Callable[[Any], NodeT]) -> Connection[NodeT]:
    return Connection(
        edges=[Edge(cursor=cursor, node=convert(doc)) for cursor, doc in page.items],
        page_info=PageInfo(has_next_page=page.has_next_page, end_cursor=page.end_cursor),
    )
