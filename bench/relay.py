"""Baseline for the tick fan-out: the least a hand-built relay does — a Starlette WebSocket
endpoint forwarding Redis pub/sub messages as JSON, no GraphQL, no auth. One Redis
subscription per channel for the process, fanned out to per-connection queues.

Client protocol: send ``{"channels": [...]}``, then receive each message's JSON text."""

import asyncio
import contextlib
import os
from collections import defaultdict
from collections.abc import AsyncIterator

import orjson
from redis import asyncio as aioredis
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
subscribers: dict[str, set[asyncio.Queue[str]]] = defaultdict(set)
state: dict[str, aioredis.client.PubSub] = {}


async def pump(pubsub: aioredis.client.PubSub) -> None:
    while True:
        message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=1.0)
        if message is None:
            continue
        text = message["data"].decode()
        for queue in subscribers.get(message["channel"].decode(), ()):
            queue.put_nowait(text)


async def relay(websocket: WebSocket) -> None:
    await websocket.accept()
    channels = orjson.loads(await websocket.receive_text())["channels"]
    queue: asyncio.Queue[str] = asyncio.Queue()
    for channel in channels:
        if not subscribers[channel]:
            await state["pubsub"].subscribe(channel)
        subscribers[channel].add(queue)
    try:
        while True:
            await websocket.send_text(await queue.get())
    except (WebSocketDisconnect, RuntimeError, OSError):  # the client went away
        return
    finally:
        for channel in channels:
            subscribers[channel].discard(queue)


async def ready(request: Request) -> JSONResponse:
    return JSONResponse({"status": "ready"})


@contextlib.asynccontextmanager
async def lifespan(app: Starlette) -> AsyncIterator[None]:
    client = aioredis.from_url(REDIS_URL)
    pubsub = client.pubsub()
    await pubsub.subscribe("relay:noop")  # the pump needs a live subscription to poll
    state["pubsub"] = pubsub
    task = asyncio.create_task(pump(pubsub))
    yield
    task.cancel()
    await client.aclose()


app = Starlette(
    routes=[Route("/health/ready", ready), WebSocketRoute("/ws", relay)], lifespan=lifespan
)
