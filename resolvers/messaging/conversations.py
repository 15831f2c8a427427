"""Messaging between an investor and the tenant's staff.

Rules (see docs/domain-decisions.md, Messaging):
- An INVESTOR may start a conversation with ADMIN/MANAGER users of their tenant only; naming
  any other user (another investor, an analyst) is NOT_FOUND, as investors cannot see other
  users. Staff (ADMIN/MANAGER) may add investors and other staff; at most one investor per
  conversation (investors never message each other). ANALYST is read-only: starting,
  sending and marking read are FORBIDDEN, and analysts are never participants.
- Conversations are private to their participants: anyone else gets NOT_FOUND.
- Messages are stored, then published to a per-conversation, tenant-scoped topic."""

from functools import partial

from beanie import PydanticObjectId
from bson import ObjectId
from pymongo import ReturnDocument
from pymongo.errors import DuplicateKeyError

from models.errors import BadUserInput, Conflict, NotFound
from models.messaging import (
    MAX_BODY,
    MAX_CLIENT_MESSAGE_ID,
    MAX_PARTICIPANTS,
    MAX_SUBJECT,
    Conversation,
    Message,
)
from models.permissions import Can
from models.users import STAFF_ROLES, Role, User
from resolvers.core.context import Principal, RequestContext
from resolvers.core.pagination import NEWEST_FIRST, Page, Sort, page_of
from resolvers.core.post_commit import after_commit
from resolvers.core.scope import parse_id, tenant_filter
from subscriptions.messaging import publish_message


def _clean_subject(subject: str | None) -> str | None:
    cleaned = (subject or "").strip()
    if len(cleaned) > MAX_SUBJECT:
        raise BadUserInput(f"Subject is limited to {MAX_SUBJECT} characters", field="subject")
    return cleaned or None


def _clean_body(body: str) -> str:
    cleaned = body.strip()
    if not cleaned or len(cleaned) > MAX_BODY:
        raise BadUserInput(f"A message must be 1-{MAX_BODY} characters", field="body")
    return cleaned


def _clean_client_id(client_message_id: str | None) -> str | None:
    if client_message_id is None:
        return None
    cleaned = client_message_id.strip()
    if not cleaned or len(cleaned) > MAX_CLIENT_MESSAGE_ID:
        raise BadUserInput(
            f"clientMessageId must be 1-{MAX_CLIENT_MESSAGE_ID} characters",
            field="clientMessageId",
        )
    return cleaned


async def _participants(principal: Principal, raw_ids: list[str]) -> list[User]:
    """The named users (caller excluded, duplicates dropped), checked against the rules."""
    if len(raw_ids) > MAX_PARTICIPANTS:
        raise BadUserInput(f"At most {MAX_PARTICIPANTS} participants", field="participantIds")
    ids = list(dict.fromkeys(parse_id(raw, field="participantIds") for raw in raw_ids))
    ids = [i for i in ids if i != principal.user_id]
    if not ids:
        raise BadUserInput("Name at least one other participant", field="participantIds")
    found = await User.find(tenant_filter(principal, _id={"$in": ids})).to_list()
    by_id = {user.id: user for user in found}
    investor = principal.role is Role.INVESTOR
    users: list[User] = []
    for user_id in ids:
        user = by_id.get(user_id)
        if user is None or (investor and user.role not in STAFF_ROLES):
            raise NotFound("User not found")
        if user.role is Role.ANALYST:
            raise BadUserInput(
                "Analysts are read-only and cannot take part in conversations",
                field="participantIds",
            )
        users.append(user)
    investors = [u for u in users if u.role is Role.INVESTOR] + (
        [principal.user] if investor else []
    )
    if len(investors) > 1:
        raise BadUserInput(
            "Investors cannot message each other: one investor per conversation",
            field="participantIds",
        )
    return users


async def start(
    ctx: RequestContext, participant_ids: list[str], subject: str | None
) -> Conversation:
    principal = ctx.require(Can.CONVERSE)
    subject = _clean_subject(subject)
    others = await _participants(principal, participant_ids)
    conversation_id = PydanticObjectId(ObjectId())
    conversation = Conversation(
        id=conversation_id,
        tenant_id=principal.tenant_id,
        subject=subject,
        participant_ids=[principal.user_id, *(u.id for u in others if u.id is not None)],
        started_by=principal.user_id,
        activity_id=conversation_id,
        created_at=ctx.now(),
    )
    await conversation.insert()
    return conversation


async def get(ctx: RequestContext, raw_id: str, *, field: str = "id") -> Conversation:
    """A conversation the caller takes part in, else NOT_FOUND."""
    principal = ctx.require_principal()
    conversation_id = parse_id(raw_id, field=field)
    found = await Conversation.find_one(
        tenant_filter(principal, _id=conversation_id, participant_ids=principal.user_id)
    )
    if found is None:
        raise NotFound("Conversation not found")
    return found


async def _replay(conversation: Conversation, dedupe_key: str, body: str) -> Message | None:
    found = await Message.find_one(
        {
            "tenant_id": conversation.tenant_id,
            "conversation_id": conversation.id,
            "dedupe_key": dedupe_key,
        }
    )
    if found is not None and found.body != body:
        raise Conflict(
            "This clientMessageId was used for a different message", field="clientMessageId"
        )
    return found


async def send(
    ctx: RequestContext, raw_id: str, body: str, client_message_id: str | None = None
) -> Message:
    """Store the message (once per clientMessageId), then publish it."""
    principal = ctx.require(Can.CONVERSE)
    conversation = await get(ctx, raw_id, field="conversationId")
    assert conversation.id is not None
    body, client_id = _clean_body(body), _clean_client_id(client_message_id)
    message_id = PydanticObjectId(ObjectId())
    dedupe_key = f"{principal.user_id}:{client_id}" if client_id else f"server:{message_id}"
    if client_id is not None:
        replay = await _replay(conversation, dedupe_key, body)
        if replay is not None:
            return replay
    message = Message(
        id=message_id,
        tenant_id=principal.tenant_id,
        conversation_id=conversation.id,
        sender_id=principal.user_id,
        body=body,
        client_message_id=client_id,
        dedupe_key=dedupe_key,
        created_at=ctx.now(),
    )
    try:
        await message.insert()
    except DuplicateKeyError:  # a concurrent retry with the same clientMessageId won
        replay = await _replay(conversation, dedupe_key, body)
        if replay is None:
            raise
        return replay
    await Conversation.get_pymongo_collection().update_one(
        {"_id": conversation.id, "tenant_id": principal.tenant_id},
        {
            "$max": {
                "activity_id": message_id,
                "last_message_id": message_id,
            }
        },
    )
    announce = partial(publish_message, ctx.services.broker, message)
    await after_commit(ctx.services.background, "message-publish", announce)
    return message


async def mark_read(ctx: RequestContext, raw_id: str) -> Conversation:
    """Everything sent so far counts as read by the caller. The marker only moves forward."""
    principal = ctx.require(Can.CONVERSE)
    conversation = await get(ctx, raw_id, field="conversationId")
    if conversation.last_message_id is None:
        return conversation
    doc = await Conversation.get_pymongo_collection().find_one_and_update(
        {"_id": conversation.id, "tenant_id": principal.tenant_id},
        {"$max": {f"read_up_to.{principal.user_id}": conversation.last_message_id}},
        return_document=ReturnDocument.AFTER,
    )
    assert doc is not None
    updated: Conversation = Conversation.model_validate(doc)
    return updated


async def page(ctx: RequestContext, first: int | None, after: str | None) -> Page[Conversation]:
    """The caller's conversations, newest activity (last message, else start) first."""
    principal = ctx.require_principal()
    return await page_of(
        Conversation,
        tenant_filter(principal, participant_ids=principal.user_id),
        ctx,
        list_name="conversations",
        first=first,
        after=after,
        sort=Sort(field="activity_id", descending=True),
    )


def messages_list(conversation: Conversation) -> str:
    """The name ``messages`` cursors of this conversation are bound to."""
    return f"messages:{conversation.id}"


async def messages(
    ctx: RequestContext, raw_id: str, first: int | None, after: str | None
) -> Page[Message]:
    """Newest first: a chat client shows the latest page and pages back with ``after``."""
    conversation = await get(ctx, raw_id, field="conversationId")
    return await page_of(
        Message,
        {"tenant_id": conversation.tenant_id, "conversation_id": conversation.id},
        ctx,
        list_name=messages_list(conversation),
        first=first,
        after=after,
        sort=NEWEST_FIRST,
    )
