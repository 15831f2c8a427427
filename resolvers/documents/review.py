"""KYC review of identity and proof-of-address documents by ADMIN/MANAGER; the decisions
drive the owner's ``kycStatus`` (see models.documents.records.kyc_status_from_reviews)."""

from pymongo import ReturnDocument

from models.documents.records import (
    KYC_CATEGORIES,
    DocumentRecord,
    ReviewStatus,
    kyc_status_from_reviews,
)
from models.errors import BadUserInput, Conflict, Forbidden
from models.permissions import Can
from models.users import User
from resolvers.audit import trail as audit
from resolvers.core.context import RequestContext
from resolvers.documents.library import get_visible
from resolvers.users.people import audit_kyc_change, clean_review_reason

_RETRIES = 5


async def review(
    ctx: RequestContext, raw_id: str, decision: ReviewStatus, reason: str | None
) -> DocumentRecord:
    """One decision per document (PENDING → APPROVED | REJECTED); a resubmission is a new
    upload."""
    principal = ctx.require(Can.REVIEW_KYC)
    doc = await get_visible(principal, raw_id)
    if doc.category not in KYC_CATEGORIES:
        raise BadUserInput("Only KYC_ID and PROOF_OF_ADDRESS documents are reviewed", field="id")
    if doc.owner_id == principal.user_id:
        raise Forbidden("You cannot review your own KYC")
    if decision is ReviewStatus.PENDING:
        raise BadUserInput("A review decides APPROVED or REJECTED", field="decision")
    reason = clean_review_reason(reason, required=decision is ReviewStatus.REJECTED)
    reviewed = await DocumentRecord.get_pymongo_collection().find_one_and_update(
        {"_id": doc.id, "tenant_id": doc.tenant_id, "review_status": ReviewStatus.PENDING.value},
        {
            "$set": {
                "review_status": decision.value,
                "review_reason": reason,
                "reviewed_by": principal.user_id,
                "reviewed_at": ctx.now(),
            }
        },
        return_document=ReturnDocument.AFTER,
    )
    if reviewed is None:
        raise Conflict(f"This document was already reviewed ({doc.review_status})")
    await audit.record(
        ctx, "document.review", "Document", doc.id, decision=decision.value, reason=reason
    )
    await _update_owner_kyc(ctx, doc, reason)
    result: DocumentRecord = DocumentRecord.model_validate(reviewed)
    return result


async def _update_owner_kyc(ctx: RequestContext, doc: DocumentRecord, reason: str | None) -> None:
    """Recompute the owner's status from the latest document per KYC category, and set it
    only if the status is still the one it was computed from (retry otherwise)."""
    for _ in range(_RETRIES):
        owner = await User.find_one({"_id": doc.owner_id, "tenant_id": doc.tenant_id})
        if owner is None:
            return
        latest = {}
        for category in KYC_CATEGORIES:
            newest = (
                await DocumentRecord.find(
                    {"tenant_id": doc.tenant_id, "owner_id": doc.owner_id, "category": category}
                )
                .sort("-_id")
                .first_or_none()
            )
            if newest is not None and newest.review_status is not None:
                latest[category] = newest.review_status
        target = kyc_status_from_reviews(latest, owner.kyc_status)
        if target is owner.kyc_status:
            return
        moved = await User.get_pymongo_collection().find_one_and_update(
            {"_id": owner.id, "tenant_id": owner.tenant_id, "kyc_status": owner.kyc_status.value},
            {"$set": {"kyc_status": target.value}},
            return_document=ReturnDocument.AFTER,
        )
        if moved is not None:
            await audit_kyc_change(
                ctx, User.model_validate(moved), owner.kyc_status, reason, document=str(doc.id)
            )
            return
