"""Every error leaves with an ``extensions.code`` from the contract's closed set.
Domain errors keep their message; document, validation and variable errors become
BAD_USER_INPUT; anything unexpected is logged with the request id and masked."""

import logging
from typing import Any

from graphql import GraphQLError
from strawberry.extensions import MaskErrors

from models.errors import ERROR_CODES, FidusError

log = logging.getLogger("fidus.errors")
MASKED_MESSAGE = "Internal server error"


class CodedErrors(MaskErrors):
    def _process_errors(self, errors: list[GraphQLError]) -> list[GraphQLError]:
        return [self._convert(error) for error in errors]

    def _request_id(self) -> str:
        context = getattr(self.execution_context, "context", None)
        return str(getattr(context, "request_id", "") or "")

    def _with(self, error: GraphQLError, message: str, extensions: dict[str, Any]) -> GraphQLError:
        return GraphQLError(
            message=message,
            nodes=error.nodes,
            source=error.source,
            positions=error.positions,
            path=error.path,
            original_error=None,
            extensions=extensions,
        )

    def _convert(self, error: GraphQLError) -> GraphQLError:
        original = error.original_error
        if isinstance(original, FidusError):
            return self._with(error, original.message, dict(original.extensions))
        code = (error.extensions or {}).get("code")
        if code in ERROR_CODES and original is None:
            return error
        if error.path is None and (original is None or isinstance(original, ValueError | TypeError)):
            # Parse, validation, limits and variable coercion: the client's document is wrong.
            return self._with(error, error.message, {"code": "BAD_USER_INPUT"})
        request_id = self._request_id()
        log.error(
            "unexpected error in %s",
            ".".join(str(p) for p in error.path or []) or "operation",
            exc_info=original or error,
            extra={"request_id": request_id},
        )
        return self._with(
            error,
            f"{MASKED_MESSAGE} (request id {request_id})" if request_id else MASKED_MESSAGE,
            {"code": "INTERNAL_SERVER_ERROR", "requestId": request_id},
        )
