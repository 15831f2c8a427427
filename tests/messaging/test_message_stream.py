"""messageReceived over a real WebSocket: participants get every message of the
conversation in order; anyone else is refused with NOT_FOUND before any data."""

import asyncio
import contextlib

import pytest
from gql import Client, gql
from gql.transport.exceptions import TransportQueryError

from tests.support.messaging import conversation_between, send
from tests.support.ws import transport

RECEIVED = gql("""subscription($c: ID!) { messageReceived(conversationId: $c) {
  id conversationId body sentAt sender { id fullName } } }""")


async def collect(session, conversation, received: asyncio.Queue) -> None:
    async for result in session.subscribe(RECEIVED, variable_values={"c": conversation}):
        await received.put(result["messageReceived"])


async def wait_until_live(api, sender, conversation, received: asyncio.Queue) -> set[str]:
    """Send probes until one arrives (the broker subscribes asynchronously); returns the
    ids of every probe sent, so late duplicates can be told apart."""
    probes: set[str] = set()
    for _ in range(50):
        sent = (await send(api, sender, conversation, "probe")).ok()["sendMessage"]
        probes.add(sent["id"])
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(received.get(), 0.2)
            return probes
    raise AssertionError("the subscription never went live")


async def drain(received: asyncio.Queue, count: int, skip: set[str]) -> list[dict]:
    got: list[dict] = []
    while len(got) < count:
        message = await asyncio.wait_for(received.get(), 10)
        if message["id"] not in skip:
            got.append(message)
    return got


async def test_participants_receive_every_message_in_order(api, world, base_url):
    investor, manager = world("acme", "investor"), world("acme", "manager")
    conversation = await conversation_between(api, world)
    other = await conversation_between(api, world, subject="Other")
    received: asyncio.Queue = asyncio.Queue()
    async with Client(transport=transport(base_url, investor.token)) as session:
        task = asyncio.create_task(collect(session, conversation, received))
        try:
            probes = await wait_until_live(api, manager, conversation, received)
            (await send(api, manager, other, "not for this stream")).ok()
            sent = [
                (await send(api, manager, conversation, f"m{i}")).ok()["sendMessage"]
                for i in range(10)
            ]
            concurrent = await asyncio.gather(
                *(send(api, investor, conversation, f"c{i}") for i in range(10))
            )
            got = await drain(received, 20, probes)
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
    assert [m["id"] for m in got[:10]] == [m["id"] for m in sent]  # in order
    assert got[0]["body"] == "m0" and got[0]["sender"]["id"] == manager.id
    assert got[0]["sender"]["fullName"] and got[0]["conversationId"] == conversation
    assert got[0]["sentAt"] == sent[0]["sentAt"]
    # concurrent sends: none lost, none twice
    assert sorted(m["id"] for m in got[10:]) == sorted(
        r.ok()["sendMessage"]["id"] for r in concurrent
    )
    assert all(m["conversationId"] == conversation for m in got)  # no other conversation's


@pytest.mark.parametrize("outsider", ["investor2", "admin", "analyst"])
async def test_non_participants_are_refused(api, world, base_url, outsider):
    conversation = await conversation_between(api, world)
    token = world("acme", outsider).token
    async with Client(transport=transport(base_url, token)) as session:
        with pytest.raises(TransportQueryError) as refused:
            async for _ in session.subscribe(RECEIVED, variable_values={"c": conversation}):
                raise AssertionError("streamed to a non-participant")
    assert refused.value.errors[0]["extensions"]["code"] == "NOT_FOUND"


async def test_another_tenant_is_refused(api, world, base_url):
    conversation = await conversation_between(api, world)
    async with Client(transport=transport(base_url, world("globex", "manager").token)) as session:
        with pytest.raises(TransportQueryError) as refused:
            async for _ in session.subscribe(RECEIVED, variable_values={"c": conversation}):
                raise AssertionError("streamed across tenants")
    assert refused.value.errors[0]["extensions"]["code"] == "NOT_FOUND"
