"""Documents, sharing, KYC review and e-signature."""

from datetime import datetime
from enum import StrEnum
from typing import Any

import strawberry
from beanie import PydanticObjectId
from strawberry.file_uploads import Upload

from models.documents import records as models
from models.documents.content import served_filename
from models.errors import BadUserInput
from models.permissions import Can
from resolvers.core.pagination import DEFAULT_PAGE_SIZE
from resolvers.documents import download_links as document_links
from resolvers.documents import library as use_cases
from resolvers.documents import review as document_review
from resolvers.documents import signing as document_signing
from resolvers.portfolios import statements
from schema.core.context import Info
from schema.core.domains import Domain
from schema.core.permissions import Allowed, IsAuthenticated
from schema.core.relay import Connection, to_connection
from schema.users import User, load_user

DocumentCategory = models.DocumentCategory
ReviewStatus = models.ReviewStatus
strawberry.enum(DocumentCategory)
strawberry.enum(ReviewStatus, name="DocumentReviewStatus")


@strawberry.enum
class DocumentDecision(StrEnum):
    APPROVED = "APPROVED"
    REJECTED = "REJECTED"


@strawberry.type
class Signature:
    signed_at: datetime
    document_sha256: str
    full_name: str = strawberry.field(description="The name as typed when signing")
    signer_id: strawberry.Private[str]

    @strawberry.field
    async def signer(self, info: Info) -> User:
        return await load_user(info, self.signer_id)


@strawberry.type
class Document:
    id: strawberry.ID
    filename: str
    content_type: str
    size: int
    sha256: str
    category: DocumentCategory
    created_at: datetime
    signatures: list[Signature]
    review_status: ReviewStatus | None = strawberry.field(
        description="KYC documents: PENDING until ADMIN/MANAGER decide"
    )
    review_reason: str | None
    owner_id: strawberry.Private[str]

    @classmethod
    def from_model(cls, doc: models.DocumentRecord) -> "Document":
        return cls(
            id=strawberry.ID(str(doc.id)),
            filename=served_filename(doc.filename),
            content_type=doc.content_type,
            size=doc.size,
            sha256=doc.sha256,
            category=doc.category,
            created_at=doc.created_at,
            signatures=[
                Signature(
                    signed_at=s.signed_at,
                    document_sha256=s.document_sha256,
                    full_name=s.full_name,
                    signer_id=str(s.signer_id),
                )
                for s in doc.signatures
            ],
            review_status=doc.review_status,
            review_reason=doc.review_reason,
            owner_id=str(doc.owner_id),
        )

    @strawberry.field
    async def owner(self, info: Info) -> User:
        return await load_user(info, self.owner_id)

    @strawberry.field(description="Short-lived link for the caller: GET it to download")
    def download_url(self, info: Info) -> str:
        return document_links.download_url(info.context, PydanticObjectId(self.id))


@strawberry.type
class DocumentVerification:
    document: Document
    computed_sha256: str | None = strawberry.field(
        description="SHA-256 of the bytes stored now; null when they are missing"
    )
    content_intact: bool = strawberry.field(description="computed == the recorded sha256")
    signatures_intact: bool = strawberry.field(description="every signature's hash == computed")
    valid: bool


@strawberry.input
class UploadDocumentInput:
    category: DocumentCategory
    owner_id: strawberry.ID | None = strawberry.field(
        default=None, description="ADMIN/MANAGER: upload for this user; default yourself"
    )


@strawberry.input
class SignatureInput:
    full_name: str
    consent: bool


@strawberry.type
class DocumentQueries:
    @strawberry.field(permission_classes=[IsAuthenticated])
    async def documents(
        self,
        info: Info,
        first: int | None = DEFAULT_PAGE_SIZE,
        after: str | None = None,
        owner_id: strawberry.ID | None = None,
        category: DocumentCategory | None = None,
    ) -> Connection[Document]:
        page = await use_cases.page(info.context, first, after, owner_id, category)
        return to_connection(page, Document.from_model)

    @strawberry.field(permission_classes=[IsAuthenticated])
    async def document(self, info: Info, id: strawberry.ID) -> Document | None:
        return Document.from_model(await use_cases.get(info.context, id))

    @strawberry.field(
        permission_classes=[IsAuthenticated],
        description="Recompute the SHA-256 of the stored bytes and compare it with the "
        "recorded hash and every signature's hash",
    )
    async def verify_document(self, info: Info, id: strawberry.ID) -> DocumentVerification:
        checked = await document_signing.verify(info.context, id)
        return DocumentVerification(
            document=Document.from_model(checked.document),
            computed_sha256=checked.computed_sha256,
            content_intact=checked.content_intact,
            signatures_intact=checked.signatures_intact,
            valid=checked.valid,
        )


def _file(file: Any) -> use_cases.UploadedFile:
    """Only a real multipart upload carries a file (a JSON string is not one)."""
    if not (hasattr(file, "read") and hasattr(file, "seek")):
        raise BadUserInput("Send the file as a GraphQL multipart upload", field="file")
    uploaded: use_cases.UploadedFile = file
    return uploaded


@strawberry.type
class DocumentMutations:
    @strawberry.mutation(
        permission_classes=[IsAuthenticated],
        description="GraphQL multipart request; send the header apollo-require-preflight",
    )
    async def upload_document(
        self, info: Info, file: Upload, input: UploadDocumentInput
    ) -> Document:
        doc = await use_cases.upload(info.context, _file(file), input.category, input.owner_id)
        return Document.from_model(doc)

    @strawberry.mutation(
        permission_classes=[Allowed(Can.SHARE_DOCUMENTS)], description="Idempotent"
    )
    async def share_document(
        self, info: Info, id: strawberry.ID, user_ids: list[strawberry.ID]
    ) -> Document:
        return Document.from_model(await use_cases.share(info.context, id, list(user_ids)))

    @strawberry.mutation(permission_classes=[Allowed(Can.SHARE_DOCUMENTS)])
    async def unshare_document(
        self, info: Info, id: strawberry.ID, user_ids: list[strawberry.ID]
    ) -> Document:
        return Document.from_model(await use_cases.unshare(info.context, id, list(user_ids)))

    @strawberry.mutation(permission_classes=[IsAuthenticated])
    async def sign_document(self, info: Info, id: strawberry.ID, input: SignatureInput) -> Document:
        doc = await document_signing.sign(info.context, id, input.full_name, input.consent)
        return Document.from_model(doc)

    @strawberry.mutation(
        permission_classes=[Allowed(Can.REVIEW_KYC)], description="KYC documents; audited"
    )
    async def review_document(
        self, info: Info, id: strawberry.ID, decision: DocumentDecision, reason: str | None = None
    ) -> Document:
        doc = await document_review.review(info.context, id, ReviewStatus(decision.value), reason)
        return Document.from_model(doc)

    @strawberry.mutation(
        permission_classes=[IsAuthenticated],
        description="Monthly statement PDF (month YYYY-MM) stored as a STATEMENT document "
        "of the portfolio's investor; the investor or ADMIN/MANAGER",
    )
    async def generate_statement(
        self, info: Info, portfolio_id: strawberry.ID, month: str
    ) -> Document:
        return Document.from_model(await statements.generate(info.context, portfolio_id, month))


DOMAIN = Domain(queries=DocumentQueries, mutations=DocumentMutations)
