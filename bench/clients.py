"""Load-generating subscribers, run in separate processes so the client's CPU is not the
server's: graphql-transport-ws clients of a `ticks` subscription (Fidus or the Node peer),
or clients of the raw relay. Each records how many messages it received and the latency
tick time → receipt. `bench.load` drives the same connections in measured steps."""

import asyncio
import multiprocessing as mp
import socket
import time
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

import orjson
from websockets.asyncio.client import ClientConnection, connect

TICKS = "subscription($s: [String!]!) { ticks(symbols: $s) { symbol time bid ask } }"
SAMPLE_EVERY = 5  # keep one latency sample in 5


@dataclass(frozen=True)
class Plan:
    kind: str  # "relay", or a GraphQL server ("fidus", "node")
    ws_url: str
    token: str
    channel_prefix: str  # relay: Redis channel of a symbol = prefix + symbol
    subscriptions: list[list[str]]  # the symbols of each subscription
    per_connection: int  # subscriptions sharing one WebSocket (GraphQL)
    stall: bool = False  # subscribe, then never read
    queries: tuple[str, ...] = ()  # GraphQL: each subscription's document (default TICKS)


def latency_ms(now_ms: float, message: dict[str, Any], kind: str) -> float | None:
    """Tick time → ``now_ms``; None when the subscription did not select ``time``."""
    if kind == "relay":
        return now_ms - float(message["time_msc"])
    stamp = message["payload"]["data"]["ticks"].get("time")
    return None if stamp is None else now_ms - datetime.fromisoformat(stamp).timestamp() * 1000


STALLED_RCVBUF = 4096


def _socket_options(plan: Plan) -> dict[str, Any]:
    """A stalled client's socket gets a small receive buffer and frame queue: what it
    leaves unread piles up on the server's side (in Linux's send buffer, which grows to a
    few MiB, then in the server itself)."""
    if not plan.stall:
        return {"max_size": 2**20}
    url = urlsplit(plan.ws_url)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, STALLED_RCVBUF)
    sock.connect((url.hostname or "127.0.0.1", url.port or 80))  # loopback: immediate
    sock.setblocking(False)
    return {"max_size": 2**20, "max_queue": 1, "sock": sock}


async def graphql_connection(
    plan: Plan, subs: list[list[str]], queries: list[str] | None = None
) -> ClientConnection:
    """One graphql-transport-ws connection carrying ``subs`` (``queries[i]`` or TICKS each)."""
    ws = await connect(
        plan.ws_url,
        subprotocols=["graphql-transport-ws"],  # type: ignore[list-item]
        **_socket_options(plan),
    )
    await ws.send(
        orjson.dumps(
            {"type": "connection_init", "payload": {"authorization": f"Bearer {plan.token}"}}
        ).decode()
    )
    ack = orjson.loads(await ws.recv())
    assert ack["type"] == "connection_ack", ack
    for index, symbols in enumerate(subs):
        await ws.send(
            orjson.dumps(
                {
                    "id": str(index),
                    "type": "subscribe",
                    "payload": {
                        "query": queries[index] if queries else TICKS,
                        "variables": {"s": symbols},
                    },
                }
            ).decode()
        )
    return ws


async def relay_connection(plan: Plan, symbols: list[str]) -> ClientConnection:
    ws = await connect(plan.ws_url, **_socket_options(plan))
    await ws.send(orjson.dumps({"channels": [plan.channel_prefix + s for s in symbols]}).decode())
    return ws


async def open_sockets(plan: Plan) -> list[ClientConnection]:
    """The plan's WebSockets: ``per_connection`` subscriptions each (GraphQL), or one per
    subscription (relay)."""
    if plan.kind == "relay":
        return [await relay_connection(plan, subs) for subs in plan.subscriptions]
    step = plan.per_connection
    return [
        await graphql_connection(
            plan,
            plan.subscriptions[i : i + step],
            list(plan.queries[i : i + step]) if plan.queries else None,
        )
        for i in range(0, len(plan.subscriptions), step)
    ]


async def _run(plan: Plan, ready: Any, stop: Any, results: Any) -> None:
    sockets = await open_sockets(plan)
    received = 0
    samples: list[float] = []

    async def read(ws: ClientConnection) -> None:
        nonlocal received
        async for raw in ws:
            message = orjson.loads(raw)
            if plan.kind != "relay" and message.get("type") != "next":
                if message.get("type") == "error":
                    raise RuntimeError(message)
                continue
            received += 1
            if received % SAMPLE_EVERY == 0:
                latency = latency_ms(time.time() * 1000, message, plan.kind)
                if latency is not None:
                    samples.append(latency)

    readers = [] if plan.stall else [asyncio.create_task(read(ws)) for ws in sockets]
    await asyncio.sleep(0.5)
    ready.set()
    while not stop.is_set():
        await asyncio.sleep(0.05)
        for task in readers:
            if task.done():
                task.result()  # a failed reader fails the run
    results.put({"received": received, "samples": samples, "connections": len(sockets)})
    for task in readers:
        task.cancel()
    for ws in sockets:
        await ws.close()


def _process(plan: Plan, ready: Any, stop: Any, results: Any) -> None:
    asyncio.run(_run(plan, ready, stop, results))


def share(plan: Plan, index: int, processes: int) -> Plan:
    """The ``index``-th of ``processes`` interleaved shares of ``plan``'s subscriptions."""
    return replace(
        plan,
        subscriptions=plan.subscriptions[index::processes],
        queries=plan.queries[index::processes],
    )


class Subscribers:
    """``processes`` client processes sharing ``plan``'s subscriptions."""

    def __init__(self, plan: Plan, processes: int) -> None:
        ctx = mp.get_context("spawn")
        self.stop = ctx.Event()
        self.results: Any = ctx.Queue()
        self.readies = []
        self.procs = []
        for index in range(processes):
            part = share(plan, index, processes)
            ready = ctx.Event()
            proc = ctx.Process(target=_process, args=(part, ready, self.stop, self.results))
            proc.start()
            self.readies.append(ready)
            self.procs.append(proc)

    def wait_ready(self, within: float = 120) -> None:
        deadline = time.monotonic() + within
        for ready, proc in zip(self.readies, self.procs, strict=True):
            while not ready.wait(0.2):
                if not proc.is_alive() or time.monotonic() > deadline:
                    raise RuntimeError("a subscriber process failed to connect")

    def finish(self) -> dict[str, Any]:
        self.stop.set()
        parts = [self.results.get(timeout=60) for _ in self.procs]
        for proc in self.procs:
            proc.join(30)
        return {
            "received": sum(p["received"] for p in parts),
            "samples": [s for p in parts for s in p["samples"]],
            "connections": sum(p["connections"] for p in parts),
        }
