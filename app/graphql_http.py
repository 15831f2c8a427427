"""GraphQL over HTTP (https://graphql.github.io/graphql-over-http/draft/): what a request
must look like, the response media type the client asked for, and the status codes that
go with it. Request errors are answered as GraphQL errors with a contract code."""

from collections.abc import Mapping
from typing import Any

import orjson
from cross_web import HTTPException
from graphql import GraphQLError
from starlette.responses import Response
from strawberry.http import GraphQLRequestData
from strawberry.types.graphql import OperationType

from app import json_input

GRAPHQL_RESPONSE_JSON = "application/graphql-response+json"
JSON = "application/json"
_ACCEPTED = {GRAPHQL_RESPONSE_JSON: GRAPHQL_RESPONSE_JSON, JSON: JSON, "application/*": JSON}


class Refused(HTTPException):
    """A request refused before any operation ran, with extra response headers."""

    def __init__(self, status_code: int, reason: str, headers: Mapping[str, str]) -> None:
        super().__init__(status_code, reason)
        self.headers = dict(headers)


def response_media_type(accept: str | None) -> str:
    """The media type the client prefers among those served (highest q, first listed on
    a tie); ``*/*``, ``application/*``, no Accept header, or nothing served at all:
    application/json (the spec's legacy default, allowed instead of 406)."""
    best, best_q = JSON, -1.0
    for entry in (accept or "").split(","):
        media, *params = (part.strip().lower() for part in entry.split(";"))
        served = _ACCEPTED.get(media, JSON if media == "*/*" else None)
        q = next((_quality(p[2:]) for p in params if p.startswith("q=")), 1.0)
        if served is not None and q > 0 and q > best_q:
            best, best_q = served, q
    return best


def _quality(value: str) -> float:
    try:
        return float(value)
    except ValueError:
        return 0.0


def error_response(
    status: int,
    message: str,
    media_type: str,
    headers: Mapping[str, str] | None = None,
    extensions: Mapping[str, object] | None = None,
) -> Response:
    """A request error: ``errors`` only (no ``data``: nothing was executed)."""
    code = "NOT_FOUND" if status == 404 else "BAD_USER_INPUT"
    if status >= 500:
        code = "INTERNAL_SERVER_ERROR"
    error = {"message": message, "extensions": {"code": code, **(extensions or {})}}
    return Response(
        orjson.dumps({"errors": [error]}), status, headers=headers, media_type=media_type
    )


def decoded(text: str | bytes, what: str) -> object:
    """JSON from the client, or 400 saying what is wrong with ``what``."""
    try:
        return json_input.loads(text)
    except json_input.InvalidJson as exc:
        raise HTTPException(400, f"{what} {exc.reason}") from None


def query_parameters(params: Mapping[str, object]) -> dict[str, object]:
    """A GET request's operation: ``variables`` and ``extensions`` are JSON text (empty:
    none)."""
    data = dict(params)
    for key in ("variables", "extensions"):
        value = data.pop(key, None)
        if isinstance(value, str | bytes) and value:
            data[key] = decoded(value, f"`{key}`")
    return data


def request_data(data: object) -> GraphQLRequestData:
    """The operation a decoded body (or query string) asks for, or 400 naming what is
    wrong with it."""
    if isinstance(data, list):
        raise HTTPException(400, "Batched operations are not supported: send one JSON object")
    if not isinstance(data, dict):
        raise HTTPException(400, "The request must be a JSON object with a `query` string")
    query, name = data.get("query"), data.get("operationName")
    variables, extensions = data.get("variables"), data.get("extensions")
    for key, value, kind in (
        ("query", query, str),
        ("operationName", name, str),
        ("variables", variables, dict),
        ("extensions", extensions, dict),
    ):
        if value is not None and not isinstance(value, kind):
            wanted = "a string" if kind is str else "an object"
            raise HTTPException(400, f"`{key}` must be {wanted} or null")
    return GraphQLRequestData(
        query=query, variables=variables, operation_name=name, extensions=extensions
    )


def refused_operation(operation: OperationType, method: str) -> HTTPException:
    """An operation the HTTP method cannot run: mutations only over POST (405, as the
    spec requires for GET); subscriptions only over WebSocket."""
    if operation is OperationType.SUBSCRIPTION:
        return HTTPException(
            400, "Subscriptions run over WebSocket (graphql-transport-ws) on /graphql, not HTTP"
        )
    return Refused(
        405, f"{operation.value.capitalize()}s need POST, not {method}", {"allow": "POST"}
    )


def execution_started(result: Any) -> bool:
    """Whether execution began: a pre-execution failure (syntax, validation, variable
    coercion, cost, rate limit) leaves no data and has no error at a path, while a null
    ``data`` after execution always comes from a field error at a path."""
    errors: list[GraphQLError] = list(getattr(result, "errors", None) or [])
    return result.data is not None or any(error.path for error in errors)


def status_before_execution(errors: list[GraphQLError]) -> tuple[int, dict[str, str]]:
    """Status and headers for a result that never executed, with
    application/graphql-response+json: 4xx for the client's request (429 with Retry-After
    when rate limited), 5xx only for a server-side failure."""
    extensions = (errors[0].extensions or {}) if errors else {}
    code = str(extensions.get("code"))
    if code == "INTERNAL_SERVER_ERROR":
        return (503 if extensions.get("unavailable") else 500), {}
    if code == "RATE_LIMITED":
        return 429, {"retry-after": str(extensions.get("retryAfter", 1))}
    return 400, {}
