"""Stored documents and their signatures (the readiness gate reads signed agreements).

The bytes live in GridFS (``file_id``) and are written once: there is no path that replaces
them, so a new version of a document is a new document (``previous_version_id``)."""

from datetime import datetime
from enum import StrEnum

from beanie import PydanticObjectId
from pydantic import BaseModel, Field

from models.base import TenantDocument, tenant_index
from models.users import KycStatus


class DocumentCategory(StrEnum):
    KYC_ID = "KYC_ID"
    PROOF_OF_ADDRESS = "PROOF_OF_ADDRESS"
    AGREEMENT = "AGREEMENT"
    STATEMENT = "STATEMENT"
    TAX = "TAX"
    OTHER = "OTHER"


KYC_CATEGORIES = frozenset({DocumentCategory.KYC_ID, DocumentCategory.PROOF_OF_ADDRESS})
# Issued to an investor by staff (investors sign them, they do not upload them).
ISSUED_CATEGORIES = frozenset({DocumentCategory.AGREEMENT, DocumentCategory.STATEMENT})


class ReviewStatus(StrEnum):
    PENDING = "PENDING"
    APPROVED = "APPROVED"
    REJECTED = "REJECTED"


class SignatureRecord(BaseModel):
    signer_id: PydanticObjectId
    signed_at: datetime
    document_sha256: str
    full_name: str
    client_ip: str | None = None
    user_agent: str | None = None


class DocumentRecord(TenantDocument):
    owner_id: PydanticObjectId
    category: DocumentCategory
    filename: str
    content_type: str
    size: int
    sha256: str
    file_id: PydanticObjectId | None = None  # GridFS id of the bytes
    uploaded_by: PydanticObjectId | None = None
    shared_with: list[PydanticObjectId] = Field(default_factory=list)
    signatures: list[SignatureRecord] = Field(default_factory=list)
    review_status: ReviewStatus | None = None  # KYC documents only
    review_reason: str | None = None
    reviewed_by: PydanticObjectId | None = None
    reviewed_at: datetime | None = None

    class Settings:
        name = "documents"
        indexes = [tenant_index("owner_id", "category"), tenant_index("shared_with")]


def kyc_status_from_reviews(
    latest: dict[DocumentCategory, ReviewStatus], current: KycStatus
) -> KycStatus:
    """The owner's KYC status from the review of their latest document per KYC category:
    any rejected → REJECTED; an approved ID and an approved proof of address → APPROVED;
    otherwise PENDING while documents await review (unchanged when there are none)."""
    if not latest:
        return current
    if ReviewStatus.REJECTED in latest.values():
        return KycStatus.REJECTED
    if all(latest.get(c) is ReviewStatus.APPROVED for c in KYC_CATEGORIES):
        return KycStatus.APPROVED
    return KycStatus.PENDING


def same_name(typed: str, full_name: str) -> bool:
    """A typed signature matches the signer's name, ignoring case and spacing."""

    def norm(value: str) -> str:
        return " ".join(value.split()).casefold()

    return bool(norm(typed)) and norm(typed) == norm(full_name)
