"""The steps of a user's erasure (resolvers/privacy/erasure.py runs them in order):
each takes the claimed run and is idempotent, so a run that stopped half-way is finished
by running them all again."""

import contextlib
import re
from dataclasses import dataclass, field
from typing import Any

from beanie import Document
from gridfs.errors import NoFile

from models.crm import Activity, Prospect, ProspectTask
from models.documents.records import DocumentRecord
from models.identity import ActionToken, LoginThrottle, OutboxMessage, RefreshSession
from models.investments import Investment, Redemption
from models.messaging import Conversation, Message
from models.portfolios.records import Portfolio
from models.privacy import (
    ERASED_BODY,
    ERASED_FILENAME,
    erased_email,
    erased_name,
    mention_pattern,
    own_name_pattern,
    redact,
    retained,
)
from models.tenants import Tenant
from models.users import User
from models.webhooks import WebhookDelivery
from resolvers.core.context import RequestContext
from resolvers.documents import files as document_files
from resolvers.identity import login_throttle as throttle
from subscriptions.sessions import sessions_changed

# Free-text fields where a person may be mentioned by name or email (by them or others).
MENTION_FIELDS: tuple[tuple[type[Document], str], ...] = (
    (Activity, "text"),
    (ProspectTask, "title"),
    (Message, "body"),
    (Conversation, "subject"),
    (Investment, "override_reason"),
    (Redemption, "reason"),
    (DocumentRecord, "review_reason"),
    (DocumentRecord, "filename"),
    (OutboxMessage, "subject"),
    (OutboxMessage, "body"),
    (WebhookDelivery, "body"),
)


@dataclass
class Erasure:
    """One run over a claimed user: what the steps need and what they did."""

    ctx: RequestContext
    user: User  # as claimed: the original name and email are still on it
    pseudonym: str
    resumed: bool
    done: dict[str, int] = field(default_factory=dict)

    @property
    def scope(self) -> dict[str, Any]:
        return {"tenant_id": self.user.tenant_id}

    @property
    def name(self) -> str:
        return erased_name(self.pseudonym)

    @property
    def email(self) -> str:
        return erased_email(self.pseudonym)

    def mentions(self) -> re.Pattern[str] | None:
        return mention_pattern([self.user.full_name, self.user.email])

    def count(self, key: str, n: int) -> None:
        self.done[key] = self.done.get(key, 0) + n


async def credentials(run: Erasure) -> None:
    """No way back in: no password, no MFA, sessions revoked (and their client details
    dropped), pending invitations/resets deleted, the login throttle forgotten."""
    user, now = run.user, run.ctx.now()
    await User.get_pymongo_collection().update_one(
        {"_id": user.id},
        {
            "$set": {
                "password_hash": None,
                "mfa_secret": None,
                "mfa_pending_secret": None,
                "phone": None,
            }
        },
    )
    sessions = RefreshSession.get_pymongo_collection()
    await sessions.update_many(
        {**run.scope, "user_id": user.id, "revoked_at": None},
        {"$set": {"revoked_at": now, "revoked_reason": "user erased"}},
    )
    await sessions_changed(run.ctx.services.broker, user_ids=[user.id])
    await sessions.update_many(
        {**run.scope, "user_id": user.id}, {"$set": {"client_ip": None, "user_agent": None}}
    )
    tokens = await ActionToken.get_pymongo_collection().delete_many(
        {**run.scope, "user_id": user.id}
    )
    run.count("actionTokensDeleted", tokens.deleted_count)
    tenant = await Tenant.get(user.tenant_id)
    if tenant is not None:
        key = throttle.account_key(tenant.slug, user.email)
        await LoginThrottle.get_pymongo_collection().delete_one({"key": key})


async def outbox(run: Erasure) -> None:
    deleted = await OutboxMessage.get_pymongo_collection().delete_many(
        {**run.scope, "to": run.user.email}
    )
    run.count("outboxDeleted", deleted.deleted_count)


async def documents(run: Erasure) -> None:
    """Owned documents lose their bytes unless retained (signed agreements, statements);
    the metadata row stays so the audit trail still resolves. Their signatures anywhere
    keep signer, time and hash, with the pseudonym for a name."""
    collection = DocumentRecord.get_pymongo_collection()
    owned = await DocumentRecord.find({**run.scope, "owner_id": run.user.id}).to_list()
    for doc in owned:
        if retained(doc):
            run.count("documentsRetained", 1)
            continue
        if doc.file_id is not None:
            with contextlib.suppress(NoFile):  # deleted by an earlier, interrupted run
                await document_files.bucket().delete(doc.file_id)
            run.count("filesDeleted", 1)
        await collection.update_one(
            {"_id": doc.id},
            {"$set": {"file_id": None, "filename": ERASED_FILENAME, "review_reason": None}},
        )
    signed = await DocumentRecord.find({**run.scope, "signatures.signer_id": run.user.id}).to_list()
    for doc in signed:
        signatures = [s.model_dump() for s in doc.signatures]
        for signature in signatures:
            if signature["signer_id"] == run.user.id:
                signature.update(full_name=run.name, client_ip=None, user_agent=None)
        await collection.update_one({"_id": doc.id}, {"$set": {"signatures": signatures}})


async def messages(run: Erasure) -> None:
    sent = await Message.get_pymongo_collection().update_many(
        {**run.scope, "sender_id": run.user.id, "body": {"$ne": ERASED_BODY}},
        {"$set": {"body": ERASED_BODY}},
    )
    run.count("messagesErased", sent.modified_count)
    await Conversation.get_pymongo_collection().update_many(
        {**run.scope, "started_by": run.user.id, "subject": {"$nin": [None, ERASED_BODY]}},
        {"$set": {"subject": ERASED_BODY}},
    )


async def prospects(run: Erasure) -> None:
    """The CRM record they were converted from (or that has their email): anonymised."""
    pattern = run.mentions()
    found = (
        await Prospect.find(
            {**run.scope, "$or": [{"converted_user_id": run.user.id}, {"email": run.user.email}]}
        )
        .sort("_id")
        .to_list()
    )
    for index, prospect in enumerate(found):
        checks = [c.model_dump() for c in prospect.aml_checks]
        if pattern is not None:
            for check in checks:
                check["note"] = redact(check["note"], pattern, run.name)
        await Prospect.get_pymongo_collection().update_one(
            {"_id": prospect.id},
            {
                "$set": {
                    "full_name": run.name,
                    "email": erased_email(run.pseudonym, index),
                    "aml_checks": checks,
                }
            },
        )
    run.count("prospectsAnonymised", len(found))


async def portfolio_names(run: Erasure) -> None:
    """Their own portfolios keep the ledger but lose the name ("Jane Doe's savings" →
    "[erased]'s savings"): the full name, email and each name part become ``[erased]``."""
    pattern = own_name_pattern(run.user.full_name, run.user.email)
    if pattern is None:
        return
    collection = Portfolio.get_pymongo_collection()
    cursor = collection.find({**run.scope, "owner_id": run.user.id}, projection={"name": 1})
    async for doc in cursor:
        name = redact(doc["name"], pattern, ERASED_BODY)
        if name != doc["name"]:
            await collection.update_one(
                {"_id": doc["_id"], "name": doc["name"]}, {"$set": {"name": name}}
            )
            run.count("portfolioNamesRedacted", 1)


async def mentions(run: Erasure) -> None:
    """Their name or email in free text (staff notes, other people's messages, webhook
    bodies, outbox mail): replaced by the pseudonym."""
    pattern = run.mentions()
    if pattern is None:
        return
    for model, name in MENTION_FIELDS:
        collection = model.get_pymongo_collection()
        cursor = collection.find(
            {**run.scope, name: {"$regex": pattern.pattern, "$options": "i"}},
            projection={name: 1},
        )
        async for doc in cursor:
            text = pattern.sub(lambda m: run.email if "@" in m.group(0) else run.name, doc[name])
            await collection.update_one(
                {"_id": doc["_id"], name: doc[name]}, {"$set": {name: text}}
            )
            run.count("mentionsRedacted", 1)
