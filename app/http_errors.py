"""The JSON answers of the REST routes (MT5 ingest, downloads, calendar and join links,
the request body limit) when something is wrong: ``{"error": message, "code": code}``,
with ``field`` when one input is at fault; and the one outage answer, 503 naming the
unreachable component with Retry-After (what it says: resolvers.core.outages)."""

import functools
import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import TypeVar

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from resolvers.core.outages import (
    MESSAGES,
    OUTAGE_CODE,
    RETRY_AFTER_SECONDS,
    outage_details,
    unavailable_component,
)

log = logging.getLogger(__name__)
R = TypeVar("R", bound=Response)


def error_response(
    status: int,
    code: str,
    message: str,
    field: str | None = None,
    retry_after: int | None = None,
    details: Mapping[str, object] | None = None,
) -> JSONResponse:
    body: dict[str, object] = {"error": message, "code": code}
    if field:
        body["field"] = field
    body |= details or {}
    headers = {"retry-after": str(retry_after)} if retry_after is not None else None
    return JSONResponse(body, status_code=status, headers=headers)


def outage_response(component: str) -> JSONResponse:
    return error_response(
        503,
        OUTAGE_CODE,
        MESSAGES[component],
        retry_after=RETRY_AFTER_SECONDS,
        details=outage_details(component),
    )


def unavailable_as_503(
    handler: Callable[[Request], Awaitable[R]],
) -> Callable[[Request], Awaitable[R | JSONResponse]]:
    """A route whose database or broker is unreachable answers the outage, not a 500."""

    @functools.wraps(handler)
    async def guarded(request: Request) -> R | JSONResponse:
        try:
            return await handler(request)
        except Exception as exc:
            component = unavailable_component(exc)
            if component is None:
                raise
            log.warning("%s unavailable: %s", component, type(exc).__name__)
            return outage_response(component)

    return guarded
