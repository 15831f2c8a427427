"""E-signature and integrity: a typed full name plus explicit consent, bound to the SHA-256
recomputed from the stored bytes at signing time; verification recomputes it again."""

from dataclasses import dataclass

from pymongo import ReturnDocument

from models.documents.records import DocumentRecord, SignatureRecord, same_name
from models.errors import BadUserInput, Conflict, Forbidden
from models.webhooks import WebhookEventType
from resolvers.audit import trail as audit
from resolvers.core.context import RequestContext
from resolvers.documents import files as document_files
from resolvers.documents.library import get_visible
from resolvers.webhooks import endpoints as webhooks


@dataclass(frozen=True)
class Verification:
    document: DocumentRecord
    computed_sha256: str | None

    @property
    def content_intact(self) -> bool:
        return self.computed_sha256 == self.document.sha256

    @property
    def signatures_intact(self) -> bool:
        return all(s.document_sha256 == self.computed_sha256 for s in self.document.signatures)

    @property
    def valid(self) -> bool:
        return self.content_intact and self.signatures_intact


async def sign(ctx: RequestContext, raw_id: str, full_name: str, consent: bool) -> DocumentRecord:
    """The owner, or a user the document is shared with (a co-signer), signs once."""
    principal = ctx.require_principal()
    doc = await get_visible(principal, raw_id)
    if principal.user_id != doc.owner_id and principal.user_id not in doc.shared_with:
        raise Forbidden("Only the owner or a user it is shared with may sign this document")
    if not consent:
        raise BadUserInput("Signing needs your explicit consent", field="consent")
    if len(full_name) > 400 or not same_name(full_name, principal.user.full_name):
        raise BadUserInput("Type your full name exactly as it is on your profile", field="fullName")
    if any(s.signer_id == principal.user_id for s in doc.signatures):
        raise Conflict("You have already signed this document")
    computed = await document_files.sha256_of(doc.file_id)
    if computed is None or computed != doc.sha256:
        raise Conflict("The stored document does not match its recorded hash; it cannot be signed")
    signature = SignatureRecord(
        signer_id=principal.user_id,
        signed_at=ctx.now(),
        document_sha256=computed,
        full_name=" ".join(full_name.split()),
        client_ip=ctx.client_ip,
        user_agent=(ctx.user_agent or "")[:500] or None,
    )
    signed = await DocumentRecord.get_pymongo_collection().find_one_and_update(
        {
            "_id": doc.id,
            "tenant_id": principal.tenant_id,
            "sha256": computed,
            "signatures.signer_id": {"$ne": principal.user_id},
        },
        {"$push": {"signatures": signature.model_dump()}},
        return_document=ReturnDocument.AFTER,
    )
    if signed is None:
        raise Conflict("You have already signed this document")
    await audit.record(
        ctx, "document.sign", "Document", doc.id, sha256=computed, category=doc.category.value
    )
    result: DocumentRecord = DocumentRecord.model_validate(signed)
    await webhooks.emit(
        ctx,
        WebhookEventType.DOCUMENT_SIGNED,
        {
            "documentId": str(doc.id),
            "ownerId": str(doc.owner_id),
            "signerId": str(principal.user_id),
            "category": doc.category.value,
            "sha256": computed,
            "signedAt": signature.signed_at.isoformat(),
        },
    )
    return result


async def verify(ctx: RequestContext, raw_id: str) -> Verification:
    doc = await get_visible(ctx.require_principal(), raw_id)
    return Verification(doc, await document_files.sha256_of(doc.file_id))
