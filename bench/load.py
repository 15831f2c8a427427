"""Subscribers driven in measured steps. Client processes (spawned, on uvloop) open their
connections once; the parent then repeats reset → publish → wait for the count to settle
→ collect, so one set of connections serves every rate of a saturation ladder.

Readers are kept cheap so the load generator is not what saturates: a message is counted
by a substring test, and only one in ``SAMPLE_EVERY`` is parsed for its latency."""

import asyncio
import contextlib
import multiprocessing as mp
import time
from multiprocessing.connection import Connection
from pathlib import Path
from types import TracebackType
from typing import Any

import orjson
import psutil
import uvloop
from websockets.asyncio.client import ClientConnection

from bench.clients import Plan, latency_ms, open_sockets, share

SAMPLE_EVERY = 4


class _Counter:
    def __init__(self, kind: str) -> None:
        self.kind = kind
        self.received = 0
        self.samples: list[float] = []

    def reset(self) -> None:
        self.received, self.samples = 0, []

    async def read(self, ws: ClientConnection) -> None:
        graphql = self.kind != "relay"
        async for raw in ws:
            if graphql and '"next"' not in raw:
                if '"error"' in raw or '"complete"' in raw:
                    raise RuntimeError(f"subscription ended: {raw!r}")
                continue
            self.received += 1
            if self.received % SAMPLE_EVERY == 0:
                latency = latency_ms(time.time() * 1000, orjson.loads(raw), self.kind)
                if latency is not None:
                    self.samples.append(latency)


async def _serve(plan: Plan, conn: Connection) -> None:
    sockets = await open_sockets(plan)
    counter = _Counter(plan.kind)
    readers = [] if plan.stall else [asyncio.create_task(counter.read(ws)) for ws in sockets]
    await asyncio.sleep(0.3)  # subscribe messages reach the server before "ready"
    conn.send("ready")
    while True:
        command = await asyncio.to_thread(conn.recv)  # the pipe stays blocking for send
        failed = [task for task in readers if task.done()]
        if failed:
            conn.send({"error": repr(failed[0].exception() or "reader stopped")})
            break
        if command == "reset":
            counter.reset()
            conn.send(None)
        elif command == "count":
            conn.send(counter.received)
        elif command == "collect":
            conn.send({"received": counter.received, "samples": counter.samples})
        else:  # stop
            break
    for task in readers:
        task.cancel()
    for ws in sockets:
        ws.transport.abort()


def _process(plan: Plan, conn: Connection) -> None:
    uvloop.run(_serve(plan, conn))


class Load:
    """``plan``'s subscriptions shared among ``processes`` client processes."""

    def __init__(self, plan: Plan, processes: int) -> None:
        ctx = mp.get_context("spawn")
        self.pipes: list[Connection] = []
        self.procs: list[Any] = []
        for index in range(min(processes, len(plan.subscriptions))):
            parent, child = ctx.Pipe()
            proc = ctx.Process(target=_process, args=(share(plan, index, processes), child))
            proc.start()
            self.pipes.append(parent)
            self.procs.append(proc)
        self.ps = [psutil.Process(proc.pid) for proc in self.procs]

    def __enter__(self) -> "Load":
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def wait_ready(self, within: float = 120) -> None:
        deadline = time.monotonic() + within
        for pipe, proc in zip(self.pipes, self.procs, strict=True):
            while not pipe.poll(0.2):
                if not proc.is_alive() or time.monotonic() > deadline:
                    raise RuntimeError("a subscriber process failed to connect")
            assert pipe.recv() == "ready"

    def _ask(self, command: str) -> list[Any]:
        for pipe in self.pipes:
            pipe.send(command)
        answers = []
        for pipe in self.pipes:
            if not pipe.poll(30):
                raise RuntimeError(f"a subscriber process did not answer {command!r}")
            answer = pipe.recv()
            if isinstance(answer, dict) and "error" in answer:
                raise RuntimeError(answer["error"])
            answers.append(answer)
        return answers

    def reset(self) -> None:
        self._ask("reset")

    def count(self) -> int:
        return sum(self._ask("count"))

    def collect(self) -> tuple[int, list[float]]:
        """Messages received since the last reset, and the latency samples (ms)."""
        parts = self._ask("collect")
        return sum(p["received"] for p in parts), [s for p in parts for s in p["samples"]]

    def kernel_backlog(self) -> int:
        """Bytes sent to this load's connections and not read yet: the server side's send
        queues plus the client side's receive queues (/proc/net/tcp, Linux)."""
        pairs: set[tuple[int, int]] = set()
        for ps in self.ps:
            for conn in ps.net_connections(kind="tcp4"):
                if conn.raddr:
                    pairs.add((conn.laddr.port, conn.raddr.port))
        total = 0
        with contextlib.suppress(OSError):
            for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
                fields = line.split()
                local, remote = (int(f.rsplit(":", 1)[1], 16) for f in fields[1:3])
                tx, rx = (int(q, 16) for q in fields[4].split(":"))
                if (local, remote) in pairs:
                    total += rx
                elif (remote, local) in pairs:
                    total += tx
        return total

    def cpu_seconds(self) -> float:
        return sum(float(t.user + t.system) for t in (ps.cpu_times() for ps in self.ps))

    def close(self) -> None:
        for pipe, proc in zip(self.pipes, self.procs, strict=True):
            if proc.is_alive():
                with contextlib.suppress(OSError):
                    pipe.send("stop")
        for proc in self.procs:
            proc.join(10)
            if proc.is_alive():
                proc.kill()
