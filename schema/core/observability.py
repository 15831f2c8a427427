"""Per-operation log line, the operation name for every log record of the request, and the
operation metrics (count by outcome, latency) exported on /metrics."""

import contextvars
import logging
import re
import time
from collections.abc import Iterator

from graphql import GraphQLError
from prometheus_client import Counter, Histogram
from strawberry.exceptions import MissingQueryError
from strawberry.extensions import SchemaExtension
from strawberry.schema.exceptions import CannotGetOperationTypeError, InvalidOperationTypeError

from models.errors import ERROR_CODES

operation_name_var: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "operation_name", default=None
)
log = logging.getLogger("fidus.graphql")

OPERATIONS = Counter(
    "fidus_graphql_operations_total",
    "GraphQL operations by name, type and outcome (ok or the first error code)",
    ["operation", "type", "outcome"],
)
LATENCY = Histogram(
    "fidus_graphql_operation_seconds",
    "GraphQL operation latency (for a subscription: its set-up)",
    ["operation", "type"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
MAX_LABELLED_OPERATIONS = 500
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")
_labelled: set[str] = set()


def operation_label(name: str | None) -> str:
    """Clients choose operation names: keep the label set bounded (anonymous, malformed and
    names past the first few hundred share one label)."""
    if not name or not _NAME.fullmatch(name):
        return "anonymous" if not name else "other"
    if name not in _labelled and len(_labelled) >= MAX_LABELLED_OPERATIONS:
        return "other"
    _labelled.add(name)
    return name


class OperationLog(SchemaExtension):
    def on_operation(self) -> Iterator[None]:
        started = time.perf_counter()
        token = operation_name_var.set(self.execution_context.operation_name)
        raised: Exception | None = None
        try:
            yield
        except Exception as exc:  # counted below, then re-raised
            raised = exc
            raise
        finally:
            result = self.execution_context.result
            errors = getattr(result, "errors", None) or []
            elapsed = time.perf_counter() - started
            codes = [str((e.extensions or {}).get("code")) for e in errors]
            if raised is not None and not codes:
                codes = [failure_code(raised)]
            kind = _operation_type(self) or "unknown"
            label = operation_label(self.execution_context.operation_name)
            OPERATIONS.labels(label, kind, codes[0] if codes else "ok").inc()
            LATENCY.labels(label, kind).observe(elapsed)
            log.info(
                "graphql operation",
                extra={
                    "operation": self.execution_context.operation_name,
                    "operation_type": kind,
                    "duration_ms": round(elapsed * 1000, 2),
                    "error_codes": sorted(set(codes)),
                },
            )
            try:
                operation_name_var.reset(token)
            except ValueError:  # a stream closed from another context (WebSocket)
                operation_name_var.set(None)


def failure_code(exc: Exception) -> str:
    """The code of an exception raised through the operation hooks rather than returned
    as a result: a syntax error from the parser cache, an operation type or name the
    transport refuses, no query at all (the client's request), else an unexpected error."""
    if isinstance(
        exc,
        GraphQLError | MissingQueryError | CannotGetOperationTypeError | InvalidOperationTypeError,
    ):
        code = (getattr(exc, "extensions", None) or {}).get("code")
        return str(code) if code in ERROR_CODES else "BAD_USER_INPUT"
    return "INTERNAL_SERVER_ERROR"


def _operation_type(extension: SchemaExtension) -> str | None:
    try:
        return extension.execution_context.operation_type.value
    except (RuntimeError, AttributeError):
        return None
