"""Messaging: who may talk to whom, privacy of conversations, idempotent and concurrent
sends, newest-first pages, unread counts and read markers."""

import asyncio
import uuid

from beanie import PydanticObjectId

from models.messaging import MAX_BODY, MAX_SUBJECT, Conversation, Message
from tests.support.messaging import (
    CONVERSATIONS,
    MESSAGES,
    all_messages,
    conversation_between,
    send,
    start,
)
from tests.support.round_trips import commands_for

READ = "mutation($c: ID!) { markConversationRead(conversationId: $c) { id unreadCount } }"
ONE = "query($id: ID!) { conversation(id: $id) { id unreadCount } }"


async def test_an_investor_starts_a_conversation_with_staff(api, world):
    investor, manager, admin = (world("acme", r) for r in ("investor", "manager", "admin"))
    result = await start(api, investor, [manager.id, admin.id, manager.id], "  My deposit  ")
    conversation = result.ok()["startConversation"]
    assert conversation["subject"] == "My deposit"
    assert {p["id"] for p in conversation["participants"]} == {investor.id, manager.id, admin.id}
    assert conversation["unreadCount"] == 0 and conversation["lastMessage"] is None


async def test_staff_start_with_an_investor_and_other_staff(api, world):
    manager, admin, investor = (world("acme", r) for r in ("manager", "admin", "investor"))
    result = await start(api, manager, [investor.id, admin.id])
    participants = result.ok()["startConversation"]["participants"]
    assert {p["id"] for p in participants} == {manager.id, investor.id, admin.id}
    staff_only = await start(api, admin, [manager.id])
    assert staff_only.ok()["startConversation"]["id"]


async def test_investors_cannot_message_investors(api, world):
    investor, investor2 = world("acme", "investor"), world("acme", "investor2")
    manager = world("acme", "manager")
    direct = await start(api, investor, [investor2.id])
    assert direct.code == "NOT_FOUND"  # investors cannot see other users at all
    with_staff = await start(api, investor, [manager.id, investor2.id])
    assert with_staff.code == "NOT_FOUND"
    group = await start(api, manager, [investor.id, investor2.id])
    assert group.code == "BAD_USER_INPUT"
    assert group.errors[0]["extensions"]["field"] == "participantIds"


async def test_analysts_neither_start_send_nor_take_part(api, world):
    analyst, manager, investor = (world("acme", r) for r in ("analyst", "manager", "investor"))
    assert (await start(api, analyst, [manager.id])).code == "FORBIDDEN"
    assert (await start(api, manager, [analyst.id])).code == "BAD_USER_INPUT"
    assert (await start(api, investor, [analyst.id])).code == "NOT_FOUND"
    conversation = await conversation_between(api, world)
    assert (await send(api, analyst, conversation, "hi")).code == "FORBIDDEN"
    listed = (await api.gql(CONVERSATIONS, token=analyst.token)).ok()["conversations"]
    assert listed["edges"] == []


async def test_participant_lists_are_checked(api, world):
    investor, manager = world("acme", "investor"), world("acme", "manager")
    assert (await start(api, investor, [])).code == "BAD_USER_INPUT"
    only_self = await start(api, investor, [investor.id, investor.id])
    assert only_self.code == "BAD_USER_INPUT"
    assert (await start(api, investor, ["not-an-id"])).code == "BAD_USER_INPUT"
    too_many = await start(api, manager, [str(uuid.uuid4().hex[:24]) for _ in range(21)])
    assert too_many.code == "BAD_USER_INPUT"
    long_subject = await start(api, investor, [manager.id], "s" * (MAX_SUBJECT + 1))
    assert long_subject.errors[0]["extensions"]["field"] == "subject"
    other_tenant = await start(api, investor, [world("globex", "manager").id])
    assert other_tenant.code == "NOT_FOUND"
    unknown = await start(api, manager, ["0" * 24])
    assert unknown.code == "NOT_FOUND"


async def test_conversations_are_private_to_participants(api, world):
    conversation = await conversation_between(api, world)
    for outsider in (world("acme", "investor2"), world("acme", "admin"), world("globex", "admin")):
        assert (await api.gql(ONE, {"id": conversation}, token=outsider.token)).code == "NOT_FOUND"
        sent = await send(api, outsider, conversation, "let me in")
        assert sent.code == "NOT_FOUND"
        listed = await api.gql(MESSAGES, {"c": conversation}, token=outsider.token)
        assert listed.code == "NOT_FOUND"
        assert (await api.gql(READ, {"c": conversation}, token=outsider.token)).code == "NOT_FOUND"
    assert await Message.find({}).count() == 0


async def test_message_bodies_are_trimmed_and_limited(api, world):
    conversation = await conversation_between(api, world)
    investor = world("acme", "investor")
    sent = (await send(api, investor, conversation, "  hello  ")).ok()["sendMessage"]
    assert sent["body"] == "hello" and sent["sender"]["id"] == investor.id
    for bad in ("", "   \n ", "x" * (MAX_BODY + 1)):
        result = await send(api, investor, conversation, bad)
        assert result.code == "BAD_USER_INPUT" and result.errors[0]["extensions"]["field"] == "body"
    assert (await send(api, investor, conversation, "x" * MAX_BODY)).ok()
    assert (await send(api, investor, conversation, "hi", key=" ")).code == "BAD_USER_INPUT"
    assert await Message.find({}).count() == 2


async def test_a_retried_send_returns_the_first_message(api, world):
    conversation = await conversation_between(api, world)
    investor = world("acme", "investor")
    first = (await send(api, investor, conversation, "pay me", key="k-1")).ok()["sendMessage"]
    again = (await send(api, investor, conversation, "pay me", key="k-1")).ok()["sendMessage"]
    assert again["id"] == first["id"] and again["clientMessageId"] == "k-1"
    different = await send(api, investor, conversation, "something else", key="k-1")
    assert different.code == "CONFLICT"
    concurrent = await asyncio.gather(
        *(send(api, investor, conversation, "once", key="k-2") for _ in range(8))
    )
    assert len({r.ok()["sendMessage"]["id"] for r in concurrent}) == 1
    # the same key from another participant is another message
    manager = world("acme", "manager")
    theirs = (await send(api, manager, conversation, "pay me", key="k-1")).ok()["sendMessage"]
    assert theirs["id"] != first["id"]
    assert await Message.find({}).count() == 3


async def test_concurrent_sends_lose_nothing_and_page_in_order(api, world):
    conversation = await conversation_between(api, world)
    investor, manager = world("acme", "investor"), world("acme", "manager")
    results = await asyncio.gather(
        *(send(api, (investor, manager)[i % 2], conversation, f"m{i}") for i in range(30))
    )
    sent = {r.ok()["sendMessage"]["id"] for r in results}
    assert len(sent) == 30
    paged = await all_messages(api, investor, conversation, first=7)
    assert set(paged) == sent and len(paged) == 30
    assert paged == sorted(paged, reverse=True)  # newest first, no repeats across pages


async def test_sequential_messages_page_newest_first(api, world):
    conversation = await conversation_between(api, world)
    investor = world("acme", "investor")
    for i in range(5):
        (await send(api, investor, conversation, f"m{i}")).ok()
    first = (await api.gql(MESSAGES, {"c": conversation, "first": 2}, token=investor.token)).ok()[
        "messages"
    ]
    assert [e["node"]["body"] for e in first["edges"]] == ["m4", "m3"]
    assert first["pageInfo"]["hasNextPage"]
    rest = (
        await api.gql(
            MESSAGES,
            {"c": conversation, "first": 10, "after": first["pageInfo"]["endCursor"]},
            token=investor.token,
        )
    ).ok()["messages"]
    assert [e["node"]["body"] for e in rest["edges"]] == ["m2", "m1", "m0"]
    assert not rest["pageInfo"]["hasNextPage"]
    other = await conversation_between(api, world, subject="Other")
    foreign = await api.gql(
        MESSAGES, {"c": other, "after": first["pageInfo"]["endCursor"]}, token=investor.token
    )
    assert foreign.code == "BAD_USER_INPUT"  # a cursor is bound to its conversation


async def test_unread_counts_and_read_markers(api, world):
    investor, manager = world("acme", "investor"), world("acme", "manager")
    conversation = await conversation_between(api, world)
    for i in range(3):
        (await send(api, manager, conversation, f"from manager {i}")).ok()
    (await send(api, investor, conversation, "from investor")).ok()

    async def unread(who):
        return (await api.gql(ONE, {"id": conversation}, token=who.token)).ok()["conversation"][
            "unreadCount"
        ]

    assert await unread(investor) == 3  # one's own messages never count
    assert await unread(manager) == 1
    marked = (await api.gql(READ, {"c": conversation}, token=investor.token)).ok()
    assert marked["markConversationRead"]["unreadCount"] == 0
    (await send(api, manager, conversation, "one more")).ok()
    assert await unread(investor) == 1
    assert await unread(manager) == 1  # replying is not reading: only the marker is
    listed = (await api.gql(CONVERSATIONS, token=investor.token)).ok()["conversations"]
    node = listed["edges"][0]["node"]
    assert node["unreadCount"] == 1 and node["lastMessage"]["body"] == "one more"


async def test_read_markers_only_move_forward(api, world):
    investor, manager = world("acme", "investor"), world("acme", "manager")
    conversation = await conversation_between(api, world)
    older = (await send(api, manager, conversation, "a")).ok()["sendMessage"]["id"]
    (await send(api, manager, conversation, "b")).ok()
    (await api.gql(READ, {"c": conversation}, token=investor.token)).ok()
    # a mark-read that saw a stale "last message" (a racing request) must not move back
    await Conversation.get_pymongo_collection().update_one(
        {"_id": PydanticObjectId(conversation)},
        {"$set": {"last_message_id": PydanticObjectId(older)}},
    )
    (await api.gql(READ, {"c": conversation}, token=investor.token)).ok()
    stored = await Conversation.get(PydanticObjectId(conversation))
    assert stored is not None
    assert str(stored.read_up_to[investor.id]) > older
    concurrent = await asyncio.gather(
        *(api.gql(READ, {"c": conversation}, token=investor.token) for _ in range(5)),
        send(api, manager, conversation, "c"),
    )
    assert all(not result.errors for result in concurrent)


async def test_conversations_list_newest_activity_first(api, world):
    investor, manager = world("acme", "investor"), world("acme", "manager")
    ids = [await conversation_between(api, world, subject=f"c{i}") for i in range(4)]
    (await send(api, manager, ids[1], "bump")).ok()
    seen, after = [], None
    while True:
        page = (
            await api.gql(CONVERSATIONS, {"first": 3, "after": after}, token=investor.token)
        ).ok()["conversations"]
        seen += [edge["node"]["id"] for edge in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert seen == [ids[1], ids[3], ids[2], ids[0]]
    globex = (await api.gql(CONVERSATIONS, token=world("globex", "investor").token)).ok()
    assert globex["conversations"]["edges"] == []


LIST_ALL = """{ conversations(first: 50) { edges { node { id subject unreadCount
  participants { email } lastMessage { body sender { email } } } } } }"""


async def test_conversation_page_round_trips_do_not_grow(api, world, command_counter):
    manager, investor = world("acme", "manager"), world("acme", "investor")

    async def grow_to(count: int) -> None:
        while len(await Conversation.find({}).to_list()) < count:
            conversation = await conversation_between(api, world)
            (await send(api, investor, conversation, "hello")).ok()

    await grow_to(2)
    small = await commands_for(api, command_counter, LIST_ALL, {}, manager.token)
    await grow_to(12)
    large = await commands_for(api, command_counter, LIST_ALL, {}, manager.token)
    assert small == large
    assert len(large) <= 6, large  # auth (session, user), page, users, messages, unread
