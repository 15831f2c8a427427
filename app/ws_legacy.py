"""Legacy ``graphql-ws`` (subscriptions-transport-ws), as its PROTOCOL.md describes it, on
Strawberry's handler, re-authorized like graphql-transport-ws (``app.ws_transport``).

- ``start`` runs any operation: a query or mutation answers ``data`` then ``complete``.
- A frame that is no message of the protocol (not JSON text, not an object, no known
  ``type``, no ``id``) is answered with ``connection_error`` and ignored; a ``start`` whose
  payload is wrong, or whose document is (syntax, validation), with ``error`` for its id.
  The socket stays open either way; every error payload carries ``extensions.code``."""

import asyncio
import contextlib
from json import JSONDecodeError
from typing import Any

from starlette.websockets import WebSocket, WebSocketState
from strawberry.http.exceptions import WebSocketDisconnected
from strawberry.subscriptions.protocols.graphql_ws.handlers import BaseGraphQLWSHandler
from strawberry.subscriptions.protocols.graphql_ws.types import (
    ConnectionInitMessage,
    OperationMessage,
    StartMessage,
)
from strawberry.types.execution import ExecutionResult, PreExecutionError

from app.ws_frames import legacy_problem
from app.ws_transport import REFUSED, SessionSocket, open_connection
from resolvers.core.context import RequestContext

BAD_USER_INPUT = {"code": "BAD_USER_INPUT"}


class LegacyWSHandler(SessionSocket, BaseGraphQLWSHandler[RequestContext, None]):
    """A refused connection closes with 4403 after its ``connection_error``, like
    graphql-transport-ws (the library: 1011)."""

    async def serve(self) -> None:
        """The library's loop, except that a frame which is not JSON text is answered, not
        ignored (invalid JSON) or closed on (binary)."""
        ws: WebSocket = self.websocket.ws  # type: ignore[attr-defined]
        try:
            while ws.application_state != WebSocketState.DISCONNECTED:
                received = await ws.receive()
                if received["type"] == "websocket.disconnect":
                    return
                text = received.get("text")
                if text is None:
                    await self.refuse_frame(None, "A message must be a text frame")
                    continue
                try:
                    message = self.view.decode_json(text)
                except JSONDecodeError:
                    await self.refuse_frame(None, "A message must be valid JSON")
                    continue
                await self.handle_message(message)  # type: ignore[arg-type]
        except WebSocketDisconnected:  # the client left while a frame was being sent
            pass
        finally:
            if self.keep_alive_task is not None:
                self.keep_alive_task.cancel()
                with contextlib.suppress(asyncio.CancelledError, WebSocketDisconnected):
                    await self.keep_alive_task
            await self.cleanup()

    async def refuse_frame(self, op_id: str | None, problem: str) -> None:
        """``error`` for the operation ``op_id``, else ``connection_error``."""
        error = {"message": problem, "extensions": BAD_USER_INPUT}
        if op_id is None:
            await self.send_message({"type": "connection_error", "payload": error})
        else:
            await self.send_message({"type": "error", "id": op_id, "payload": error})

    async def handle_message(self, message: OperationMessage) -> None:
        problem = legacy_problem(message)
        if problem is not None:
            await self.refuse_frame(*problem)
            return
        await super().handle_message(message)

    async def handle_connection_init(self, message: ConnectionInitMessage) -> None:
        if self.connection_acknowledged:  # one session per socket, as graphql-transport-ws
            await self.websocket.close(code=4429, reason="Too many initialisation requests")
            return
        close = self.websocket.close

        async def close_refused_as_forbidden(code: int, reason: str) -> None:
            await close(REFUSED, "Forbidden") if code == 1011 else await close(code, reason)

        self.websocket.close = close_refused_as_forbidden  # type: ignore[method-assign]
        try:
            await super().handle_connection_init(message)
        finally:
            self.websocket.close = close  # type: ignore[method-assign]
        await self.bind_connection()

    async def handle_start(self, message: StartMessage) -> None:
        """As the library's, with the in-flight backstop answered with a coded error."""
        op_id, limit = message["id"], self.max_subscriptions_per_connection
        others = len(self.tasks) - (op_id in self.tasks)  # a repeated id replaces its own
        if self.connection_acknowledged and limit is not None and others >= limit:
            error = self.too_many_operations(limit).formatted
            await self.send_message({"type": "error", "id": op_id, "payload": error})
            return
        await super().handle_start(message)

    async def stop_operations(self, current: "asyncio.Task[Any] | None") -> None:
        if self.keep_alive_task is not None:
            self.keep_alive_task.cancel()
        for operation_id, task in list(self.tasks.items()):
            if task is current:
                self.tasks.pop(operation_id, None)
            else:
                await self.cleanup_operation(operation_id)

    async def handle_async_results(
        self,
        operation_id: str,
        query: str,
        operation_name: str | None,
        variables: dict[str, object] | None,
    ) -> None:
        """As the library's, but for any operation (``schema.stream``; the library runs
        subscriptions only), each first re-authorized."""
        connection = open_connection(self.context)
        if connection is None or not await connection.still_authorized():
            return
        try:
            source = await self.schema.stream(
                query,
                variable_values=variables,
                context_value=self.context,
                root_value=self.root_value,
                operation_name=operation_name,
            )
            self.subscriptions[operation_id] = source
            async for result in source:
                if isinstance(result, PreExecutionError):
                    assert result.errors
                    error = result.errors[0].formatted
                    await self.send_message({"type": "error", "id": operation_id, "payload": error})
                    return
                if not isinstance(result, ExecutionResult):
                    await self.refuse_frame(operation_id, "Incremental delivery is not supported")
                    return
                await self.send_data_message(result, operation_id)
            await self.send_message({"type": "complete", "id": operation_id})
        except asyncio.CancelledError:  # stopped by the client
            await self.send_message({"type": "complete", "id": operation_id})
        finally:
            self.subscriptions.pop(operation_id, None)
            self.tasks.pop(operation_id, None)

    async def send_message(self, message: Any) -> None:
        if self._closed:
            return
        with contextlib.suppress(RuntimeError, OSError):  # closed under a late frame
            await super().send_message(message)
