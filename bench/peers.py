"""The three servers of the fan-out benchmark, each started on its own when its turn comes:
Fidus (`fidus serve`, one uvicorn worker), the raw relay (`bench/relay.py`) and the plain
Node peer (`bench/baselines/node`). Each is a `Peer`: where clients connect, the protocol
they speak, and the server's process for its CPU time."""

import contextlib
import hashlib
import os
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass

import psutil
from pymongo import MongoClient

from bench.harness import ROOT, Backends, Server, admin_token, fidus, serving, uvicorn_app

NODE_PEER = ROOT / "bench" / "baselines" / "node"
SERVERS = ("fidus", "relay", "node")


@dataclass(frozen=True)
class Peer:
    name: str  # one of SERVERS; "relay" speaks the relay protocol, the others GraphQL
    ws_url: str
    token: str
    server: Server

    def cpu_seconds(self) -> float:
        """User + system CPU of the server process and any children."""
        total = self.server.cpu_seconds()
        for child in self.server.ps.children(recursive=True):
            with contextlib.suppress(psutil.NoSuchProcess):
                times = child.cpu_times()
                total += float(times.user + times.system)
        return total


def channel_prefix(backends: Backends, db: str) -> str:
    """Fidus's tick channel prefix for the bootstrapped tenant: ``<db>:ticks:<tenant>:``."""
    tenant = MongoClient(backends.mongodb_url)[db]["tenants"].find_one({"slug": "bench"})
    assert tenant is not None, "Fidus has not bootstrapped its tenant"
    return f"{db}:ticks:{tenant['_id']}:"


def ensure_node_peer() -> None:
    """`npm ci` the Node peer unless node_modules came from its lockfile (as
    scripts/node-setup does, with the same stamp)."""
    wanted = hashlib.sha256((NODE_PEER / "package-lock.json").read_bytes()).hexdigest()
    stamp = NODE_PEER / "node_modules" / ".fidus-lockfile"
    if stamp.exists() and stamp.read_text().strip() == wanted:
        return
    subprocess.run(
        ["npm", "ci", "--no-audit", "--no-fund", "--prefer-offline", "--loglevel=error"],
        cwd=NODE_PEER,
        check=True,
    )
    stamp.write_text(wanted + "\n")


def node_server(redis_url: str, prefix: str) -> contextlib.AbstractContextManager[Server]:
    ensure_node_peer()
    return serving(
        ["node", str(NODE_PEER / "server.mjs")],
        {**os.environ, "REDIS_URL": redis_url, "CHANNEL_PREFIX": prefix, "PORT": "{port}"},
        NODE_PEER,
    )


@contextlib.contextmanager
def peer(name: str, backends: Backends, db: str, prefix: str) -> Iterator[Peer]:
    """Start server ``name``; Fidus must have run once on ``db`` for ``prefix`` to exist.
    Stopping waits only briefly: the relay's handlers, blocked on their queues, would hold
    uvicorn's graceful shutdown for the full grace period."""
    if name == "fidus":
        with fidus(backends, db, max_subscriptions_per_connection="50") as server:
            server.grace = 3
            ws = server.url.replace("http", "ws") + "/graphql"
            yield Peer(name, ws, admin_token(server.url), server)
    elif name == "relay":
        with uvicorn_app("bench.relay:app", {"REDIS_URL": backends.redis_url}) as server:
            server.grace = 3
            yield Peer(name, server.url.replace("http", "ws") + "/ws", "", server)
    else:
        with node_server(backends.redis_url, prefix) as server:
            server.grace = 3
            yield Peer(name, server.url.replace("http", "ws") + "/graphql", "", server)
