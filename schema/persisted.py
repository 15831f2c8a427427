"""Persisted queries for every transport (HTTP and WebSocket): before parsing, the
operation text is taken from the registry when the request names it by hash, registered
when a client sends it with its hash (mode ``auto``), or refused when it is not a
registered one (mode ``only``). See resolvers.persisted_queries."""

from collections.abc import AsyncIterator
from typing import Any

from graphql import GraphQLError
from strawberry.extensions import SchemaExtension
from strawberry.types.execution import PreExecutionError

from models.errors import FidusError
from resolvers import persisted_queries
from resolvers.context import RequestContext


class PersistedQueries(SchemaExtension):
    async def on_operation(self) -> AsyncIterator[None]:
        context = self.execution_context
        request = context.context
        if isinstance(request, RequestContext):
            context.query = await persisted_queries.resolve(
                context.query,
                context.operation_extensions,
                request.services.persisted_queries,
                may_register=request.principal is not None,
            )
        yield


async def refused_by_registry(
    query: str | None, context: Any, options: dict[str, Any]
) -> PreExecutionError | None:
    if not isinstance(context, RequestContext):
        return None
    try:
        await persisted_queries.resolve(
            query,
            options.get("operation_extensions"),
            context.services.persisted_queries,
            may_register=context.principal is not None,
        )
    except FidusError as exc:
        error = GraphQLError(exc.message, extensions={"code": exc.code})
        return PreExecutionError(data=None, errors=[error])
    return None
