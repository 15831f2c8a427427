"""Which backing service an exception says is unreachable: the client gets a clear,
retryable error naming it (the names match the readiness checks) instead of a masked one."""

from pymongo.errors import ConnectionFailure, PyMongoError

from subscriptions.broker import is_broker_failure

MESSAGES = {
    "mongodb": "The database is unavailable; retry shortly",
    "broker": "The message broker is unavailable; retry shortly",
}


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
