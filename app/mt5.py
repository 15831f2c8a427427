"""``POST /mt5/ticks``: service token with scope ``mt5:ingest``, tenant from the token."""

import json
import time
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import JSONResponse

from models.errors import FidusError
from resolvers import service_tokens
from resolvers.context import RequestContext
from resolvers.ingest import MAX_BATCH, ingest_ticks

MAX_BODY_BYTES = 1024 * 1024
INGEST_SCOPE = "mt5:ingest"
_STATUS = {"UNAUTHENTICATED": 401, "FORBIDDEN": 403}


def _error(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse({"error": message, "code": code}, status_code=status)


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


async def post_ticks(request: Request) -> JSONResponse:
    runtime = request.app.state.runtime
    scheme, _, secret = (request.headers.get("authorization") or "").partition(" ")
    if scheme.lower() != "bearer" or not secret:
        return _error(401, "UNAUTHENTICATED", "Authorization: Bearer <service token> required")
    context = RequestContext(services=runtime.services)
    try:
        caller = await service_tokens.authenticate(secret.strip(), INGEST_SCOPE, context)
    except FidusError as exc:
        return _error(_STATUS.get(exc.code, 401), exc.code, exc.message)
    body = await _read_body(request)
    if body is None:
        return _error(413, "BAD_USER_INPUT", f"body is larger than {MAX_BODY_BYTES} bytes")
    try:
        payload: Any = orjson.loads(body)
    except orjson.JSONDecodeError:
        try:  # NaN/Infinity literals: parse, so that only those ticks are rejected
            payload = json.loads(body)
        except ValueError:
            return _error(400, "BAD_USER_INPUT", "body is not valid JSON")
    ticks = payload.get("ticks") if isinstance(payload, dict) else None
    if not isinstance(ticks, list):
        return _error(400, "BAD_USER_INPUT", 'body must be {"ticks": [...]}')
    if len(ticks) > MAX_BATCH:
        return _error(413, "BAD_USER_INPUT", f"at most {MAX_BATCH} ticks per batch")
    result = await ingest_ticks(runtime.services.broker, caller, ticks, int(time.time() * 1000))
    return JSONResponse(
        {
            "accepted": len(result.accepted),
            "rejected": [{"index": r.index, "reason": r.reason} for r in result.rejected],
        }
    )
