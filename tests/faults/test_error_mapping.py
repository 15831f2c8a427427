"""Which exceptions count as an unreachable database or broker (the fault tests produce
the common ones for real; these are the rest of the family), and that everything else
stays masked."""

import pytest
from graphql import GraphQLError
from pymongo.errors import (
    AutoReconnect,
    DuplicateKeyError,
    ExecutionTimeout,
    NetworkTimeout,
    OperationFailure,
    ServerSelectionTimeoutError,
    WaitQueueTimeoutError,
)
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError

from resolvers.outages import CONFLICT_MESSAGE, is_write_conflict, unavailable_component
from schema.errors import MASKED_MESSAGE, coded


@pytest.mark.parametrize(
    ("error", "component"),
    [
        (ServerSelectionTimeoutError("no server"), "mongodb"),
        (AutoReconnect("connection reset"), "mongodb"),
        (NetworkTimeout("timed out"), "mongodb"),
        (WaitQueueTimeoutError("pool exhausted"), "mongodb"),
        (ExecutionTimeout("operation exceeded time limit", 50), "mongodb"),
        (RedisConnectionError("refused"), "broker"),
        (RedisTimeoutError("timed out"), "broker"),
        (OperationFailure("bad query", 2), None),
        (DuplicateKeyError("E11000", 11000), None),
        (ResponseError("WRONGTYPE"), None),
        (ValueError("a bug"), None),
    ],
)
def test_unavailable_components(error, component):
    assert unavailable_component(error) == component


def test_a_wrapped_cause_is_found():
    error = RuntimeError("while valuing")
    error.__cause__ = AutoReconnect("connection reset")
    assert unavailable_component(error) == "mongodb"


def test_graphql_errors_name_the_component_and_others_stay_masked():
    down = coded(GraphQLError("x", path=["portfolio"], original_error=NetworkTimeout("t")), "r1")
    assert down.message == "The database is unavailable; retry shortly"
    assert down.extensions == {
        "code": "INTERNAL_SERVER_ERROR",
        "requestId": "r1",
        "retryable": True,
        "unavailable": "mongodb",
    }
    bug = coded(GraphQLError("x", path=["portfolio"], original_error=KeyError("secret")), "r2")
    assert bug.message == f"{MASKED_MESSAGE} (request id r2)"
    assert "unavailable" not in (bug.extensions or {})


def _transient(error: OperationFailure | AutoReconnect) -> OperationFailure | AutoReconnect:
    error._add_error_label("TransientTransactionError")
    return error


@pytest.mark.parametrize(
    ("error", "conflict"),
    [
        (OperationFailure("WriteConflict error", 112), True),
        (_transient(OperationFailure("NoSuchTransaction", 251)), True),
        (_transient(AutoReconnect("connection reset")), False),  # an outage, not a conflict
        (OperationFailure("bad query", 2), False),
        (DuplicateKeyError("E11000", 11000), False),
    ],
)
def test_write_conflicts_are_told_apart(error, conflict):
    assert is_write_conflict(error) is conflict


def test_a_write_conflict_is_a_retryable_conflict_not_a_masked_error():
    error = OperationFailure("WriteConflict error", 112)
    busy = coded(GraphQLError("x", path=["updatePortfolio"], original_error=error), "r3")
    assert busy.message == CONFLICT_MESSAGE
    assert busy.extensions == {"code": "CONFLICT", "requestId": "r3", "retryable": True}
