"""Conversations between an investor and the tenant's staff, and their messages."""

from beanie import PydanticObjectId
from pydantic import Field
from pymongo import ASCENDING, DESCENDING, IndexModel

from models.base import TenantDocument, tenant_index

MAX_SUBJECT = 200
MAX_BODY = 10_000
MAX_PARTICIPANTS = 20
MAX_CLIENT_MESSAGE_ID = 200


class Conversation(TenantDocument):
    subject: str | None = None
    participant_ids: list[PydanticObjectId]
    started_by: PydanticObjectId
    # The newest message's id, or the conversation's own id before any message: a unique,
    # only-growing key for "newest activity first" keyset pages.
    activity_id: PydanticObjectId | None = None
    last_message_id: PydanticObjectId | None = None
    # user id (str) → id of the newest message that user has read; only ever grows ($max)
    read_up_to: dict[str, PydanticObjectId] = Field(default_factory=dict)

    class Settings:
        name = "conversations"
        indexes = [
            IndexModel(
                [
                    ("tenant_id", ASCENDING),
                    ("participant_ids", ASCENDING),
                    ("activity_id", DESCENDING),
                ]
            ),
        ]


class Message(TenantDocument):
    conversation_id: PydanticObjectId
    sender_id: PydanticObjectId
    body: str
    client_message_id: str | None = None
    # sender + client message id (or a generated value): unique per conversation, so a
    # retried send returns the first message instead of storing a duplicate
    dedupe_key: str

    class Settings:
        name = "messages"
        indexes = [
            tenant_index("conversation_id", "_id"),
            tenant_index("conversation_id", "dedupe_key", unique=True),
        ]
