"""``POST /mt5/ticks`` and ``POST /mt5/accounts``: service token with scope ``mt5:ingest``,
tenant from the token. With the database or the broker unreachable: 503 naming it, with
Retry-After (the bridge retries the batch)."""

import time
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse

from app import json_input
from app.http_errors import error_response, unavailable_as_503
from app.metrics import TICKS_INGESTED, TICKS_REJECTED, rejection_label
from models.errors import FidusError
from resolvers.core.context import RequestContext
from resolvers.identity import service_tokens
from resolvers.identity.service_tokens import ServiceCaller
from resolvers.mt5.accounts import ingest_snapshot
from resolvers.mt5.ingest import MAX_BATCH, Rejection, ingest_ticks

MAX_BODY_BYTES = 1024 * 1024
INGEST_SCOPE = "mt5:ingest"
_STATUS = {"UNAUTHENTICATED": 401, "FORBIDDEN": 403}


def _rejections(rejected: list[Rejection]) -> list[dict[str, object]]:
    return [{"index": r.index, "reason": r.reason} for r in rejected]


async def _read_body(request: Request) -> bytes | None:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        return None
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BODY_BYTES:
            return None
    return bytes(body)


async def _authenticated_body(request: Request) -> tuple[ServiceCaller, Any] | JSONResponse:
    """The service caller and the parsed JSON body, or the error response."""
    runtime = request.app.state.runtime
    scheme, _, secret = (request.headers.get("authorization") or "").partition(" ")
    if scheme.lower() != "bearer" or not secret:
        return error_response(
            401, "UNAUTHENTICATED", "Authorization: Bearer <service token> required"
        )
    context = RequestContext(services=runtime.services)
    try:
        caller = await service_tokens.authenticate(secret.strip(), INGEST_SCOPE, context)
    except FidusError as exc:
        return error_response(_STATUS.get(exc.code, 401), exc.code, exc.message)
    body = await _read_body(request)
    if body is None:
        return error_response(413, "BAD_USER_INPUT", f"body is larger than {MAX_BODY_BYTES} bytes")
    try:  # NaN/Infinity literals: parsed, so that only those ticks are rejected
        return caller, json_input.loads(body, non_finite=True)
    except json_input.InvalidJson as exc:
        return error_response(400, "BAD_USER_INPUT", f"body {exc.reason}")


@unavailable_as_503
async def post_ticks(request: Request) -> JSONResponse:
    authenticated = await _authenticated_body(request)
    if isinstance(authenticated, JSONResponse):
        return authenticated
    caller, payload = authenticated
    ticks = payload.get("ticks") if isinstance(payload, dict) else None
    if not isinstance(ticks, list):
        return error_response(400, "BAD_USER_INPUT", 'body must be {"ticks": [...]}')
    if len(ticks) > MAX_BATCH:
        return error_response(413, "BAD_USER_INPUT", f"at most {MAX_BATCH} ticks per batch")
    services = request.app.state.runtime.services
    result = await ingest_ticks(services, caller, ticks, int(time.time() * 1000))
    TICKS_INGESTED.inc(len(result.accepted))
    for rejection in result.rejected:
        TICKS_REJECTED.labels(rejection_label(rejection.reason)).inc()
    return JSONResponse(
        {
            "accepted": len(result.accepted),
            "rejected": _rejections(result.rejected),
        }
    )


@unavailable_as_503
async def post_account(request: Request) -> JSONResponse:
    """One account snapshot: a malformed account is rejected whole with the reason; positions
    and deals one by one, the rejected ones listed with their index and reason."""
    authenticated = await _authenticated_body(request)
    if isinstance(authenticated, JSONResponse):
        return authenticated
    caller, payload = authenticated
    services = request.app.state.runtime.services
    try:
        result = await ingest_snapshot(services, caller, payload)
    except FidusError as exc:
        return error_response(400, exc.code, exc.message, exc.extensions.get("field"))
    return JSONResponse(
        {
            "account": result.account_id,
            "positions": {
                "accepted": result.positions_accepted,
                "rejected": _rejections(result.rejected_positions),
            },
            "deals": {
                "new": result.deals_new,
                "known": result.deals_known,
                "rejected": _rejections(result.rejected_deals),
            },
        }
    )
