"""What a process missed while its Redis pub/sub connection was lost reaches its
subscribers once the connection is back. A second endpoint over the session's services has
a broker of its own that reaches Redis through a proxy; the test cuts that proxy (to this
broker it looks like a Redis restart) while the session's app, its valuation worker
included, stays connected and goes on publishing."""

import asyncio
import contextlib
import dataclasses
import uuid
from collections.abc import AsyncIterator, Awaitable
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import urlparse

import pytest
from gql import gql
from starlette.applications import Starlette
from starlette.routing import Route, WebSocketRoute

from app.connections import Connections
from app.graphql_view import FidusGraphQL
from app.runtime import Runtime, open_broker
from schema import build_schema
from subscriptions.broker import Broker
from subscriptions.redis_backend import redis_client
from subscriptions.sessions import SESSIONS_TOPIC
from tests.crm.support import CHANGES, MOVE, create_prospect
from tests.support.messaging import CATCH_UP, conversation_between, newest_cursor, send
from tests.support.opportunities import PUBLISH, PUBLISHED, create
from tests.support.portfolios import default_portfolio_id, record
from tests.support.servers import live_server
from tests.support.tcp_proxy import TcpProxy
from tests.support.ws import Socket, streaming

T = TypeVar("T")
UPDATES = gql("subscription($id: ID!) { portfolioUpdated(portfolioId: $id) { cash reason } }")


@dataclass
class CutOff:
    url: str  # the second endpoint (HTTP and WebSocket)
    proxy: TcpProxy
    broker: Broker

    async def outage(self, during: Awaitable[T]) -> T:
        """Cut this broker off Redis, await ``during`` (the rest of the deployment goes on),
        then let it reconnect."""
        self.proxy.cut()
        try:
            return await during
        finally:
            self.proxy.restore()


@pytest.fixture
async def cut_off(runtime: Runtime, redis_url: str) -> AsyncIterator[CutOff]:
    target = urlparse(redis_url)
    proxy = TcpProxy(target.port or 6379, target.hostname or "127.0.0.1")
    await proxy.start()
    settings = runtime.settings.model_copy(
        update={"redis_url": f"redis://127.0.0.1:{proxy.port}{target.path}"}
    )
    broker = open_broker(settings)  # wired as every process's
    await broker.connect()
    services = dataclasses.replace(runtime.services, broker=broker)
    connections = Connections(  # no periodic re-check: only the broker's news count here
        runtime.access_tokens, services.clock, settings.max_connections_per_user, 3600
    )
    second = dataclasses.replace(runtime, services=services, connections=connections)
    view = FidusGraphQL(
        build_schema(settings.schema_limits()),
        lambda: second,
        graphiql=False,
        max_subscriptions_per_connection=settings.max_subscriptions_per_connection + 10,
        keepalive_seconds=settings.ws_keepalive_seconds,
    )
    app = Starlette(
        routes=[Route("/graphql", view, methods=["POST"]), WebSocketRoute("/graphql", view)]
    )
    app.state.runtime = second
    sockets = asyncio.create_task(connections.run(broker))
    try:
        async with live_server(app) as url:
            yield CutOff(url, proxy, broker)
    finally:
        sockets.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await sockets
        await broker.disconnect()
        await proxy.stop()


async def next_where(queue: asyncio.Queue[Any], accept: Any, within: float = 10) -> Any:
    """The first item ``accept`` takes, skipping others, within ``within`` s."""
    async with asyncio.timeout(within):
        while True:
            item = await queue.get()
            if accept(item):
                return item


async def drain(queue: asyncio.Queue[Any], settle: float = 0.5) -> list[Any]:
    """Everything that arrives until nothing has for ``settle`` s."""
    items = []
    with contextlib.suppress(TimeoutError):
        while True:
            items.append(await asyncio.wait_for(queue.get(), settle))
    return items


async def warmed_up(
    action: Any, *queues: asyncio.Queue[Any], within: float = 0.5, attempts: int = 40
) -> None:
    """Repeat ``action`` until an event reaches every queue (the subscriptions are live),
    then empty them."""
    for n in range(attempts):
        await action(n)
        with contextlib.suppress(TimeoutError):
            for queue in queues:
                await next_where(queue, lambda _: True, within=within)
            break
    else:
        raise AssertionError("the subscriptions did not go live")
    for queue in queues:
        await drain(queue)


async def test_a_portfolio_update_missed_in_the_gap_is_sent_again(api, world, base_url, cut_off):
    manager, investor = world("acme", "manager"), world("acme", "investor")
    pid = await default_portfolio_id(api, investor)
    async with (
        streaming(cut_off.url, investor.token, UPDATES, {"id": pid}) as updates,
        streaming(base_url, investor.token, UPDATES, {"id": pid}) as connected,
    ):
        await warmed_up(
            lambda n: record(api, manager, pid, "DEPOSIT", f"warm-up {n}", amount="1.00"),
            updates,
            connected,
        )

        async def deposit() -> str:
            await record(api, manager, pid, "DEPOSIT", uuid.uuid4().hex, amount="100.00")
            update = await next_where(connected, lambda u: u["reason"] == "TRANSACTION")
            return str(update["cash"])

        # the deposit's update is published while this broker is away
        cash = await cut_off.outage(deposit())
        update = await next_where(updates, lambda u: u["cash"] == cash)
        assert update["reason"] == "TICK"  # not the one published: a re-read


@pytest.mark.parametrize("with_cursor", [False, True])
async def test_messages_sent_in_the_gap_are_read_from_the_store(
    api, world, base_url, cut_off, with_cursor
):
    investor, manager = world("acme", "investor"), world("acme", "manager")
    conversation = await conversation_between(api, world)
    await send(api, manager, conversation, "before")
    after = await newest_cursor(api, investor, conversation) if with_cursor else None

    async def sent(body: str) -> str:
        return str((await send(api, manager, conversation, body)).ok()["sendMessage"]["id"])

    variables = {"c": conversation, "after": after}
    async with (
        streaming(cut_off.url, investor.token, CATCH_UP, variables) as received,
        streaming(base_url, investor.token, CATCH_UP, {"c": conversation}) as connected,
    ):
        await warmed_up(lambda n: sent(f"warm-up {n}"), received, connected)

        async def sent_in_gap() -> list[str]:
            ids = [await sent(f"in the gap {n}") for n in range(3)]
            for id_ in ids:  # published, while this broker is away
                await next_where(connected, lambda m, id_=id_: m["id"] == id_)
            return ids

        missed = await cut_off.outage(sent_in_gap())
        first = await asyncio.wait_for(received.get(), 10)  # once it is back
        later = await sent("after")
        got = [first["id"], *(m["id"] for m in await drain(received))]
        assert got == [*missed, later]  # those missed, then live ones: each once


async def test_opportunities_published_in_the_gap_are_delivered_once(api, world, base_url, cut_off):
    manager, investor = world("acme", "manager"), world("acme", "investor")

    async def published(name: str) -> str:
        deal = await create(api, manager, name=name)
        (await api.gql(PUBLISH, {"id": deal["id"]}, token=manager.token)).ok()
        return str(deal["id"])

    async with (
        streaming(cut_off.url, investor.token, PUBLISHED) as received,
        streaming(base_url, investor.token, PUBLISHED) as connected,
    ):
        await warmed_up(lambda n: published(f"Warm-up {n}"), received, connected)

        async def published_in_gap() -> str:
            deal = await published("In the gap")
            await next_where(connected, lambda d: d["id"] == deal)
            return deal

        missed = await cut_off.outage(published_in_gap())
        first = await asyncio.wait_for(received.get(), 10)  # once it is back
        later = await published("After")
        # the warm-up deals (audited just before the gap) were delivered already
        assert [first["id"], *(d["id"] for d in await drain(received))] == [missed, later]


async def test_prospects_changed_in_the_gap_come_in_their_current_state(
    api, world, base_url, cut_off
):
    manager, analyst = world("acme", "manager"), world("acme", "analyst")

    async def move(prospect: str, stage: str) -> None:
        (await api.gql(MOVE, {"id": prospect, "s": stage}, token=manager.token)).ok()

    async with (
        streaming(cut_off.url, analyst.token, CHANGES) as received,
        streaming(base_url, analyst.token, CHANGES) as connected,
    ):
        await warmed_up(
            lambda n: create_prospect(api, manager, f"Warm Up {n}"), received, connected
        )

        async def changed_in_gap() -> str:
            prospect = str((await create_prospect(api, manager, "Ada Gap"))["id"])
            await move(prospect, "QUALIFIED")
            await next_where(connected, lambda p: (p["id"], p["stage"]) == (prospect, "QUALIFIED"))
            return prospect

        prospect = await cut_off.outage(changed_in_gap())
        first = await asyncio.wait_for(received.get(), 10)  # once it is back
        await move(prospect, "PROPOSAL")
        events = [first, *await drain(received)]
        assert [(p["id"], p["stage"]) for p in events] == [
            (prospect, "QUALIFIED"),  # created and moved in the gap: its state now, once
            (prospect, "PROPOSAL"),
        ]


async def test_a_session_revoked_in_the_gap_closes_its_socket(api, world, cut_off, redis_url):
    member = world("acme", "investor")
    socket = await Socket.open(cut_off.url, member.token)
    probe = redis_client(redis_url)
    try:
        await socket.result_of("warm", "query { me { id } }")
        channel = cut_off.broker.channel(SESSIONS_TOPIC)
        while (await probe.pubsub_numsub(channel))[0][1] < 2:  # noqa: ASYNC110 - both listen
            await asyncio.sleep(0.05)
        logout = api.gql(
            "mutation($r: String!) { logout(refreshToken: $r) }", {"r": member.refresh}
        )
        assert (await cut_off.outage(logout)).ok()["logout"] is True  # broadcast in the gap
        code, _reason = await socket.closed_with(10)  # not the hourly re-check
        assert code == 4403
    finally:
        await socket.close()
        await probe.aclose()
