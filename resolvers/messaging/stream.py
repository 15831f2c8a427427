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
subscription is refused (BAD_USER_INPUT) and the client pages them with ``messages``.

After a gap (this process's Redis connection was lost, so messages published meanwhile
never reached it; see Broker.listen) both kinds re-read the store: the messages stored
after the newest one delivered (or, before any, sent since the subscription started),
oldest first, then live ones again, skipping those the re-read delivered. The same caveat
as above holds: a message whose id sorts before the newest delivered one and that was sent
in the gap is not seen."""

from collections.abc import AsyncIterator
from datetime import datetime

from beanie import PydanticObjectId
from bson import ObjectId

from models.errors import BadUserInput
from models.messaging import Conversation, Message
from resolvers.core.context import RequestContext
from resolvers.core.pagination import decode_cursor
from resolvers.messaging import conversations as messaging
from subscriptions.broker import Broker
from subscriptions.messaging import LiveConversation, MessagePayload, message_stream
from subscriptions.sinks import Gap

REPLAY_LIMIT = 500  # missed messages a subscription may replay; more: page with `messages`
REPLAY_PAGE = 100


async def received_messages(
    ctx: RequestContext, raw_id: str, after: str | None = None
) -> AsyncIterator[MessagePayload]:
    conversation = await messaging.get(ctx, raw_id, field="conversationId")
    assert conversation.id is not None
    broker = ctx.services.broker
    if after is None:
        started = ctx.now()
        events = message_stream(broker, conversation.tenant_id, conversation.id)
        return _live(conversation, events, _Delivered(ObjectId.from_datetime(started), started))
    last_seen = decode_cursor(ctx, messaging.messages_list(conversation), after).last_id
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


class _Delivered:
    """What a subscription has delivered: the newest id, and the ids read from the store
    whose live copy may still come (each message is published once)."""

    def __init__(
        self, newest: ObjectId, not_before: datetime | None = None, floor: ObjectId | None = None
    ) -> None:
        self.newest = newest
        self.not_before = not_before  # before any delivery: messages sent since then
        self.floor = floor  # never messages at or before this id (the `after` cursor)
        self.replayed: set[str] = set()

    def read(self, message: Message) -> MessagePayload | None:
        """A message read from the store: its payload, unless delivered already."""
        assert message.id is not None
        self.newest = max(self.newest, message.id)
        if self.not_before is not None and message.created_at < self.not_before:
            return None
        payload = MessagePayload.of(message)
        self.replayed.add(payload.id)
        return payload

    def live(self, payload: MessagePayload) -> bool:
        """Whether a live message is to be delivered."""
        if payload.id in self.replayed:
            self.replayed.discard(payload.id)
            return False
        if self.floor is not None and ObjectId(payload.id) <= self.floor:
            return False
        self.newest = max(self.newest, ObjectId(payload.id))
        return True


async def _live(
    conversation: Conversation,
    events: AsyncIterator[MessagePayload | Gap],
    delivered: _Delivered,
) -> AsyncIterator[MessagePayload]:
    """Live messages; after a gap, first those stored since the newest delivered."""
    async for event in events:
        if isinstance(event, Gap):
            async for message in _stored_after(conversation, delivered.newest):
                payload = delivered.read(message)
                if payload is not None:
                    yield payload
        elif delivered.live(event):
            yield event


async def _replay_then_live(
    broker: Broker, conversation: Conversation, last_seen: PydanticObjectId
) -> AsyncIterator[MessagePayload]:
    live = LiveConversation(broker, conversation.tenant_id, str(conversation.id))
    try:
        await live.sync()  # live before the store is read: nothing falls in between
        delivered = _Delivered(last_seen, floor=last_seen)
        async for message in _stored_after(conversation, last_seen):
            payload = delivered.read(message)
            if payload is not None:
                yield payload
        async for payload in _live(conversation, live.messages(), delivered):
            yield payload
    finally:
        await live.close()
