"""``GET /documents/{id}/download?u=&e=&s=``: a short-lived signed link (see
resolvers.documents.download_links). The link must be authentic and unexpired (else 403) and the
user it names must still be allowed to see the document (else 404)."""

from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from app.client_address import client_address
from app.http_errors import error_response, unavailable_as_503
from models.documents.content import served_filename
from resolvers.audit import trail as audit
from resolvers.core.context import RequestContext
from resolvers.documents import files as document_files
from resolvers.documents.download_links import check_link
from resolvers.documents.library import downloadable


def content_disposition(stored: str) -> str:
    """``attachment`` with an ASCII fallback and the RFC 5987 UTF-8 name, neither with an
    invisible, control or path character (models.documents.content.served_filename)."""
    filename = served_filename(stored)
    fallback = filename.encode("ascii", "replace").decode().replace("?", "_").replace('"', "_")
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


@unavailable_as_503
async def download(request: Request) -> Response:
    services = request.app.state.runtime.services
    params = request.query_params
    claims = check_link(
        services.token_keys.downloads,
        request.path_params["id"],
        params.get("u", ""),
        params.get("e", ""),
        params.get("s", ""),
        services.clock(),
    )
    if claims is None:
        return error_response(403, "FORBIDDEN", "This download link is invalid or has expired")
    found = await downloadable(claims.document_id, claims.user_id)
    if found is None:
        return error_response(404, "NOT_FOUND", "Document not found")
    principal, doc = found
    context = RequestContext(
        services=services,
        client_ip=client_address(request),
        user_agent=request.headers.get("user-agent"),
        principal=principal,
    )
    await audit.record(context, "document.download", "Document", doc.id)
    assert doc.file_id is not None
    return StreamingResponse(
        document_files.read_chunks(doc.file_id),
        media_type=doc.content_type,
        headers={
            "Content-Disposition": content_disposition(doc.filename),
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "private, no-store",
            "Content-Security-Policy": "default-src 'none'; sandbox",
        },
    )
