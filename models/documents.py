"""Stored documents and their signatures (the readiness gate reads signed agreements)."""

from datetime import datetime
from enum import StrEnum

from beanie import PydanticObjectId
from pydantic import BaseModel, Field

from models.base import TenantDocument, tenant_index


class DocumentCategory(StrEnum):
    KYC_ID = "KYC_ID"
    PROOF_OF_ADDRESS = "PROOF_OF_ADDRESS"
    AGREEMENT = "AGREEMENT"
    STATEMENT = "STATEMENT"
    TAX = "TAX"
    OTHER = "OTHER"


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
    signatures: list[SignatureRecord] = Field(default_factory=list)

    class Settings:
        name = "documents"
        indexes = [tenant_index("owner_id", "category")]
