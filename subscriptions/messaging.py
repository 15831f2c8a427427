"""``messageReceived``: one topic per tenant and conversation carrying each stored message
whole (encoded once), so subscribers need no database read."""

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from typing import Self

import orjson
from bson import ObjectId

from models.messaging import Message
from subscriptions.broker import Broker

BUFFER = 500  # undelivered messages per subscriber before its stream is closed


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
        fields = orjson.loads(message)
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


async def message_stream(
    broker: Broker, tenant_id: str | ObjectId, conversation_id: str | ObjectId
) -> AsyncIterator[MessagePayload]:
    """Every message of the conversation, in publication order, through a bounded buffer."""
    topic = conversation_topic(tenant_id, conversation_id)
    async for _topic, message in broker.listen([topic], limit=BUFFER):
        yield MessagePayload.decode(message)
