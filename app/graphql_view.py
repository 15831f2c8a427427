"""The GraphQL endpoint: HTTP and both WebSocket protocols on /graphql, a RequestContext
per HTTP request or per WebSocket connection, and auth in ``connection_init``."""

import json
import logging
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import orjson
from cross_web import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.types import Message, Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.exceptions import ConnectionRejectionError
from strawberry.schema import BaseSchema
from strawberry.types.unset import UnsetType

from app import graphiql
from app.auth import AccessTokens, authenticate_bearer
from app.client_address import client_address
from app.connections import TooManyConnections
from app.security import BodyTooLarge, bounded
from app.ws_legacy import LegacyWSHandler
from app.ws_transport import RAW_SEND, TransportWSHandler
from resolvers.context import RequestContext, Services
from resolvers.outages import MESSAGES, unavailable_component

log = logging.getLogger(__name__)
MULTIPART_OVERHEAD = 64 * 1024  # operations, map and part headers around the file bytes
PREFLIGHT_HEADERS = ("apollo-require-preflight", "x-apollo-operation-name", "graphql-preflight")


def is_multipart(scope: Scope) -> bool:
    for name, value in scope.get("headers", []):
        if name == b"content-type":
            return bool(value.split(b";", 1)[0].strip().lower() == b"multipart/form-data")
    return False


def has_preflight_header(scope: Scope) -> bool:
    """A browser sends a custom header cross-site only after a CORS preflight, so a
    request that carries one cannot be a forged 'simple' form post (CSRF)."""
    names = {name.decode("latin-1").lower(): value for name, value in scope.get("headers", [])}
    return any(names.get(header, b"").strip() for header in PREFLIGHT_HEADERS)


def declared_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", []):
        if name == b"content-length" and value.isdigit():
            return int(value)
    return None


def bounded_frames(receive: Receive, send: Send, limit: int) -> Receive:
    """WebSocket frames larger than the HTTP body limit close the socket (1009, "message
    too big"); the application then sees the disconnect."""

    async def receive_bounded() -> Message:
        message = await receive()
        if message["type"] == "websocket.receive":
            text = message.get("text") or ""
            size = len(message.get("bytes") or b"") + (
                len(text) if len(text) * 4 <= limit else len(text.encode())  # UTF-8 bytes
            )
            if size > limit:
                reason = f"Frames are limited to {limit} bytes"
                await send({"type": "websocket.close", "code": 1009, "reason": reason})
                return {"type": "websocket.disconnect", "code": 1009}
        return message

    return receive_bounded


def too_large(limit: int) -> JSONResponse:
    message = f"The upload is larger than {limit} bytes"
    return JSONResponse(
        {"errors": [{"message": message, "extensions": {"code": "BAD_USER_INPUT"}}]},
        status_code=413,
    )


def refusal(reason: str, code: str) -> dict[str, object]:
    """A refused ``connection_init``: legacy graphql-ws sends it in ``connection_error``."""
    return {"message": reason, "reason": reason, "extensions": {"code": code}}


class FidusGraphQL(GraphQL[RequestContext, None]):
    graphql_transport_ws_handler_class = TransportWSHandler
    graphql_ws_handler_class = LegacyWSHandler

    def encode_json(self, data: object) -> str:
        """orjson for every response and WebSocket message (text, as the protocols want)."""
        return orjson.dumps(data).decode()

    def decode_json(self, data: str | bytes) -> object:
        """JSON nested deeper than the parser goes is malformed like any invalid JSON (a
        400, a WebSocket's 4400 or ``connection_error``), not a RecursionError."""
        try:
            return json.loads(data)
        except RecursionError:
            raise json.JSONDecodeError("JSON nested too deeply", "", 0) from None

    def __init__(
        self,
        schema: BaseSchema,
        runtime: Callable[[], Any],
        *,
        graphiql: bool,
        max_subscriptions_per_connection: int,
        keepalive_seconds: float,
    ) -> None:
        super().__init__(
            schema,
            graphql_ide="graphiql" if graphiql else None,
            keep_alive=True,
            keep_alive_interval=keepalive_seconds,
            connection_init_wait_timeout=timedelta(seconds=10),
            max_subscriptions_per_connection=max_subscriptions_per_connection,
            multipart_uploads_enabled=True,
        )
        self._runtime = runtime

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Multipart (file upload) requests: refused without a CSRF-preventing header,
        and their body is bounded by the upload limit (413 beyond it)."""
        if scope["type"] == "websocket":
            limit = self._runtime().settings.max_request_bytes
            scope[RAW_SEND] = send
            await super().__call__(scope, bounded_frames(receive, send, limit), send)
            return
        if not is_multipart(scope):
            await self._answering_outages(scope, receive, send)
            return
        if not has_preflight_header(scope):
            refusal = JSONResponse(
                {
                    "errors": [
                        {
                            "message": "Multipart requests need the header "
                            "'apollo-require-preflight: true' (CSRF prevention)",
                            "extensions": {"code": "BAD_USER_INPUT"},
                        }
                    ]
                },
                status_code=400,
            )
            await refusal(scope, receive, send)
            return
        file_limit = self._runtime().services.max_upload_bytes
        limit = file_limit + MULTIPART_OVERHEAD
        declared = declared_length(scope)
        if declared is not None and declared > limit:
            await too_large(file_limit)(scope, receive, send)
            return
        request = Request(scope=scope, receive=bounded(receive, limit))
        response: Response
        try:
            response = await self.run(request)
        except HTTPException as exc:
            response = PlainTextResponse(exc.reason, status_code=exc.status_code)
        except BodyTooLarge:
            response = too_large(file_limit)
        await response(scope, receive, send)

    async def _answering_outages(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Authentication runs before the operation (outside its error handling): with the
        database unreachable there, answer 503 with a GraphQL error naming it, not a bare 500."""
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = True
            await send(message)

        try:
            await super().__call__(scope, receive, tracking_send)
        except Exception as exc:
            component = unavailable_component(exc)
            if scope["type"] != "http" or started or component is None:
                raise
            request_id = str(scope.get("state", {}).get("request_id", ""))
            log.warning("%s unavailable: %s", component, type(exc).__name__)
            extensions = {
                "code": "INTERNAL_SERVER_ERROR",
                "requestId": request_id,
                "retryable": True,
                "unavailable": component,
            }
            body = {"errors": [{"message": MESSAGES[component], "extensions": extensions}]}
            await JSONResponse(body, status_code=503, headers={"retry-after": "2"})(
                scope, receive, send
            )

    async def render_graphql_ide(self, request: Request) -> Response:
        """Fidus's own offline GraphiQL build instead of Strawberry's CDN page."""
        return graphiql.page()

    def _services(self) -> tuple[Services, AccessTokens]:
        runtime = self._runtime()
        return runtime.services, runtime.access_tokens

    async def get_context(
        self, request: Request | WebSocket, response: Response | WebSocket
    ) -> RequestContext:
        services, tokens = self._services()
        context = RequestContext(
            services=services,
            request_id=str(request.scope.get("state", {}).get("request_id", "")),
            client_ip=client_address(request),
            user_agent=request.headers.get("user-agent"),
            response=response,
        )
        if isinstance(request, Request):
            context.principal, context.auth_error = await authenticate_bearer(
                request.headers.get("authorization"), tokens, services.clock()
            )
        return context

    async def on_ws_connect(self, context: RequestContext) -> UnsetType | dict[str, object] | None:
        """Refuse the connection (4403) unless connection_init carries a valid token."""
        params = context.connection_params or {}
        authorization = params.get("authorization") or params.get("Authorization")
        services, tokens = self._services()
        principal, _error = await authenticate_bearer(
            authorization if isinstance(authorization, str) else None, tokens, services.clock()
        )
        if principal is None:
            raise ConnectionRejectionError(refusal("authentication required", "UNAUTHENTICATED"))
        context.principal = principal
        try:
            context.connection = self._runtime().connections.open(context)
        except TooManyConnections as exc:
            raise ConnectionRejectionError(refusal(str(exc), "CONFLICT")) from exc
        assert principal.expires_at is not None
        return {"userId": str(principal.user_id), "expiresAt": principal.expires_at.isoformat()}
