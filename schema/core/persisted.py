"""Persisted queries for every transport (HTTP and WebSocket): before parsing, the
operation text is taken from the registry when the request names it by hash, or refused
when it is not a registered one (mode ``only``); an operation a signed-in client sent
with its hash (mode ``auto``) is registered once it has parsed and passed validation.
See resolvers.core.persisted_queries."""

from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

from graphql import GraphQLError, parse, specified_rules, validate
from strawberry.extensions import SchemaExtension
from strawberry.types.execution import PreExecutionError

from models.errors import FidusError
from resolvers.core import persisted_queries
from resolvers.core.context import RequestContext
from schema.core.document_limits import limit_rules

if TYPE_CHECKING:
    from strawberry import Schema

    from schema import SchemaLimits


class PersistedQueries(SchemaExtension):
    def __init__(self) -> None:
        self.offered: str | None = None  # the text to register once validated

    async def on_operation(self) -> AsyncIterator[None]:
        context = self.execution_context
        request = context.context
        if isinstance(request, RequestContext):
            services = request.services
            resolution = await persisted_queries.resolve(
                context.query,
                context.operation_extensions,
                services.persisted_queries,
                services.clock(),
            )
            context.query = resolution.query
            if resolution.offered and request.principal is not None:
                self.offered = resolution.query
        yield

    async def on_execute(self) -> AsyncIterator[None]:
        """Reached only by a document that parsed and passed validation."""
        request = self.execution_context.context
        if self.offered is not None and isinstance(request, RequestContext):
            assert request.principal is not None
            await persisted_queries.register_offered(
                self.offered,
                request.services,
                str(request.principal.user_id),
                request.services.clock(),
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
            context.services.clock(),
        )
    except FidusError as exc:
        error = GraphQLError(exc.message, extensions={"code": exc.code})
        return PreExecutionError(data=None, errors=[error])
    return None


def document_errors(schema: "Schema", limits: "SchemaLimits", query: str) -> list[str]:
    """What parsing and validation (``limits`` included) say about ``query`` against
    ``schema``; nothing when it would be accepted."""
    try:
        document = parse(query, max_tokens=limits.max_tokens)
    except GraphQLError as error:
        return [error.message]
    rules = limit_rules(limits.max_depth, limits.max_aliases, limits.introspection)
    return [e.message for e in validate(schema._schema, document, [*specified_rules, *rules])]
