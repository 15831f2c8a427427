"""A real partner receiver (Starlette under uvicorn on a free loopback port) that checks
every delivery's signature with the secret createWebhook returned, and webhook settings
small enough for tests (loopback allowed, short timeout, fast retries)."""

import asyncio
import dataclasses
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import orjson
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from resolvers.webhooks.secrets import verify
from tests.support.api import Api
from tests.support.servers import live_server

Step = int | tuple[float, int]  # a status code, or (seconds to stall first, status code)


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    verified: bool

    @property
    def json(self) -> dict[str, Any]:
        parsed: dict[str, Any] = orjson.loads(self.body)
        return parsed


@dataclass
class Receiver:
    """Answers each path with its scripted steps in turn, then 200."""

    url: str = ""
    secrets: dict[str, str] = field(default_factory=dict)  # path → signing secret
    scripts: dict[str, list[Step]] = field(default_factory=dict)
    received: list[Received] = field(default_factory=list)

    def at(self, path: str) -> list[Received]:
        return [r for r in self.received if r.path == path]

    async def handle(self, request: Request) -> Response:
        body = await request.body()
        path = request.url.path
        secret = self.secrets.get(path, "")
        headers = {k.lower(): v for k, v in request.headers.items()}
        verified = bool(secret) and verify(
            secret,
            headers.get("x-fidus-timestamp", ""),
            body,
            headers.get("x-fidus-signature", ""),
        )
        step: Step = 200
        if self.scripts.get(path):
            step = self.scripts[path].pop(0)
        if isinstance(step, tuple):
            stall, step = step
            await asyncio.sleep(stall)
        self.received.append(Received(path, headers, body, verified))
        return Response(status_code=step if verified else 401)


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    hub = Receiver()
    app = Starlette(routes=[Route("/{path:path}", hub.handle, methods=["POST"])])
    async with live_server(app) as url:
        hub.url = url
        yield hub


@pytest.fixture
def hooks(runtime, monkeypatch):
    """Webhook settings for tests: loopback receivers allowed, fast retries. The running
    app's dispatcher reads them on every step."""
    config = dataclasses.replace(
        runtime.services.webhooks,
        allow_loopback=True,
        timeout=0.5,
        max_attempts=4,
        retry_base=0.05,
        retry_max=0.2,
        lease=3.0,
        poll=0.2,
        idle_poll=0.5,
    )
    monkeypatch.setattr(runtime.services, "webhooks", config)
    return config


async def eventually(check: Callable[[], Awaitable[Any]], within: float = 20.0) -> Any:
    """Poll ``check`` until it returns something other than None (or fail after ``within`` s)."""
    deadline = asyncio.get_running_loop().time() + within
    while True:
        result = await check()
        if result is not None:
            return result
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.05)


CREATE = """mutation($i: CreateWebhookInput!) { createWebhook(input: $i) {
  id url eventTypes description enabled secret } }"""
SEND_TEST = "mutation($id: ID!) { sendTestWebhook(id: $id) { id eventType status attemptCount } }"
DELIVERIES = """query($id: ID!, $first: Int, $after: String) {
  webhookDeliveries(webhookId: $id, first: $first, after: $after) {
    edges { cursor node { id eventId eventType status attemptCount lastStatusCode lastError
      nextAttemptAt deliveredAt attempts { number statusCode error durationMs } } }
    pageInfo { hasNextPage endCursor } } }"""


async def register(
    api: Api,
    admin: Any,
    receiver: Receiver,
    path: str = "/hook",
    types: tuple[str, ...] = ("INVESTMENT_CREATED", "REDEMPTION_DECIDED"),
) -> dict[str, Any]:
    """Register the receiver's ``path``; the receiver learns the returned secret."""
    result = await api.gql(
        CREATE,
        {"i": {"url": receiver.url + path, "eventTypes": list(types), "description": "partner"}},
        token=admin.token,
    )
    webhook: dict[str, Any] = result.ok()["createWebhook"]
    receiver.secrets[path] = webhook["secret"]
    return webhook


async def delivery_log(api: Api, admin: Any, webhook_id: str) -> list[dict[str, Any]]:
    result = await api.gql(DELIVERIES, {"id": webhook_id, "first": 100}, token=admin.token)
    return [edge["node"] for edge in result.ok()["webhookDeliveries"]["edges"]]


async def settled(api: Api, admin: Any, webhook_id: str, count: int = 1) -> list[dict[str, Any]]:
    """The delivery log once ``count`` deliveries reached a final status."""

    async def check() -> list[dict[str, Any]] | None:
        log = await delivery_log(api, admin, webhook_id)
        done = [d for d in log if d["status"] in ("DELIVERED", "FAILED", "CANCELLED")]
        return log if len(done) >= count else None

    found: list[dict[str, Any]] = await eventually(check)
    return found


async def send_test(api: Api, admin: Any, webhook_id: str) -> dict[str, Any]:
    """sendTestWebhook as ``admin``: the test delivery."""
    sent: dict[str, Any] = (await api.gql(SEND_TEST, {"id": webhook_id}, token=admin.token)).ok()[
        "sendTestWebhook"
    ]
    return sent
