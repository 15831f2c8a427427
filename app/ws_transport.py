"""Fidus's WebSocket protocol handlers: Strawberry's graphql-transport-ws handler (the
legacy graphql-ws one is in ``app.ws_legacy``), made to treat the socket as a session and
to hold to PROTOCOL.md whatever a client sends.

- A frame of the wrong shape (``app.ws_frames``) closes the socket with 4400 and a reason
  before anything reads it; every error found before execution (syntax included) is an
  ``error`` message for its operation, with the codes every error carries.
- Every operation first re-checks the connection's session (and reloads the user), so it
  runs as the connection's *current* session; a revoked or expired one closes the socket
  with 4403 and nothing more runs on it (``app.connections`` closes it from outside too).
- A ``next`` frame whose payload is a shared rendering (``schema.core.shared_events``) is
  encoded once for every subscriber: only the operation id is spliced in."""

import abc
import asyncio
import contextlib
import functools
from typing import Any

import orjson
from graphql import GraphQLError
from starlette.websockets import WebSocketDisconnect
from strawberry.http.async_base_view import AsyncWebSocketAdapter
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
    Operation,
)
from strawberry.subscriptions.protocols.graphql_transport_ws.types import (
    ConnectionInitMessage,
    Message,
    SubscribeMessage,
)
from strawberry.types.execution import ExecutionResult, PreExecutionError

from app.connections import OpenConnection
from app.ws_frames import close_reason, transport_problem
from models.errors import Conflict
from resolvers.core.context import RequestContext
from schema.core.errors import coded
from schema.core.shared_events import (
    DirectFeed,
    current_direct_feed,
    open_direct_feed,
    payload_json,
)

BAD_REQUEST = 4400
REFUSED = 4403
INTERNAL = "INTERNAL_SERVER_ERROR"
RAW_SEND = "fidus.raw_send"  # the server's own ASGI send, kept in the WebSocket's scope


def open_connection(context: RequestContext) -> OpenConnection | None:
    connection = context.connection
    return connection if isinstance(connection, OpenConnection) else None


class SessionSocket(abc.ABC):
    """What both protocol handlers share: the open connection is told how to close this
    socket once it is set up, and forgotten when the socket ends."""

    context: RequestContext
    _closed = False

    websocket: AsyncWebSocketAdapter

    @abc.abstractmethod
    async def stop_operations(self, current: "asyncio.Task[Any] | None") -> None:
        """Cancel every operation but ``current`` (which is the caller: it just ends)."""

    async def close_forbidden(self, reason: str) -> None:
        """Stop every operation, then close with 4403; nothing more runs on the socket."""
        if self._closed:
            return
        self._closed = True
        await self.stop_operations(asyncio.current_task())
        await self.websocket.close(code=REFUSED, reason=reason)

    async def bind_connection(self) -> None:
        connection = open_connection(self.context)
        if connection is not None:
            await connection.bind(self.close_forbidden)

    async def handle(self) -> None:
        try:
            await self.serve()
        finally:
            self._closed = True
            connection = open_connection(self.context)
            if connection is not None:
                connection.end()

    async def serve(self) -> None:
        """Receive and answer frames until the socket closes (the library's loop)."""
        await super().handle()  # type: ignore[misc]

    def too_many_operations(self, limit: int) -> GraphQLError:
        """The backstop past ``limit`` operations in flight (subscriptions have their own
        budget: schema.core.streams), coded like every error."""
        refusal = Conflict(f"At most {limit} operations in flight per connection")
        return coded(GraphQLError(refusal.message, original_error=refusal))


class TransportWSHandler(SessionSocket, BaseGraphQLTransportWSHandler[RequestContext, None]):
    """graphql-transport-ws (PROTOCOL.md) with per-operation re-authorization."""

    async def handle_message(self, message: Message) -> None:
        problem = transport_problem(message)
        if problem is not None:
            await self.handle_invalid_message(problem)
            return
        await super().handle_message(message)

    async def handle_invalid_message(self, error_message: str) -> None:
        await self.websocket.close(code=BAD_REQUEST, reason=close_reason(error_message))

    async def handle_connection_init(self, message: ConnectionInitMessage) -> None:
        if message.get("payload") is None:  # PROTOCOL.md: "payload?: ... | null"
            message = {"type": "connection_init", "payload": {}}
        await super().handle_connection_init(message)
        await self.bind_connection()

    async def handle_subscribe(self, message: SubscribeMessage) -> None:
        """As the library's, with a duplicate id's reason cut to fit a close frame and the
        in-flight backstop answered with a coded error."""
        op_id, limit = message["id"], self.max_subscriptions_per_connection
        if self.connection_acknowledged and op_id in self.operations:
            reason = close_reason(f"Subscriber for {op_id} already exists")
            await self.websocket.close(code=4409, reason=reason)
            return
        if self.connection_acknowledged and limit is not None and len(self.operations) >= limit:
            error = self.too_many_operations(limit).formatted
            await self.send_message({"id": op_id, "type": "error", "payload": [error]})
            return
        await super().handle_subscribe(message)

    async def stop_operations(self, current: "asyncio.Task[Any] | None") -> None:
        for operation_id, operation in list(self.operations.items()):
            if operation.task is current:
                self.operations.pop(operation_id, None)
            else:
                await self.cleanup_operation(operation_id)

    async def run_operation(self, operation: Operation[RequestContext, None]) -> None:
        connection = open_connection(self.context)
        if connection is None or not await connection.still_authorized():
            return  # the socket was closed with 4403
        open_direct_feed()  # in this operation's own task (a context variable)
        await super().run_operation(operation)

    async def send_message(self, message: Message) -> None:
        if self._closed:
            return
        with contextlib.suppress(RuntimeError, OSError):  # closed under a late frame
            await super().send_message(message)

    async def _send_result_stream(
        self, operation: Operation[RequestContext, None], result_source: Any
    ) -> None:
        """As Strawberry's, with two shortcuts: a ``next`` frame is the shared payload's
        JSON with this operation's id spliced in, and once a shared-event subscription
        (ticks) has sent its first event, its events are taken straight from their source
        and rendered from the shared cache (no per-subscriber execution or generator
        chain)."""
        prefix = '{"type":"next","id":' + orjson.dumps(operation.id).decode() + ',"payload":'
        feed = current_direct_feed()
        async for result in result_source:
            if isinstance(result, PreExecutionError) or not isinstance(result, ExecutionResult):
                # refusals before execution, incremental frames: Strawberry's own handling
                await super()._send_result_stream(operation, _replay(result, result_source))
                return
            if not await self._send_frame(operation, prefix + payload_json(result) + "}"):
                return
            if feed is not None and feed.ready and not result.errors:
                await self._deliver_directly(operation, prefix, feed)
                return

    async def _handle_pre_execution_error(
        self, operation: Operation[RequestContext, None], result: PreExecutionError
    ) -> None:
        """An ``error`` message for the operation, the socket kept (the library closes it
        with 4400 on a syntax error or an unknown operation name)."""
        assert result.errors
        await operation.send_initial_errors(result.errors)

    async def _deliver_directly(
        self, operation: Operation[RequestContext, None], prefix: str, feed: DirectFeed
    ) -> None:
        assert feed.events is not None and feed.executor is not None and feed.to_event
        events, executor, to_event = feed.events, feed.executor, feed.to_event
        try:
            async for payload in events:
                result = await executor.render(to_event(payload))
                if result.errors:  # from the executor: coded like every other error
                    request_id = self.context.request_id
                    result.errors = [coded(error, request_id) for error in result.errors]
                if not await self._send_frame(operation, prefix + payload_json(result) + "}"):
                    return
        except Exception as exc:  # the source failed: coded (and logged) like any error
            failure = GraphQLError(str(exc), path=[operation.id], original_error=exc)
            error = coded(failure, self.context.request_id).formatted
            payload = orjson.dumps({"data": None, "errors": [error]}).decode()
            await self._send_frame(operation, prefix + payload + "}")
        finally:
            with contextlib.suppress(Exception):
                await events.aclose()  # type: ignore[attr-defined]

    async def _send_frame(self, operation: Operation[RequestContext, None], frame: str) -> bool:
        """Straight to the server (no per-frame wrappers); False once the socket is gone."""
        if self._closed or operation.completed:
            return False
        try:
            await self._send({"type": "websocket.send", "text": frame})
        except (OSError, WebSocketDisconnect, RuntimeError):
            return False  # the client went away; the receive loop ends the connection
        return True

    @functools.cached_property
    def _send(self) -> Any:
        """The server's own ASGI send (no per-frame wrappers)."""
        return self.websocket.ws.scope[RAW_SEND]  # type: ignore[attr-defined]


async def _replay(first: Any, rest: Any) -> Any:
    """``first`` then the rest of a result stream, for Strawberry's own handling."""
    yield first
    async for result in rest:
        yield result
