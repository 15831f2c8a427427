"""Which exceptions count as an unreachable database or broker (the fault tests produce
the common ones for real; these are the rest of the family), and that everything else
stays masked."""

import time

import pytest
from graphql import GraphQLError
from pymongo.errors import (
    AutoReconnect,
    DuplicateKeyError,
    ExecutionTimeout,
    NetworkTimeout,
    OperationFailure,
    PyMongoError,
    ServerSelectionTimeoutError,
    WaitQueueTimeoutError,
)
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError

from models.errors import Conflict, FidusError
from resolvers.core.atomic import TRANSIENT, UNCONFIRMED, UNKNOWN_COMMIT, give_up_or_retry
from resolvers.core.outages import CONFLICT_MESSAGE, is_write_conflict, unavailable_component
from schema.core.errors import MASKED_MESSAGE, coded


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


def _labelled(error: OperationFailure | AutoReconnect, label: str) -> PyMongoError:
    error._add_error_label(label)
    return error


@pytest.mark.parametrize(
    ("error", "conflict"),
    [
        (OperationFailure("WriteConflict error", 112), True),
        (_labelled(OperationFailure("NoSuchTransaction", 251), TRANSIENT), True),
        # an outage, not a conflict
        (_labelled(AutoReconnect("connection reset"), TRANSIENT), False),
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


def _verdict(error: BaseException, *, outage_left: float, conflict_left: float) -> None:
    now = time.monotonic()
    give_up_or_retry(error, now + outage_left, now + conflict_left, "busy")


def test_a_write_conflict_is_retried_for_the_conflict_budget_then_a_retryable_conflict():
    conflict = _labelled(OperationFailure("WriteConflict", 112), TRANSIENT)
    _verdict(conflict, outage_left=60, conflict_left=1)  # returns: try again
    with pytest.raises(Conflict) as raised:
        _verdict(conflict, outage_left=60, conflict_left=-1)
    assert raised.value.message == "busy"
    assert raised.value.extensions == {"code": "CONFLICT", "retryable": True}


def test_an_outage_is_retried_for_the_outage_budget_then_told_as_unavailable():
    outage = _labelled(AutoReconnect("reset"), TRANSIENT)
    _verdict(outage, outage_left=1, conflict_left=-1)  # returns: not the conflict budget
    with pytest.raises(AutoReconnect) as raised:
        _verdict(outage, outage_left=-1, conflict_left=-1)
    assert raised.value is outage  # schema.core.errors: "The database is unavailable", retryable


def test_an_unconfirmed_commit_is_retryable_and_other_errors_pass_through():
    # the commit's write concern not satisfied in time (a timeout of maxCommitTimeMS, code
    # 50, counts as the database being unavailable: retryable too)
    unconfirmed = _labelled(
        OperationFailure("waiting for replication timed out", 64), UNKNOWN_COMMIT
    )
    with pytest.raises(FidusError) as raised:
        _verdict(unconfirmed, outage_left=-1, conflict_left=-1)
    assert raised.value.message == UNCONFIRMED
    assert raised.value.extensions == {"code": "INTERNAL_SERVER_ERROR", "retryable": True}
    duplicate = DuplicateKeyError("E11000", 11000)
    with pytest.raises(DuplicateKeyError) as passed:
        _verdict(duplicate, outage_left=60, conflict_left=60)
    assert passed.value is duplicate
