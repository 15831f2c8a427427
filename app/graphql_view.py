"""The GraphQL endpoint: HTTP and both WebSocket protocols on /graphql, a RequestContext
per HTTP request or per WebSocket connection, and auth in ``connection_init``."""

import logging
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import orjson
from cross_web import AsyncHTTPRequestAdapter, HTTPException
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.formparsers import MultiPartException
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Message, Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.exceptions import ConnectionRejectionError, MissingQueryError
from strawberry.http import GraphQLHTTPResponse, GraphQLRequestData
from strawberry.schema import BaseSchema
from strawberry.schema.exceptions import CannotGetOperationTypeError, InvalidOperationTypeError
from strawberry.types import ExecutionResult
from strawberry.types.graphql import OperationType
from strawberry.types.unset import UnsetType

from app import graphiql, graphql_http, json_input, multipart
from app.auth import AccessTokens, authenticate_bearer
from app.client_address import client_address
from app.connections import TooManyConnections
from app.security import BodyTooLarge, bounded
from app.ws_legacy import LegacyWSHandler
from app.ws_transport import RAW_SEND, TransportWSHandler
from resolvers.core.context import RequestContext, Services
from resolvers.core.outages import (
    MESSAGES,
    RETRY_AFTER_SECONDS,
    outage_details,
    unavailable_component,
)

log = logging.getLogger(__name__)


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
        """Every JSON document the endpoint reads (bodies, query parameters, multipart
        fields, WebSocket frames), with its nesting bounded."""
        return json_input.loads(data)

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
        if scope["type"] == "websocket":
            limit = self._runtime().settings.max_request_bytes
            scope[RAW_SEND] = send
            await super().__call__(scope, bounded_frames(receive, send, limit), send)
            return
        media_type = graphql_http.response_media_type(Headers(scope=scope).get("accept"))
        response = await self._respond(scope, receive, media_type)
        await response(scope, receive, send)

    async def _respond(self, scope: Scope, receive: Receive, media_type: str) -> Response:
        """Multipart (file upload) requests are refused without a CSRF-preventing header,
        and their body is bounded by the upload limit (413 beyond it). Request errors are
        GraphQL errors with a code; authentication runs before the operation (outside its
        error handling): with the database unreachable there, 503 naming it."""
        file_limit: int | None = None
        if multipart.is_multipart(scope):
            file_limit = self._runtime().services.max_upload_bytes
            refused = multipart.refusal(scope, file_limit, media_type)
            if refused is not None:
                return refused
            receive = bounded(receive, file_limit + multipart.OVERHEAD)
        request = Request(scope=scope, receive=receive)
        try:
            return await self.run(request)
        except graphql_http.Refused as exc:
            return graphql_http.error_response(
                exc.status_code, exc.reason, media_type, headers=exc.headers
            )
        except HTTPException as exc:
            return graphql_http.error_response(exc.status_code, exc.reason, media_type)
        except BodyTooLarge:
            if file_limit is None:
                raise  # the body limit middleware answers
            return multipart.too_large(file_limit, media_type)
        except Exception as exc:
            component = unavailable_component(exc)
            if component is None:
                raise
            log.warning("%s unavailable: %s", component, type(exc).__name__)
            request_id = str(scope.get("state", {}).get("request_id", ""))
            extensions = {"requestId": request_id, **outage_details(component)}
            retry = {"retry-after": str(RETRY_AFTER_SECONDS)}
            return graphql_http.error_response(
                503, MESSAGES[component], media_type, retry, extensions
            )
        finally:
            await request.close()  # the uploaded files, if any

    async def parse_http_body(self, request: AsyncHTTPRequestAdapter) -> GraphQLRequestData:
        content_type = (request.content_type or "").split(";", 1)[0].strip().lower()
        if request.method == "GET":
            data: object = graphql_http.query_parameters(request.query_params)
        elif content_type == "application/json":
            data = graphql_http.decoded(await request.get_body(), "The request body")
        elif content_type == "multipart/form-data":
            data = await self.parse_multipart(request)
        else:
            raise HTTPException(
                400, "Send the operation as application/json (uploads: multipart/form-data)"
            )
        return graphql_http.request_data(data)

    async def parse_multipart(self, request: AsyncHTTPRequestAdapter) -> dict[str, Any]:
        try:
            form = await request.get_form_data()
        except (StarletteHTTPException, MultiPartException, ValueError) as exc:
            detail = getattr(exc, "detail", None) or getattr(exc, "message", "")
            raise HTTPException(400, f"The multipart body is malformed. {detail}".strip()) from None
        return multipart.operations_with_files(form.form)

    async def execute_single(
        self,
        request: Request,
        request_adapter: AsyncHTTPRequestAdapter,
        sub_response: Response,
        context: RequestContext,
        root_value: None,
        request_data: GraphQLRequestData,
    ) -> ExecutionResult:
        """Queries over GET, queries and mutations over POST; subscriptions over WebSocket
        only. With application/graphql-response+json, a result that never executed gets
        a 4xx status (the spec's rule), one that did gets 200."""
        method = request_adapter.method
        allowed = {OperationType.QUERY}
        if method == "POST":
            allowed.add(OperationType.MUTATION)
        try:
            result = await self.schema.execute(
                request_data.query,
                root_value=root_value,
                variable_values=request_data.variables,
                context_value=context,
                operation_name=request_data.operation_name,
                allowed_operation_types=allowed,
                operation_extensions=request_data.extensions,
            )
        except InvalidOperationTypeError as exc:
            raise graphql_http.refused_operation(exc.operation_type, method) from None
        except CannotGetOperationTypeError as exc:
            raise HTTPException(400, exc.as_http_error_reason()) from None
        except MissingQueryError:
            raise HTTPException(400, "The request has no GraphQL `query`") from None
        if (
            sub_response.media_type == graphql_http.GRAPHQL_RESPONSE_JSON
            and not graphql_http.execution_started(result)
        ):
            status, headers = graphql_http.status_before_execution(result.errors or [])
            sub_response.status_code = status
            sub_response.headers.update(headers)
        return result

    async def process_result(
        self, request: Request, result: ExecutionResult
    ) -> GraphQLHTTPResponse:
        """No ``data`` entry when the operation never executed (GraphQL spec, "Response")."""
        response = await super().process_result(request, result)
        if not graphql_http.execution_started(result):
            response.pop("data", None)
        return response

    def create_response(
        self,
        response_data: GraphQLHTTPResponse | list[GraphQLHTTPResponse],
        sub_response: Response,
    ) -> Response:
        """In the media type negotiated for the request (see ``get_sub_response``)."""
        response = super().create_response(response_data, sub_response)
        response.headers["content-type"] = sub_response.media_type or graphql_http.JSON
        return response

    async def get_sub_response(self, request: Request | WebSocket) -> Response:
        """Carries the response media type the client asked for, and the status."""
        sub_response = await super().get_sub_response(request)
        sub_response.media_type = graphql_http.response_media_type(request.headers.get("accept"))
        return sub_response

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
