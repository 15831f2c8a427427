"""A TCP proxy in the test's event loop, to cut one client's connections to a server that
stays up (the client sees what a server restart looks like; the others see nothing)."""

import asyncio
import contextlib
from collections.abc import Callable


class TcpProxy:
    def __init__(self, port: int, host: str = "127.0.0.1") -> None:
        self._target = (host, port)
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self._open = True
        self.port = 0
        self.latency = 0.0  # seconds each answer of the server takes to reach the client

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    def cut(self) -> None:
        """Drop every connection, and refuse new ones until ``restore``."""
        self._open = False
        for writer in list(self._writers):
            writer.transport.abort()

    def restore(self) -> None:
        self._open = True

    async def stop(self) -> None:
        self.cut()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if not self._open:
            writer.transport.abort()
            return
        try:
            upstream_reader, upstream = await asyncio.open_connection(*self._target)
        except OSError:
            writer.transport.abort()
            return
        self._writers |= {writer, upstream}
        try:
            await asyncio.gather(
                _pipe(reader, upstream, lambda: 0.0), _pipe(upstream_reader, writer, self._delay)
            )
        finally:
            self._writers -= {writer, upstream}
            writer.transport.abort()
            upstream.transport.abort()

    def _delay(self) -> float:
        return self.latency


async def _pipe(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, delay: Callable[[], float]
) -> None:
    with contextlib.suppress(ConnectionError):
        while data := await reader.read(65536):
            if seconds := delay():
                await asyncio.sleep(seconds)
            writer.write(data)
            await writer.drain()
    writer.transport.abort()
