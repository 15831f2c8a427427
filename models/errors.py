"""Domain errors. Each carries one code of the public contract's closed set."""

from typing import Any, ClassVar


class FidusError(Exception):
    """An expected failure that reaches the client with its message and code."""

    code: ClassVar[str] = "INTERNAL_SERVER_ERROR"

    def __init__(self, message: str, *, field: str | None = None, **extensions: Any) -> None:
        super().__init__(message)
        self.message = message
        self.extensions: dict[str, Any] = {"code": self.code, **extensions}
        if field is not None:
            self.extensions["field"] = field


class Unauthenticated(FidusError):
    code = "UNAUTHENTICATED"


class Forbidden(FidusError):
    code = "FORBIDDEN"


class NotFound(FidusError):
    code = "NOT_FOUND"


class BadUserInput(FidusError):
    code = "BAD_USER_INPUT"


class Conflict(FidusError):
    code = "CONFLICT"


class RateLimited(FidusError):
    code = "RATE_LIMITED"

    def __init__(self, message: str, *, retry_after: int) -> None:
        super().__init__(message, retryAfter=max(1, retry_after))
        self.retry_after = max(1, retry_after)


ERROR_CODES = frozenset(
    {
        "UNAUTHENTICATED",
        "FORBIDDEN",
        "NOT_FOUND",
        "BAD_USER_INPUT",
        "CONFLICT",
        "RATE_LIMITED",
        "INTERNAL_SERVER_ERROR",
    }
)
