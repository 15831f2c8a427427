"""Documents: uploading (size-limited, content type sniffed from the bytes, SHA-256
recorded, bytes in GridFS), who may see them, sharing, and listing.

Visibility: the owner, the users it is shared with, and ADMIN/MANAGER/ANALYST of the
tenant; anyone else gets NOT_FOUND (the document's existence is not revealed)."""

import hashlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any, Protocol

from beanie import PydanticObjectId
from pymongo import ReturnDocument

from models.documents.content import SNIFF_BYTES, TextCheck, clean_filename, sniff_content_type
from models.documents.records import (
    ISSUED_CATEGORIES,
    KYC_CATEGORIES,
    DocumentCategory,
    DocumentRecord,
    ReviewStatus,
)
from models.errors import BadUserInput, Forbidden, NotFound
from models.permissions import Can
from models.users import STAFF_ROLES, TENANT_READERS, KycStatus, Role, User
from resolvers.audit import trail as audit
from resolvers.core.context import Principal, RequestContext
from resolvers.core.pagination import Page, page_of
from resolvers.core.scope import get_in_tenant, parse_id, tenant_filter
from resolvers.documents import files as document_files
from resolvers.users.people import audit_kyc_change

READ_CHUNK = 64 * 1024
MAX_SHARE_USERS = 50


class UploadedFile(Protocol):
    """What the HTTP layer hands over (Starlette's UploadFile fits)."""

    filename: str | None

    async def read(self, size: int = -1) -> bytes: ...
    async def seek(self, offset: int) -> None: ...


@dataclass(frozen=True)
class Inspected:
    size: int
    sha256: str
    content_type: str


async def inspect(file: UploadedFile, limit: int) -> Inspected:
    """Read the upload once in chunks (never more than ``limit`` + 1 bytes): size, SHA-256
    and the content type sniffed from the bytes."""
    digest, size, head, text = hashlib.sha256(), 0, bytearray(), TextCheck()
    while chunk := await file.read(READ_CHUNK):
        size += len(chunk)
        if size > limit:
            raise BadUserInput(f"The file is larger than {limit} bytes", field="file")
        digest.update(chunk)
        text.feed(chunk)
        if len(head) < SNIFF_BYTES:
            head += chunk[: SNIFF_BYTES - len(head)]
    text.feed(b"", final=True)
    if size == 0:
        raise BadUserInput("The file is empty", field="file")
    content_type = sniff_content_type(bytes(head), text.is_plain_text)
    if content_type is None:
        raise BadUserInput(
            "Only PDF, PNG, JPEG and plain UTF-8 text files are accepted", field="file"
        )
    await file.seek(0)
    return Inspected(size, digest.hexdigest(), content_type)


async def _chunks(file: UploadedFile) -> AsyncIterator[bytes]:
    while chunk := await file.read(document_files.CHUNK_BYTES):
        yield chunk


def can_see(principal: Principal, doc: DocumentRecord) -> bool:
    return (
        principal.role in TENANT_READERS
        or doc.owner_id == principal.user_id
        or principal.user_id in doc.shared_with
    )


async def get_visible(principal: Principal, raw_id: str, *, field: str = "id") -> DocumentRecord:
    doc = await get_in_tenant(DocumentRecord, principal, raw_id, field=field, what="Document")
    if not can_see(principal, doc):
        raise NotFound("Document not found")
    return doc


async def get(ctx: RequestContext, raw_id: str) -> DocumentRecord:
    return await get_visible(ctx.require_principal(), raw_id)


async def _owner_for_upload(
    principal: Principal, raw_owner: str | None, category: DocumentCategory
) -> User:
    """Investors upload for themselves (not agreements or statements, which staff issue);
    ADMIN/MANAGER for any user of the tenant (an ANALYST, who only reads, got FORBIDDEN
    from Can.UPLOAD_DOCUMENTS)."""
    if principal.role is Role.INVESTOR:
        if raw_owner is not None and raw_owner != str(principal.user_id):
            raise NotFound("Owner not found")
        if category in ISSUED_CATEGORIES:
            raise Forbidden(f"{category.value} documents are issued by your advisors")
        return principal.user
    if raw_owner is None:
        return principal.user
    return await get_in_tenant(User, principal, raw_owner, field="ownerId", what="Owner")


async def upload(
    ctx: RequestContext, file: UploadedFile, category: DocumentCategory, raw_owner: str | None
) -> DocumentRecord:
    principal = ctx.require(Can.UPLOAD_DOCUMENTS)
    owner = await _owner_for_upload(principal, raw_owner, category)
    assert owner.id is not None
    inspected = await inspect(file, ctx.services.max_upload_bytes)
    filename = clean_filename(file.filename, inspected.content_type)
    file_id = await document_files.put(_chunks(file), filename, principal.tenant_id)
    doc = DocumentRecord(
        tenant_id=principal.tenant_id,
        owner_id=owner.id,
        category=category,
        filename=filename,
        content_type=inspected.content_type,
        size=inspected.size,
        sha256=inspected.sha256,
        file_id=file_id,
        uploaded_by=principal.user_id,
        review_status=ReviewStatus.PENDING if category in KYC_CATEGORIES else None,
    )
    await doc.insert()
    await audit.record(
        ctx,
        "document.upload",
        "Document",
        doc.id,
        owner=str(owner.id),
        category=category.value,
        sha256=doc.sha256,
        size=doc.size,
    )
    if category in KYC_CATEGORIES:
        await _kyc_submitted(ctx, owner)
    return doc


async def _kyc_submitted(ctx: RequestContext, owner: User) -> None:
    """A new KYC document puts a NOT_STARTED (or REJECTED) owner into review: PENDING."""
    collection = User.get_pymongo_collection()
    for previous in (KycStatus.NOT_STARTED, KycStatus.REJECTED):
        moved = await collection.find_one_and_update(
            {"_id": owner.id, "tenant_id": owner.tenant_id, "kyc_status": previous.value},
            {"$set": {"kyc_status": KycStatus.PENDING.value}},
            return_document=ReturnDocument.AFTER,
        )
        if moved is not None:
            await audit_kyc_change(ctx, User.model_validate(moved), previous, None)
            return


async def _users_in_tenant(principal: Principal, raw_ids: list[str]) -> list[PydanticObjectId]:
    if not raw_ids or len(raw_ids) > MAX_SHARE_USERS:
        raise BadUserInput(f"Name 1-{MAX_SHARE_USERS} users", field="userIds")
    ids = list(dict.fromkeys(parse_id(raw, field="userIds") for raw in raw_ids))
    found = await User.find(tenant_filter(principal, _id={"$in": ids})).count()
    if found != len(ids):
        raise NotFound("User not found", field="userIds")
    return ids


async def _may_share(ctx: RequestContext, raw_id: str) -> tuple[Principal, DocumentRecord]:
    principal = ctx.require(Can.SHARE_DOCUMENTS)
    doc = await get_visible(principal, raw_id)
    if principal.role not in STAFF_ROLES and doc.owner_id != principal.user_id:
        raise Forbidden("Only the owner or ADMIN/MANAGER may change who sees a document")
    return principal, doc


async def share(ctx: RequestContext, raw_id: str, raw_user_ids: list[str]) -> DocumentRecord:
    """Idempotent: sharing with someone who already sees the document changes nothing."""
    principal, doc = await _may_share(ctx, raw_id)
    ids = [i for i in await _users_in_tenant(principal, raw_user_ids) if i != doc.owner_id]
    return await _update_sharing(ctx, doc, {"$addToSet": {"shared_with": {"$each": ids}}}, ids)


async def unshare(ctx: RequestContext, raw_id: str, raw_user_ids: list[str]) -> DocumentRecord:
    principal, doc = await _may_share(ctx, raw_id)
    ids = await _users_in_tenant(principal, raw_user_ids)
    return await _update_sharing(ctx, doc, {"$pull": {"shared_with": {"$in": ids}}}, ids)


async def _update_sharing(
    ctx: RequestContext, doc: DocumentRecord, update: dict[str, Any], ids: list[PydanticObjectId]
) -> DocumentRecord:
    found = await DocumentRecord.get_pymongo_collection().find_one_and_update(
        {"_id": doc.id, "tenant_id": doc.tenant_id}, update, return_document=ReturnDocument.AFTER
    )
    if found is None:
        raise NotFound("Document not found")
    action = "document.share" if "$addToSet" in update else "document.unshare"
    await audit.record(ctx, action, "Document", doc.id, users=[str(i) for i in ids])
    updated: DocumentRecord = DocumentRecord.model_validate(found)
    return updated


async def page(
    ctx: RequestContext,
    first: int | None,
    after: str | None,
    raw_owner: str | None,
    category: DocumentCategory | None,
) -> Page[DocumentRecord]:
    principal = ctx.require_principal()
    criteria = tenant_filter(principal)
    if principal.role not in TENANT_READERS:
        criteria["$or"] = [{"owner_id": principal.user_id}, {"shared_with": principal.user_id}]
    if raw_owner is not None:
        criteria["owner_id"] = parse_id(raw_owner, field="ownerId")
    if category is not None:
        criteria["category"] = category.value
    return await page_of(
        DocumentRecord, criteria, ctx, list_name="documents", first=first, after=after
    )


async def downloadable(
    raw_document_id: str, raw_user_id: str
) -> tuple[Principal, DocumentRecord] | None:
    """The document and the user a download link names, when that user (still) exists
    and may (still) see it and the bytes are stored; None otherwise."""
    try:
        user_id = parse_id(raw_user_id)
    except BadUserInput:
        return None
    user = await User.get(user_id)
    if user is None:
        return None
    principal = Principal(user=user, session_id=None)
    try:
        doc = await get_visible(principal, raw_document_id)
    except (NotFound, BadUserInput):
        return None
    if doc.file_id is None or not await document_files.exists(doc.file_id):
        return None
    return principal, doc
