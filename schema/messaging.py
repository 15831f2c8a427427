"""Messaging: conversations, messages, unread counts and the messageReceived stream."""

from collections.abc import AsyncGenerator
from datetime import datetime

import strawberry

from models import messaging as models
from resolvers.core.loaders import unread_key
from resolvers.core.pagination import DEFAULT_PAGE_SIZE
from resolvers.messaging import conversations as use_cases
from resolvers.messaging import stream as message_stream
from schema.core.context import Info
from schema.core.domains import Domain
from schema.core.loaders import loaders
from schema.core.permissions import IsAuthenticated
from schema.core.relay import Connection, to_connection
from schema.core.streams import guarded
from schema.users import User, load_user
from subscriptions.messaging import MessagePayload


@strawberry.type
class Message:
    id: strawberry.ID
    conversation_id: strawberry.ID
    body: str
    sent_at: datetime
    client_message_id: str | None
    sender_id: strawberry.Private[str]

    @classmethod
    def from_model(cls, doc: models.Message) -> "Message":
        return cls(
            id=strawberry.ID(str(doc.id)),
            conversation_id=strawberry.ID(str(doc.conversation_id)),
            body=doc.body,
            sent_at=doc.created_at,
            client_message_id=doc.client_message_id,
            sender_id=str(doc.sender_id),
        )

    @classmethod
    def from_payload(cls, payload: MessagePayload) -> "Message":
        return cls(
            id=strawberry.ID(payload.id),
            conversation_id=strawberry.ID(payload.conversation_id),
            body=payload.body,
            sent_at=payload.sent_at,
            client_message_id=None,  # the sender's own retry key is not broadcast
            sender_id=payload.sender_id,
        )

    @strawberry.field
    async def sender(self, info: Info) -> User:
        return await load_user(info, self.sender_id)


@strawberry.type
class Conversation:
    id: strawberry.ID
    subject: str | None
    created_at: datetime
    participant_ids: strawberry.Private[list[str]]
    last_message_id: strawberry.Private[str | None]
    read_up_to: strawberry.Private[str | None]  # the caller's marker

    @classmethod
    def from_model(cls, doc: models.Conversation, reader_id: str) -> "Conversation":
        marker = doc.read_up_to.get(reader_id)
        return cls(
            id=strawberry.ID(str(doc.id)),
            subject=doc.subject,
            created_at=doc.created_at,
            participant_ids=[str(p) for p in doc.participant_ids],
            last_message_id=str(doc.last_message_id) if doc.last_message_id else None,
            read_up_to=str(marker) if marker else None,
        )

    @strawberry.field
    async def participants(self, info: Info) -> list[User]:
        found = await loaders(info).users.load_many(self.participant_ids)
        return [User.from_model(user) for user in found if user is not None]

    @strawberry.field(description="Messages from others after the caller's read marker")
    async def unread_count(self, info: Info) -> int:
        if self.last_message_id is None or self.last_message_id == self.read_up_to:
            return 0
        reader = info.context.require_principal().user_id
        return await loaders(info).unread_counts.load(unread_key(self.id, reader, self.read_up_to))

    @strawberry.field
    async def last_message(self, info: Info) -> Message | None:
        if self.last_message_id is None:
            return None
        doc = await loaders(info).messages.load(self.last_message_id)
        return Message.from_model(doc) if doc else None


def _conversation(info: Info, doc: models.Conversation) -> Conversation:
    return Conversation.from_model(doc, str(info.context.require_principal().user_id))


@strawberry.type
class MessagingQueries:
    @strawberry.field(
        permission_classes=[IsAuthenticated],
        description="The caller's conversations, newest activity first",
    )
    async def conversations(
        self, info: Info, first: int | None = DEFAULT_PAGE_SIZE, after: str | None = None
    ) -> Connection[Conversation]:
        page = await use_cases.page(info.context, first, after)
        return to_connection(page, lambda doc: _conversation(info, doc))

    @strawberry.field(permission_classes=[IsAuthenticated], description="Participants only")
    async def conversation(self, info: Info, id: strawberry.ID) -> Conversation | None:
        return _conversation(info, await use_cases.get(info.context, id))

    @strawberry.field(
        permission_classes=[IsAuthenticated],
        description="Newest first; page back in time with `after`",
    )
    async def messages(
        self,
        info: Info,
        conversation_id: strawberry.ID,
        first: int | None = DEFAULT_PAGE_SIZE,
        after: str | None = None,
    ) -> Connection[Message]:
        page = await use_cases.messages(info.context, conversation_id, first, after)
        return to_connection(page, Message.from_model)


@strawberry.type
class MessagingMutations:
    @strawberry.mutation(
        permission_classes=[IsAuthenticated],
        description="Investors with ADMIN/MANAGER users; staff with investors and staff",
    )
    async def start_conversation(
        self, info: Info, participant_ids: list[strawberry.ID], subject: str | None = None
    ) -> Conversation:
        doc = await use_cases.start(info.context, [str(p) for p in participant_ids], subject)
        return _conversation(info, doc)

    @strawberry.mutation(
        permission_classes=[IsAuthenticated],
        description="Participants only; a repeated clientMessageId returns the first message",
    )
    async def send_message(
        self,
        info: Info,
        conversation_id: strawberry.ID,
        body: str,
        client_message_id: str | None = None,
    ) -> Message:
        doc = await use_cases.send(info.context, conversation_id, body, client_message_id)
        return Message.from_model(doc)

    @strawberry.mutation(
        permission_classes=[IsAuthenticated], description="Marks every message so far read"
    )
    async def mark_conversation_read(
        self, info: Info, conversation_id: strawberry.ID
    ) -> Conversation:
        return _conversation(info, await use_cases.mark_read(info.context, conversation_id))


@strawberry.type
class MessagingSubscriptions:
    @strawberry.subscription(permission_classes=[IsAuthenticated], description="Participants only")
    async def message_received(
        self,
        info: Info,
        conversation_id: strawberry.ID,
        after: str | None = None,  # an edge cursor of `messages`: replay, then live
    ) -> AsyncGenerator[Message, None]:
        stream = await message_stream.received_messages(info.context, conversation_id, after)
        async for payload in guarded(info.context, stream):
            yield Message.from_payload(payload)


DOMAIN = Domain(
    queries=MessagingQueries,
    mutations=MessagingMutations,
    subscriptions=MessagingSubscriptions,
)
