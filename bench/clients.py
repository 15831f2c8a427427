"""Load-generating subscribers, run in separate processes so the client's CPU is not the
server's: graphql-transport-ws clients of Fidus's `ticks`, or clients of the raw relay.
Each records how many messages it received and the latency tick time → receipt."""

import asyncio
import multiprocessing as mp
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
from websockets.asyncio.client import ClientConnection, connect

TICKS = "subscription($s: [String!]!) { ticks(symbols: $s) { symbol time bid ask } }"
SAMPLE_EVERY = 5  # keep one latency sample in 5


@dataclass(frozen=True)
class Plan:
    kind: str  # "fidus" or "relay"
    ws_url: str
    token: str
    channel_prefix: str  # relay: Redis channel of a symbol = prefix + symbol
    subscriptions: list[list[str]]  # the symbols of each subscription
    per_connection: int  # subscriptions sharing one WebSocket (fidus)
    stall: bool = False  # subscribe, then never read


def _latency_ms(now_ms: float, message: dict[str, Any], kind: str) -> float:
    if kind == "relay":
        return now_ms - float(message["time_msc"])
    stamp = datetime.fromisoformat(message["payload"]["data"]["ticks"]["time"])
    return now_ms - stamp.timestamp() * 1000


async def _fidus_connection(plan: Plan, subs: list[list[str]]) -> ClientConnection:
    ws = await connect(plan.ws_url, subprotocols=["graphql-transport-ws"], max_size=2**20)  # type: ignore[list-item]
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
                    "payload": {"query": TICKS, "variables": {"s": symbols}},
                }
            ).decode()
        )
    return ws


async def _relay_connection(plan: Plan, symbols: list[str]) -> ClientConnection:
    ws = await connect(plan.ws_url, max_size=2**20)
    await ws.send(orjson.dumps({"channels": [plan.channel_prefix + s for s in symbols]}).decode())
    return ws


async def _run(plan: Plan, ready: Any, stop: Any, results: Any) -> None:
    if plan.kind == "fidus":
        groups = [
            plan.subscriptions[i : i + plan.per_connection]
            for i in range(0, len(plan.subscriptions), plan.per_connection)
        ]
        sockets = [await _fidus_connection(plan, group) for group in groups]
    else:
        sockets = [await _relay_connection(plan, subs) for subs in plan.subscriptions]
    received = 0
    samples: list[float] = []

    async def read(ws: ClientConnection) -> None:
        nonlocal received
        async for raw in ws:
            message = orjson.loads(raw)
            if plan.kind == "fidus" and message.get("type") != "next":
                if message.get("type") == "error":
                    raise RuntimeError(message)
                continue
            received += 1
            if received % SAMPLE_EVERY == 0:
                samples.append(_latency_ms(time.time() * 1000, message, plan.kind))

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


class Subscribers:
    """``processes`` client processes sharing ``plan``'s subscriptions."""

    def __init__(self, plan: Plan, processes: int) -> None:
        ctx = mp.get_context("spawn")
        self.stop = ctx.Event()
        self.results: Any = ctx.Queue()
        self.readies = []
        self.procs = []
        for index in range(processes):
            part = Plan(**{**plan.__dict__, "subscriptions": plan.subscriptions[index::processes]})
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
