"""GDPR/POPIA subject access: every piece of personal data Fidus holds about one user, as
one JSON document. An ADMIN exports anyone of the tenant, everyone exports themself;
another user's id is NOT_FOUND for an investor (they cannot see other users) and
FORBIDDEN for MANAGER/ANALYST. Secrets (password and token hashes, TOTP secrets, webhook
secrets, check-in codes) are never part of it, nor the address and user agent of anyone
else acting on them (staff in audit entries). Every export is audited."""

from collections.abc import Sequence
from typing import Any

import orjson
from beanie import Document, PydanticObjectId

from models.audit import AuditEntry
from models.crm import Activity, Prospect, ProspectTask
from models.documents.records import DocumentRecord
from models.errors import Forbidden
from models.events import Event, Registration
from models.funds.products import FundInvitation
from models.identity import ActionToken, OutboxMessage, RefreshSession, ServiceToken
from models.investments import Investment, Redemption
from models.messaging import Conversation, Message
from models.mt5 import Mt5Account
from models.opportunities import Interest, Opportunity
from models.portfolios.records import Portfolio, Transaction
from models.privacy import scrub
from models.tenants import Tenant
from models.users import Role, User
from models.webhooks import WebhookEndpoint
from resolvers.audit import trail as audit
from resolvers.core.context import RequestContext
from resolvers.documents.download_links import download_url
from resolvers.users.people import get_user

FORMAT = "fidus-subject-export/1"


def plain(doc: Document | dict[str, Any], *, exclude: Sequence[str] = ()) -> dict[str, Any]:
    """JSON-safe fields of a document (ids, decimals become strings), secrets dropped."""
    raw = doc if isinstance(doc, dict) else doc.model_dump()
    kept = {k: v for k, v in raw.items() if k not in exclude and k != "tenant_id"}
    data: dict[str, Any] = scrub(orjson.loads(orjson.dumps(kept, default=str)))
    return data


def _ids(docs: Sequence[Document]) -> list[PydanticObjectId]:
    return [d.id for d in docs if d.id is not None]


def _profile(user: User, tenant: Tenant | None) -> dict[str, Any]:
    profile = plain(user, exclude=("search",))
    profile["tenant"] = {"slug": tenant.slug, "name": tenant.name} if tenant else None
    profile["mfa"] = {
        "enabled": user.mfa_enabled,
        "enrollmentPending": user.mfa_pending_secret is not None,
    }
    return profile


async def _identity(user: User, scope: dict[str, Any]) -> dict[str, Any]:
    sessions = await RefreshSession.find({**scope, "user_id": user.id}).sort("_id").to_list()
    tokens = await ActionToken.find({**scope, "user_id": user.id}).sort("_id").to_list()
    outbox = await OutboxMessage.find({**scope, "to": user.email}).sort("_id").to_list()
    service_tokens = await ServiceToken.find({**scope, "created_by": user.id}).to_list()
    endpoints = await WebhookEndpoint.find({**scope, "created_by": user.id}).to_list()
    return {
        "sessions": [plain(s) for s in sessions],
        "actionTokens": [plain(t) for t in tokens],
        # bodies carry single-use tokens: what was sent and when, not the body
        "messagesSentToYou": [plain(m, exclude=("body",)) for m in outbox],
        "serviceTokensCreated": [plain(t) for t in service_tokens],
        "webhooksCreated": [plain(e, exclude=("key_id",)) for e in endpoints],
    }


async def _finance(user: User, scope: dict[str, Any]) -> dict[str, Any]:
    investments = await Investment.find({**scope, "investor_id": user.id}).sort("_id").to_list()
    redemptions = await Redemption.find(
        {**scope, "$or": [{"investor_id": user.id}, {"requested_by": user.id}]}
    ).to_list()
    portfolios = await Portfolio.find({**scope, "owner_id": user.id}).sort("_id").to_list()
    transactions = (
        await Transaction.find({**scope, "portfolio_id": {"$in": _ids(portfolios)}})
        .sort("_id")
        .to_list()
    )
    accounts = await Mt5Account.find({**scope, "portfolio_id": {"$in": _ids(portfolios)}}).to_list()
    invitations = await FundInvitation.find({**scope, "investor_id": user.id}).to_list()
    interests = await Interest.find({**scope, "investor_id": user.id}).to_list()
    opportunities = await Opportunity.find(
        {**scope, "_id": {"$in": [i.opportunity_id for i in interests]}}
    ).to_list()
    names = {o.id: o.name for o in opportunities}
    return {
        "investments": [plain(i) for i in investments],
        "redemptions": [plain(r) for r in redemptions],
        "portfolios": [
            {
                **plain(p),
                "transactions": [plain(t) for t in transactions if t.portfolio_id == p.id],
            }
            for p in portfolios
        ],
        "mt5Accounts": [plain(a, exclude=("positions",)) for a in accounts],
        "fundInvitations": [plain(i) for i in invitations],
        "interests": [
            {**plain(i), "opportunityName": names.get(i.opportunity_id)} for i in interests
        ],
    }


async def _documents(ctx: RequestContext, user: User, scope: dict[str, Any]) -> dict[str, Any]:
    docs = (
        await DocumentRecord.find(
            {
                **scope,
                "$or": [
                    {"owner_id": user.id},
                    {"uploaded_by": user.id},
                    {"shared_with": user.id},
                    {"signatures.signer_id": user.id},
                ],
            }
        )
        .sort("_id")
        .to_list()
    )
    return {
        "documents": [
            {
                **plain(d, exclude=("signatures",)),
                "downloadUrl": download_url(ctx, d.id) if d.file_id is not None else None,
                "yourSignatures": [
                    plain(s.model_dump()) for s in d.signatures if s.signer_id == user.id
                ],
            }
            for d in docs
        ]
    }


async def _engagement(user: User, scope: dict[str, Any]) -> dict[str, Any]:
    registrations = await Registration.find({**scope, "user_id": user.id}).sort("_id").to_list()
    events = await Event.find(
        {**scope, "_id": {"$in": [r.event_id for r in registrations]}}
    ).to_list()
    titles = {e.id: (e.title, e.starts_at) for e in events}
    conversations = await Conversation.find({**scope, "participant_ids": user.id}).to_list()
    messages = await Message.find({**scope, "sender_id": user.id}).sort("_id").to_list()
    return {
        "eventRegistrations": [
            {
                **plain(r),
                "eventTitle": titles.get(r.event_id, (None, None))[0],
                "eventStartsAt": plain({"at": titles.get(r.event_id, (None, None))[1]})["at"],
            }
            for r in registrations
        ],
        "conversations": [plain(c, exclude=("read_up_to",)) for c in conversations],
        "messagesSent": [plain(m, exclude=("client_message_id",)) for m in messages],
    }


async def _crm(user: User, scope: dict[str, Any]) -> dict[str, Any]:
    prospects = await Prospect.find(
        {**scope, "$or": [{"converted_user_id": user.id}, {"email": user.email}]}
    ).to_list()
    ids = _ids(prospects)
    activities = await Activity.find({**scope, "prospect_id": {"$in": ids}}).sort("_id").to_list()
    tasks = await ProspectTask.find({**scope, "prospect_id": {"$in": ids}}).sort("_id").to_list()
    return {
        "prospectRecords": [
            {
                **plain(p, exclude=("converting",)),
                "activities": [plain(a) for a in activities if a.prospect_id == p.id],
                "tasks": [plain(t) for t in tasks if t.prospect_id == p.id],
            }
            for p in prospects
        ]
    }


# another person's network identity in an audit entry about the subject (staff reviewing
# their KYC, say) is that person's data, not the subject's
OTHERS_NETWORK_DATA = ("client_ip", "user_agent")


async def _audit(user: User, scope: dict[str, Any]) -> dict[str, Any]:
    entries = (
        await AuditEntry.find({**scope, "$or": [{"actor_id": user.id}, {"target_id": user.id}]})
        .sort("_id")
        .to_list()
    )
    return {
        "auditEntries": [
            plain(e, exclude=() if e.actor_id == user.id else OTHERS_NETWORK_DATA) for e in entries
        ]
    }


async def export_user_data(ctx: RequestContext, raw_user_id: str) -> dict[str, Any]:
    principal = ctx.require_principal()
    user = await get_user(ctx, raw_user_id)  # investors: anyone but themself is NOT_FOUND
    if user.id != principal.user_id and principal.role is not Role.ADMIN:
        raise Forbidden("Only an ADMIN exports another user's data")
    scope = {"tenant_id": user.tenant_id}
    export: dict[str, Any] = {
        "format": FORMAT,
        "generatedAt": ctx.now().isoformat(),
        "subjectId": str(user.id),
        "profile": _profile(user, await Tenant.get(user.tenant_id)),
        **await _identity(user, scope),
        **await _finance(user, scope),
        **await _documents(ctx, user, scope),
        **await _engagement(user, scope),
        **await _crm(user, scope),
        **await _audit(user, scope),
    }
    counts = {k: len(v) for k, v in export.items() if isinstance(v, list)}
    await audit.record(ctx, "user.export", "User", user.id, sections=counts)
    return export
