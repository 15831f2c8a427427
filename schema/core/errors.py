"""Every error leaves with an ``extensions.code`` from the contract's closed set.
Domain errors keep their message; document, validation and variable errors become
BAD_USER_INPUT; an unreachable database or broker is INTERNAL_SERVER_ERROR with a clear
message, ``retryable: true`` and the component's name; a write that met another
transaction's lock is a retryable CONFLICT; anything else unexpected is logged with the
request id and masked."""

import logging
from collections.abc import AsyncGenerator, Iterator
from typing import Any

from graphql import GraphQLError
from strawberry.extensions import SchemaExtension
from strawberry.schema.exceptions import CannotGetOperationTypeError
from strawberry.types.execution import PreExecutionError

from models.errors import ERROR_CODES, FidusError
from resolvers.core.outages import (
    CONFLICT_MESSAGE,
    MESSAGES,
    OUTAGE_CODE,
    is_write_conflict,
    outage_details,
    unavailable_component,
)

log = logging.getLogger("fidus.errors")
MASKED_MESSAGE = "Internal server error"


def _replace(error: GraphQLError, message: str, extensions: dict[str, Any]) -> GraphQLError:
    return GraphQLError(
        message=message,
        nodes=error.nodes,
        source=error.source,
        positions=error.positions,
        path=error.path,
        original_error=None,
        extensions=extensions,
    )


def coded(error: GraphQLError, request_id: str = "") -> GraphQLError:
    """The client-facing version of ``error`` (idempotent)."""
    original = error.original_error
    if isinstance(original, FidusError):
        return _replace(error, original.message, dict(original.extensions))
    code = (error.extensions or {}).get("code")
    if code in ERROR_CODES and original is None:
        return error
    component = unavailable_component(original)
    if component is not None:
        log.warning(
            "%s unavailable: %s",
            component,
            type(original).__name__,
            extra={"request_id": request_id},
        )
        return _replace(
            error,
            MESSAGES[component],
            {"code": OUTAGE_CODE, "requestId": request_id, **outage_details(component)},
        )
    if is_write_conflict(original):
        return _replace(
            error,
            CONFLICT_MESSAGE,
            {"code": "CONFLICT", "requestId": request_id, "retryable": True},
        )
    if error.path is None and (
        original is None
        or isinstance(original, GraphQLError | ValueError | TypeError | CannotGetOperationTypeError)
    ):
        # Parse, validation, limits, variable coercion, no operation of the name asked
        # for: the client's document is wrong.
        return _replace(error, error.message, {"code": "BAD_USER_INPUT"})
    log.error(
        "unexpected error in %s",
        ".".join(str(p) for p in error.path or []) or "operation",
        exc_info=original or error,
        extra={"request_id": request_id},
    )
    return _replace(
        error,
        f"{MASKED_MESSAGE} (request id {request_id})" if request_id else MASKED_MESSAGE,
        {"code": "INTERNAL_SERVER_ERROR", "requestId": request_id},
    )


def code_all(result: Any, context: Any) -> None:
    """Replace ``result.errors`` (any result shape) with their coded versions."""
    errors = getattr(result, "errors", None)
    if errors:
        request_id = str(getattr(context, "request_id", "") or "")
        result.errors = [coded(error, request_id) for error in errors]


async def coded_stream(source: Any, context: Any) -> AsyncGenerator[Any, None]:
    """A result stream (an operation over WebSocket) whose errors all carry their code. A
    syntax error raised while parsing through the parser cache, before Strawberry's own
    error handling, ends the stream as the document error it is, not as an exception."""
    try:
        try:
            first = await anext(source)
        except StopAsyncIteration:
            return
        except GraphQLError as error:
            first = PreExecutionError(data=None, errors=[error])
        code_all(first, context)
        yield first
        async for result in source:
            code_all(result, context)
            yield result
    finally:
        await source.aclose()


class CodedErrors(SchemaExtension):
    def on_operation(self) -> Iterator[None]:
        yield
        code_all(self.execution_context.result, self.execution_context.context)
