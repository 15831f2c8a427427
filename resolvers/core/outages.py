"""Which backing service an exception says is unreachable: the client gets a clear,
retryable error naming it (the names match the readiness checks) instead of a masked one.
Likewise a write that met another transaction's lock: a retryable CONFLICT."""

from pymongo.errors import ConnectionFailure, PyMongoError

from subscriptions.broker import is_broker_failure

WRITE_CONFLICT = 112  # MongoDB's WriteConflict code
CONFLICT_MESSAGE = "Another change to the same records is in progress; retry shortly"
MESSAGES = {
    "mongodb": "The database is unavailable; retry shortly",
    "broker": "The message broker is unavailable; retry shortly",
}
OUTAGE_CODE = "INTERNAL_SERVER_ERROR"
RETRY_AFTER_SECONDS = 2  # what an outage answer over HTTP asks the client to wait


def outage_details(component: str) -> dict[str, object]:
    """What every outage answer says beside its message (``MESSAGES[component]``) and
    code (``OUTAGE_CODE``), in the REST body and a GraphQL error's extensions alike."""
    return {"retryable": True, "unavailable": component}


def unavailable_component(error: BaseException | None) -> str | None:
    """``"mongodb"``, ``"broker"`` or None, looking through a few levels of causes."""
    for _ in range(5):
        if error is None:
            return None
        if isinstance(error, ConnectionFailure) or (
            isinstance(error, PyMongoError) and error.timeout
        ):
            return "mongodb"
        if is_broker_failure(error):
            return "broker"
        error = error.__cause__ or error.__context__
    return None


def is_write_conflict(error: BaseException | None) -> bool:
    """A WriteConflict, or a transaction's transient error that is no outage, looking
    through a few levels of causes."""
    for _ in range(5):
        if error is None:
            return False
        if isinstance(error, PyMongoError) and unavailable_component(error) is None:
            code = getattr(error, "code", None)
            if code == WRITE_CONFLICT or error.has_error_label("TransientTransactionError"):
                return True
        error = error.__cause__ or error.__context__
    return False
