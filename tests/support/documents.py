"""Documents for tests: real multipart uploads over HTTP (the GraphQL multipart request
spec: ``operations``, ``map``, then the file parts), and a direct insert for set-ups."""

import hashlib
import json
from typing import Any

import httpx
from beanie import PydanticObjectId

from models.documents.records import KYC_CATEGORIES, DocumentCategory, DocumentRecord, ReviewStatus
from models.users import User
from resolvers.documents import files as document_files
from tests.support.api import Api, GraphQLResult

PDF_BYTES = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << >>\n%%EOF\n"
PNG_BYTES = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + b"\x00" * 64
PREFLIGHT = {"apollo-require-preflight": "true"}

DOCUMENT_FIELDS = """id filename contentType size sha256 category downloadUrl reviewStatus
  reviewReason owner { id kycStatus } signatures { signer { id } signedAt documentSha256 }"""
UPLOAD = f"""mutation($file: Upload!, $input: UploadDocumentInput!) {{
  uploadDocument(file: $file, input: $input) {{ {DOCUMENT_FIELDS} }} }}"""
SIGN = """mutation($id: ID!, $name: String!, $consent: Boolean!) {
  signDocument(id: $id, input: {fullName: $name, consent: $consent}) {
    id sha256 signatures { signer { id } signedAt documentSha256 fullName } } }"""


async def post_upload(
    api: Api,
    token: str | None,
    data: bytes,
    *,
    filename: str = "document.pdf",
    client_type: str = "application/pdf",
    category: str = "OTHER",
    owner: str | None = None,
    headers: dict[str, str] | None = None,
) -> httpx.Response:
    variables: dict[str, Any] = {"file": None, "input": {"category": category}}
    if owner is not None:
        variables["input"]["ownerId"] = owner
    all_headers = dict(PREFLIGHT if headers is None else headers)
    if token:
        all_headers["authorization"] = f"Bearer {token}"
    return await api.client.post(
        f"{api.base_url}/graphql",
        data={
            "operations": json.dumps({"query": UPLOAD, "variables": variables}),
            "map": json.dumps({"0": ["variables.file"]}),
        },
        files={"0": (filename, data, client_type)},
        headers=all_headers,
    )


async def upload(api: Api, token: str | None, data: bytes, **kwargs: Any) -> GraphQLResult:
    response = await post_upload(api, token, data, **kwargs)
    return GraphQLResult(response.status_code, response.json())


async def make_document(
    owner: Any,
    category: DocumentCategory = DocumentCategory.OTHER,
    data: bytes = PDF_BYTES,
) -> str:
    """A stored PDF owned by ``owner`` (a world member), inserted directly."""
    user = await User.get(PydanticObjectId(owner.id))
    assert user is not None and user.id is not None
    doc = DocumentRecord(
        tenant_id=user.tenant_id,
        owner_id=user.id,
        category=category,
        filename="set-up.pdf",
        content_type="application/pdf",
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        file_id=await document_files.put_bytes(data, "set-up.pdf", user.tenant_id),
        review_status=ReviewStatus.PENDING if category in KYC_CATEGORIES else None,
    )
    await doc.insert()
    return str(doc.id)


async def stored_documents() -> tuple[int, int]:
    """(document records, GridFS files) in the database."""
    files = document_files.bucket()
    count = 0
    async for _ in files.find({}):
        count += 1
    return await DocumentRecord.find_all().count(), count
