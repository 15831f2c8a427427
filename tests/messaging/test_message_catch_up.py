"""messageReceived(after:) over a real WebSocket: the messages sent after a `messages` cursor
are replayed oldest first, then live ones follow, with no gap and no duplicate even while
someone keeps sending; bad or foreign cursors are BAD_USER_INPUT before anything streams."""

import asyncio

import pytest
from gql import Client
from gql.transport.exceptions import TransportQueryError

from resolvers.messaging import stream as message_stream
from tests.support.messaging import (
    CATCH_UP,
    CONVERSATIONS,
    all_messages,
    conversation_between,
    newest_cursor,
    send,
)
from tests.support.ws import streaming, transport


async def sent_ids(api, who, conversation, bodies) -> list[str]:
    return [(await send(api, who, conversation, b)).ok()["sendMessage"]["id"] for b in bodies]


def subscribed(base_url, token, conversation, after):
    """A running subscription with ``after``; yields the queue its messages arrive on."""
    return streaming(base_url, token, CATCH_UP, {"c": conversation, "after": after})


async def take(received: asyncio.Queue, count: int) -> list[str]:
    return [(await asyncio.wait_for(received.get(), 10))["id"] for _ in range(count)]


async def assert_nothing_more(received: asyncio.Queue) -> None:
    await asyncio.sleep(0.5)
    assert received.empty(), [received.get_nowait()["id"] for _ in range(received.qsize())]


async def refusal(base_url, token, conversation, after) -> dict:
    async with Client(transport=transport(base_url, token)) as session:
        variables = {"c": conversation, "after": after}
        with pytest.raises(TransportQueryError) as refused:
            async for _ in session.subscribe(CATCH_UP, variable_values=variables):
                raise AssertionError("streamed despite a refusal")
    return refused.value.errors[0]


async def test_missed_messages_are_replayed_in_order_then_live_ones(api, world, base_url):
    investor, manager = world("acme", "investor"), world("acme", "manager")
    conversation = await conversation_between(api, world)
    await sent_ids(api, manager, conversation, ["seen 1", "seen 2"])
    cursor = await newest_cursor(api, investor, conversation)
    missed = await sent_ids(api, manager, conversation, [f"missed {i}" for i in range(7)])
    async with subscribed(base_url, investor.token, conversation, cursor) as received:
        assert await take(received, len(missed)) == missed
        # the replay ran after the subscription went live: later sends are all delivered
        live = await sent_ids(api, investor, conversation, [f"live {i}" for i in range(5)])
        assert await take(received, len(live)) == live
        await assert_nothing_more(received)


async def test_no_gap_and_no_duplicate_while_someone_keeps_sending(api, world, base_url):
    investor, manager = world("acme", "investor"), world("acme", "manager")
    conversation = await conversation_between(api, world)
    await sent_ids(api, manager, conversation, ["before the cursor"])
    cursor = await newest_cursor(api, investor, conversation)
    stop, some_sent = asyncio.Event(), asyncio.Event()
    sent: list[str] = []

    async def keep_sending() -> None:
        while not stop.is_set():
            sent.extend(await sent_ids(api, manager, conversation, [f"m{len(sent)}"]))
            if len(sent) == 10:
                some_sent.set()

    sender = asyncio.create_task(keep_sending())
    try:
        await some_sent.wait()  # some to replay, then subscribe while the sends go on
        async with subscribed(base_url, investor.token, conversation, cursor) as received:
            got = await take(received, 30)
            stop.set()
            await sender
            stored = list(reversed(await all_messages(api, investor, conversation)))
            expected = stored[1:]  # oldest first, after the cursor's message
            got += await take(received, len(expected) - len(got))
            await assert_nothing_more(received)
    finally:
        stop.set()
        await asyncio.gather(sender, return_exceptions=True)
    assert got == expected  # exactly the stored ids after the cursor, in order
    assert len(stored) == len(sent) + 1 and len(got) == len(sent)


async def test_malformed_and_foreign_cursors_are_bad_input(api, world, base_url):
    investor, manager = world("acme", "investor"), world("acme", "manager")
    conversation = await conversation_between(api, world)
    other = await conversation_between(api, world, subject="Other")
    await sent_ids(api, manager, other, ["elsewhere"])
    theirs = await conversation_between(api, world, tenant="globex")
    await sent_ids(api, world("globex", "manager"), theirs, ["another tenant"])
    conversations = (await api.gql(CONVERSATIONS, {"first": 1}, token=investor.token)).ok()
    cursors = {
        "malformed": "not-a-cursor",
        "tampered": (await newest_cursor(api, investor, other))[:-2] + "AA",
        "another conversation": await newest_cursor(api, investor, other),
        "another list": conversations["conversations"]["pageInfo"]["endCursor"],
        "another tenant": await newest_cursor(api, world("globex", "investor"), theirs),
    }
    for kind, cursor in cursors.items():
        error = await refusal(base_url, investor.token, conversation, cursor)
        assert error["extensions"]["code"] == "BAD_USER_INPUT", kind
        assert "not a valid cursor" in error["message"], kind


@pytest.mark.parametrize("outsider", ["investor2", "analyst"])
async def test_non_participants_are_not_found_even_with_a_valid_cursor(
    api, world, base_url, outsider
):
    conversation = await conversation_between(api, world)
    await sent_ids(api, world("acme", "manager"), conversation, ["hello"])
    cursor = await newest_cursor(api, world("acme", "investor"), conversation)
    error = await refusal(base_url, world("acme", outsider).token, conversation, cursor)
    assert error["extensions"]["code"] == "NOT_FOUND"


async def test_too_many_missed_messages_ask_for_paging_first(api, world, base_url, monkeypatch):
    monkeypatch.setattr(message_stream, "REPLAY_LIMIT", 3)
    investor, manager = world("acme", "investor"), world("acme", "manager")
    conversation = await conversation_between(api, world)
    await sent_ids(api, manager, conversation, ["seen"])
    cursor = await newest_cursor(api, investor, conversation)
    missed = await sent_ids(api, manager, conversation, ["a", "b", "c"])
    async with subscribed(base_url, investor.token, conversation, cursor) as received:
        assert await take(received, 3) == missed  # at the limit: replayed
    await sent_ids(api, manager, conversation, ["d"])
    error = await refusal(base_url, investor.token, conversation, cursor)
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert "`messages` first" in error["message"]
