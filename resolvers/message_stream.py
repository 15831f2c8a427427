"""The stream behind ``messageReceived(conversationId, after)``.

Participants only (NOT_FOUND otherwise), checked before anything streams. Without
``after``: every message of the conversation published from now on. With ``after`` (an
edge cursor of ``messages(conversationId)``): first the messages stored after that cursor's
message, oldest first, then live ones, with no gap and no duplicate.

Guarantee with ``after``: every message of the conversation whose id sorts after the
cursor's (the store's order, the one ``messages`` pages by) is delivered exactly once.
Replayed messages come in that order. Live ones come in publication order, which is
also id order for messages sent one after another, but not always for messages sent
concurrently (ids are made by the sending process before the insert, and concurrent
requests or processes may store and publish in a different order): a live message may
then carry an id lower than one delivered before it. Clients that must display store
order sort by id (or ``sentAt``). Messages whose id sorts at or before the cursor are
never sent: the client had them, or they were not yet stored when it read that page.

How: the live subscription is opened and known to be live *before* the store is read
(``LiveConversation.sync``). A message the replay does not see was therefore published
after that point and reaches the live stream; a message the replay did see is skipped
when its live copy arrives (by id, not by position: positions are not monotonic under
concurrent sends). At most ``REPLAY_LIMIT`` messages may be missed: with more, the
subscription is refused (BAD_USER_INPUT) and the client pages them with ``messages``."""

from collections.abc import AsyncIterator

from beanie import PydanticObjectId
from bson import ObjectId

from models.errors import BadUserInput
from models.messaging import Conversation, Message
from resolvers import messaging
from resolvers.context import RequestContext
from resolvers.pagination import decode_cursor
from subscriptions.broker import Broker
from subscriptions.messaging import LiveConversation, MessagePayload, message_stream

REPLAY_LIMIT = 500  # missed messages a subscription may replay; more: page with `messages`
REPLAY_PAGE = 100


async def received_messages(
    ctx: RequestContext, raw_id: str, after: str | None = None
) -> AsyncIterator[MessagePayload]:
    conversation = await messaging.get(ctx, raw_id, field="conversationId")
    assert conversation.id is not None
    broker = ctx.services.broker
    if after is None:
        return message_stream(broker, conversation.tenant_id, conversation.id)
    last_seen = decode_cursor(ctx.services.cursor_key, messaging.messages_list(conversation), after)
    await _check_missed(conversation, last_seen)
    return _replay_then_live(broker, conversation, last_seen)


def _after(conversation: Conversation, last: ObjectId) -> dict[str, object]:
    return {
        "tenant_id": conversation.tenant_id,
        "conversation_id": conversation.id,
        "_id": {"$gt": last},
    }


async def _check_missed(conversation: Conversation, last_seen: PydanticObjectId) -> None:
    missed = await Message.get_pymongo_collection().count_documents(
        _after(conversation, last_seen), limit=REPLAY_LIMIT + 1
    )
    if missed > REPLAY_LIMIT:
        raise BadUserInput(
            f"More than {REPLAY_LIMIT} messages were sent after this cursor: load them with "
            "`messages` first, then subscribe with the newest cursor",
            field="after",
        )


async def _stored_after(conversation: Conversation, last: ObjectId) -> AsyncIterator[Message]:
    """Oldest first, one indexed range query per page."""
    while True:
        page = (
            await Message.find(_after(conversation, last)).sort("_id").limit(REPLAY_PAGE).to_list()
        )
        for message in page:
            yield message
        if len(page) < REPLAY_PAGE:
            return
        assert page[-1].id is not None
        last = page[-1].id


async def _replay_then_live(
    broker: Broker, conversation: Conversation, last_seen: PydanticObjectId
) -> AsyncIterator[MessagePayload]:
    live = LiveConversation(broker, conversation.tenant_id, str(conversation.id))
    try:
        await live.sync()  # live before the store is read: nothing falls in between
        replayed: set[str] = set()
        async for message in _stored_after(conversation, last_seen):
            payload = MessagePayload.of(message)
            replayed.add(payload.id)
            yield payload
        async for payload in live.messages():
            if payload.id in replayed:
                replayed.discard(payload.id)  # each message is published once
            elif ObjectId(payload.id) > last_seen:
                yield payload
    finally:
        await live.close()
