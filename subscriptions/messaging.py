"""``messageReceived``: one topic per tenant and conversation carrying each stored message
whole (encoded once), so subscribers need no database read.

The topic also carries sync markers: a subscriber that must know when its subscription is
live (catch-up, see ``LiveConversation``) publishes one and waits for it to come back.
Every stream here skips them. Both streams pass on a ``Gap`` (see Broker.listen): messages
sent meanwhile may have been missed, and the consumer reads them from the store."""

import asyncio
import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Self

import orjson
from bson import ObjectId

from models.messaging import Message
from subscriptions.broker import Broker
from subscriptions.sinks import Gap

BUFFER = 500  # undelivered messages per subscriber before its stream is closed
SYNC_WITHIN = 10.0  # seconds a subscription may take to go live


def conversation_topic(tenant_id: str | ObjectId, conversation_id: str | ObjectId) -> str:
    return f"conversation:{tenant_id}:{conversation_id}"


@dataclass(frozen=True, slots=True)
class MessagePayload:
    """A stored message as broadcast; the sender's own retry key is not part of it."""

    id: str
    conversation_id: str
    sender_id: str
    body: str
    sent_at: datetime

    @classmethod
    def of(cls, message: Message) -> Self:
        return cls(
            id=str(message.id),
            conversation_id=str(message.conversation_id),
            sender_id=str(message.sender_id),
            body=message.body,
            sent_at=message.created_at,
        )

    def encode(self) -> str:
        return orjson.dumps(
            {
                "id": self.id,
                "conversationId": self.conversation_id,
                "senderId": self.sender_id,
                "body": self.body,
                "sentAt": self.sent_at.isoformat(),
            }
        ).decode()

    @classmethod
    def decode(cls, message: str | bytes) -> Self:
        return cls.from_fields(orjson.loads(message))

    @classmethod
    def from_fields(cls, fields: dict[str, Any]) -> Self:
        return cls(
            id=fields["id"],
            conversation_id=fields["conversationId"],
            sender_id=fields["senderId"],
            body=fields["body"],
            sent_at=datetime.fromisoformat(fields["sentAt"]),
        )


async def publish_message(broker: Broker, message: Message) -> None:
    topic = conversation_topic(message.tenant_id, message.conversation_id)
    await broker.publish(topic, MessagePayload.of(message).encode())


@dataclass(frozen=True, slots=True)
class SyncMarker:
    token: str

    def encode(self) -> str:
        return orjson.dumps({"sync": self.token}).decode()

    @classmethod
    def decode(cls, message: str | bytes) -> Self:
        return cls(orjson.loads(message)["sync"])


def decode_event(message: str | bytes) -> MessagePayload | SyncMarker:
    fields = orjson.loads(message)
    if "sync" in fields:
        return SyncMarker(fields["sync"])
    return MessagePayload.from_fields(fields)


async def message_stream(
    broker: Broker, tenant_id: str | ObjectId, conversation_id: str | ObjectId
) -> AsyncIterator[MessagePayload | Gap]:
    """Every message of the conversation, in publication order, through a bounded buffer
    (and a ``Gap`` where some may have been missed)."""
    topic = conversation_topic(tenant_id, conversation_id)
    async for _topic, message in broker.listen([topic], limit=BUFFER, gaps=True):
        if isinstance(message, Gap):
            yield message
            continue
        event = decode_event(message)
        if isinstance(event, MessagePayload):
            yield event


class NotLive(RuntimeError):
    """The subscription did not see its own sync marker in time (the broker is failing)."""


class LiveConversation:
    """A subscription to one conversation that can tell when it is live.

    ``await sync()`` subscribes, publishes a marker of its own on the topic (again, backing
    off, until one comes back) and returns once it has received it: every message published
    after that point reaches ``messages()``. Messages received before the marker are
    dropped: they were published, hence stored, before the caller's next database read.
    The broker's ``listen`` gives no signal when its subscription is in place (Redis
    SUBSCRIBE completes asynchronously); the marker's round trip is that signal."""

    def __init__(
        self, broker: Broker, tenant_id: str | ObjectId, conversation_id: str | ObjectId
    ) -> None:
        self._broker = broker
        self._topic = conversation_topic(tenant_id, conversation_id)
        self._events = broker.listen([self._topic], limit=BUFFER, gaps=True)
        self._pending: asyncio.Future[tuple[str, str]] | None = None

    async def sync(self, within: float = SYNC_WITHIN) -> None:
        marker = SyncMarker(secrets.token_hex(8))
        loop = asyncio.get_running_loop()
        deadline, delay = loop.time() + within, 0.02
        self._pending = asyncio.ensure_future(anext(self._events))
        while loop.time() < deadline:
            await self._broker.publish(self._topic, marker.encode())
            retry_at = min(loop.time() + delay, deadline)
            delay = min(delay * 2, 0.5)
            while (wait := retry_at - loop.time()) > 0:
                done, _ = await asyncio.wait({self._pending}, timeout=wait)
                if not done:
                    break
                _topic, message = self._pending.result()
                self._pending = None
                if not isinstance(message, Gap) and decode_event(message) == marker:
                    return
                self._pending = asyncio.ensure_future(anext(self._events))
        raise NotLive(f"no subscription to {self._topic} within {within} s")

    async def messages(self) -> AsyncIterator[MessagePayload | Gap]:
        """The messages published after the sync point, in publication order (and a
        ``Gap`` where some may have been missed)."""
        async for _topic, message in self._events:
            if isinstance(message, Gap):
                yield message
                continue
            event = decode_event(message)
            if isinstance(event, MessagePayload):
                yield event

    async def close(self) -> None:
        if self._pending is not None:
            self._pending.cancel()
            await asyncio.gather(self._pending, return_exceptions=True)
        await self._events.aclose()
