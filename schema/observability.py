"""Per-operation log line and the operation name for every log record of the request."""

import contextvars
import logging
import time
from collections.abc import Iterator

from strawberry.extensions import SchemaExtension

operation_name_var: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "operation_name", default=None
)
log = logging.getLogger("fidus.graphql")


class OperationLog(SchemaExtension):
    def on_operation(self) -> Iterator[None]:
        started = time.perf_counter()
        token = operation_name_var.set(self.execution_context.operation_name)
        try:
            yield
        finally:
            result = self.execution_context.result
            errors = getattr(result, "errors", None) or []
            log.info(
                "graphql operation",
                extra={
                    "operation": self.execution_context.operation_name,
                    "operation_type": _operation_type(self),
                    "duration_ms": round((time.perf_counter() - started) * 1000, 2),
                    "error_codes": sorted({str((e.extensions or {}).get("code")) for e in errors}),
                },
            )
            operation_name_var.reset(token)


def _operation_type(extension: SchemaExtension) -> str | None:
    try:
        return extension.execution_context.operation_type.value
    except (RuntimeError, AttributeError):
        return None
