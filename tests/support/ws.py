"""WebSocket clients for tests: a raw graphql-transport-ws (or legacy graphql-ws) client
over the real ``websockets`` library, frame by frame, so tests see exactly what the server
sends and how it closes; and the gql client's transport, for subscriptions as apps run them."""

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from typing import Any

import websockets
from gql import Client
from gql.transport.websockets import WebsocketsTransport
from websockets.exceptions import ConnectionClosed

PROTOCOL = "graphql-transport-ws"
LEGACY = "graphql-ws"


def ws_url(base_url: str) -> str:
    return base_url.replace("http://", "ws://") + "/graphql"


def transport(base_url: str, token: str | None, legacy: bool = False) -> WebsocketsTransport:
    """The gql client's WebSocket transport (graphql-transport-ws, or legacy graphql-ws),
    signed in with ``token`` in ``connection_init``."""
    payload = {"authorization": f"Bearer {token}"} if token else {}
    subprotocols = [
        WebsocketsTransport.APOLLO_SUBPROTOCOL
        if legacy
        else WebsocketsTransport.GRAPHQLWS_SUBPROTOCOL
    ]
    return WebsocketsTransport(
        url=ws_url(base_url), init_payload=payload, subprotocols=subprotocols, connect_timeout=5
    )


class Socket:
    def __init__(self, connection: Any) -> None:
        self.connection = connection
        self.frames: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self._reader = asyncio.create_task(self._read())

    @classmethod
    async def open(
        cls,
        base_url: str,
        token: str | None,
        *,
        headers: dict[str, str] | None = None,
        subprotocol: str = PROTOCOL,
        **params: Any,
    ) -> "Socket":
        """Connected and acknowledged (AssertionError with the close code otherwise);
        ``headers`` go on the HTTP upgrade request."""
        connection = await websockets.connect(
            ws_url(base_url), subprotocols=[subprotocol], max_size=None, additional_headers=headers
        )
        socket = cls(connection)
        payload = {"authorization": f"Bearer {token}"} if token else {}
        await socket.send({"type": "connection_init", "payload": {**payload, **params}})
        ack = await socket.next(5)
        assert ack["type"] == "connection_ack", ack
        return socket

    async def _read(self) -> None:
        with contextlib.suppress(ConnectionClosed):
            async for text in self.connection:
                frame = json.loads(text)
                if frame.get("type") != "ka":  # legacy graphql-ws keep-alive
                    await self.frames.put(frame)

    async def send(self, message: dict[str, Any]) -> None:
        await self.connection.send(json.dumps(message))

    async def send_raw(self, frame: str | bytes) -> None:
        """A frame as it is: text, or binary for bytes."""
        await self.connection.send(frame)

    async def subscribe(self, op_id: str, query: str, variables: dict[str, Any] | None = None):
        await self.send(
            {"id": op_id, "type": "subscribe", "payload": {"query": query, "variables": variables}}
        )

    async def next(self, within: float = 5.0) -> dict[str, Any]:
        getter = asyncio.ensure_future(self.frames.get())
        done, _ = await asyncio.wait(
            {getter, self._reader}, timeout=within, return_when="FIRST_COMPLETED"
        )
        if getter in done:
            return getter.result()
        getter.cancel()
        if self._reader in done:
            raise AssertionError(
                f"closed {self.connection.close_code} {self.connection.close_reason}"
            )
        raise TimeoutError("no frame")

    async def result_of(self, op_id: str, query: str, variables=None, within=5.0):
        """Run a query or mutation over the socket: its ``next`` payload (or ``error``)."""
        await self.subscribe(op_id, query, variables)
        while True:
            frame = await self.next(within)
            if frame.get("id") == op_id and frame["type"] in ("next", "error"):
                return frame

    async def closed_with(self, within: float) -> tuple[int | None, str | None]:
        """Wait for the server's close frame: its code and reason."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.shield(self._reader), within)
        assert self._reader.done(), f"still open after {within} s"
        return self.connection.close_code, self.connection.close_reason

    async def close(self) -> None:
        await self.connection.close()
        self._reader.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._reader


@contextlib.asynccontextmanager
async def streaming(
    base_url: str, token: str, document: Any, variables: dict[str, Any] | None = None
) -> AsyncIterator[asyncio.Queue[Any]]:
    """A running subscription through the gql client; yields the queue its events (the
    root field's value) arrive on."""
    received: asyncio.Queue[Any] = asyncio.Queue()
    async with Client(transport=transport(base_url, token)) as session:

        async def consume() -> None:
            async for result in session.subscribe(document, variable_values=variables):
                await received.put(next(iter(result.values())))

        task = asyncio.create_task(consume())
        try:
            yield received
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
