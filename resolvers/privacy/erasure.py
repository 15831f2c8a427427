"""GDPR/POPIA erasure of one user (ADMIN only), resumable after a crash.

The user is first claimed: ``erasure`` = ERASING with a pseudonym and a lease, in one
conditional update. Then every step runs; each is idempotent, so running them again
(another ``eraseUser`` call once the lease ran out, or at once after a step failed) finishes
the job. The person's name and email stay on the user document until the very last step,
because the earlier steps look for them (outbox, prospects, mentions in free text); that
last step swaps them for the pseudonym and sets ERASED. The ledger (investments,
redemptions, portfolios, transactions) and the audit log are kept, still pointing at the
now pseudonymous user id; only the person's name is taken out of their portfolios' names.
See docs/domain-decisions.md, Privacy."""

import contextlib
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from beanie import Document
from gridfs.errors import NoFile
from pymongo import ReturnDocument

from models.audit import AuditEntry
from models.crm import Activity, Prospect, ProspectTask
from models.documents.records import DocumentRecord
from models.errors import BadUserInput, Conflict
from models.identity import ActionToken, LoginThrottle, OutboxMessage, RefreshSession
from models.investments import Investment, Redemption
from models.messaging import Conversation, Message
from models.portfolios.records import Portfolio
from models.privacy import (
    ERASED_BODY,
    ERASED_FILENAME,
    ERASURE_LEASE,
    MAX_CONFIRM,
    erased_email,
    erased_name,
    mention_pattern,
    new_pseudonym,
    own_name_pattern,
    redact,
    retained,
)
from models.tenants import Tenant
from models.users import ErasureState, Role, User, normalize_email, search_terms
from models.webhooks import WebhookDelivery
from resolvers.audit import trail as audit
from resolvers.core.context import RequestContext
from resolvers.core.scope import get_in_tenant
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


async def _credentials(run: Erasure) -> None:
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


async def _outbox(run: Erasure) -> None:
    deleted = await OutboxMessage.get_pymongo_collection().delete_many(
        {**run.scope, "to": run.user.email}
    )
    run.count("outboxDeleted", deleted.deleted_count)


async def _documents(run: Erasure) -> None:
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


async def _messages(run: Erasure) -> None:
    sent = await Message.get_pymongo_collection().update_many(
        {**run.scope, "sender_id": run.user.id, "body": {"$ne": ERASED_BODY}},
        {"$set": {"body": ERASED_BODY}},
    )
    run.count("messagesErased", sent.modified_count)
    await Conversation.get_pymongo_collection().update_many(
        {**run.scope, "started_by": run.user.id, "subject": {"$nin": [None, ERASED_BODY]}},
        {"$set": {"subject": ERASED_BODY}},
    )


async def _prospects(run: Erasure) -> None:
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


async def _portfolio_names(run: Erasure) -> None:
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


async def _mentions(run: Erasure) -> None:
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


async def _finish(run: Erasure) -> User:
    """The audit entry (once, even when resumed after it was written), then the user
    document itself: the pseudonym replaces name and email, and the erasure is final."""
    user = run.user
    already = await AuditEntry.find_one({**run.scope, "action": "user.erase", "target_id": user.id})
    if already is None:
        await audit.record(
            run.ctx,
            "user.erase",
            "User",
            user.id,
            pseudonym=run.pseudonym,
            resumed=run.resumed,
            steps=run.done,
        )
    finished = await User.get_pymongo_collection().find_one_and_update(
        {"_id": user.id, "erasure": ErasureState.ERASING.value, "pseudonym": run.pseudonym},
        {
            "$set": {
                "full_name": run.name,
                "email": run.email,
                "search": search_terms(run.name, run.email),
                "phone": None,
                "erasure": ErasureState.ERASED.value,
                "erasure_lease_until": None,
                "erased_at": run.ctx.now(),
            }
        },
        return_document=ReturnDocument.AFTER,
    )
    if finished is None:
        raise Conflict("The erasure was finished by another request")
    erased: User = User.model_validate(finished)
    return erased


Step = Callable[[Erasure], Awaitable[None]]
STEPS: tuple[Step, ...] = (
    _credentials,
    _outbox,
    _documents,
    _messages,
    _prospects,
    _portfolio_names,
    _mentions,
)


async def _active_admins(user: User) -> int:
    return await User.find(
        {
            "tenant_id": user.tenant_id,
            "role": Role.ADMIN.value,
            "erasure": None,
            "_id": {"$ne": user.id},
        }
    ).count()


async def _claim(ctx: RequestContext, user: User) -> Erasure:
    """ERASING with a lease, in one conditional update: a fresh user, or an erasure whose
    lease ran out (its run crashed). Anything else is CONFLICT."""
    now = ctx.now()
    pseudonym = user.pseudonym or new_pseudonym()
    claimed = await User.get_pymongo_collection().find_one_and_update(
        {
            "_id": user.id,
            "tenant_id": user.tenant_id,
            "pseudonym": user.pseudonym,
            "$or": [
                {"erasure": None},
                {"erasure": ErasureState.ERASING.value, "erasure_lease_until": {"$lte": now}},
            ],
        },
        {
            "$set": {
                "erasure": ErasureState.ERASING.value,
                "pseudonym": pseudonym,
                "erasure_lease_until": now + ERASURE_LEASE,
            }
        },
        return_document=ReturnDocument.AFTER,
    )
    if claimed is None:
        current = await User.get(user.id)
        if current is not None and current.erasure is ErasureState.ERASED:
            raise Conflict("The user is already erased")
        raise Conflict("An erasure of this user is running; retry in a few minutes")
    return Erasure(ctx, User.model_validate(claimed), pseudonym, resumed=user.erasure is not None)


async def _release(run: Erasure, *, undo: bool) -> None:
    """Give the claim back at once (a failed step: retry now), or undo a fresh claim."""
    changes: dict[str, Any] = {"erasure_lease_until": run.ctx.now()}
    if undo:
        changes = {"erasure": None, "erasure_lease_until": None, "pseudonym": None}
    await User.get_pymongo_collection().update_one(
        {"_id": run.user.id, "erasure": ErasureState.ERASING.value, "pseudonym": run.pseudonym},
        {"$set": changes},
    )


async def erase_user(ctx: RequestContext, raw_user_id: str, confirm: str) -> User:
    principal = ctx.require_principal()
    user = await get_in_tenant(User, principal, raw_user_id, field="userId", what="User")
    if user.id == principal.user_id:
        raise Conflict("You cannot erase yourself; another ADMIN can")
    if user.erasure is ErasureState.ERASED:
        raise Conflict("The user is already erased")
    if len(confirm) > MAX_CONFIRM or normalize_email(confirm) != user.email:
        raise BadUserInput("Type the user's email address to confirm", field="confirm")
    if user.role is Role.ADMIN and await _active_admins(user) == 0:
        raise Conflict("The last ADMIN of a tenant cannot be erased")
    run = await _claim(ctx, user)
    if not run.resumed and user.role is Role.ADMIN and await _active_admins(user) == 0:
        await _release(run, undo=True)  # two ADMINs erasing each other: neither goes
        raise Conflict("The last ADMIN of a tenant cannot be erased")
    try:
        for step in STEPS:
            await step(run)
        return await _finish(run)
    except BaseException:
        await _release(run, undo=False)
        raise
