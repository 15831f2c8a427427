"""Short-lived download links: ``/documents/{id}/download?u=&e=&s=`` where ``s`` is an HMAC
over (document id, user id, expiry) with a key derived from the deployment's secret. The
link names the user it was made for; the download route re-checks that user's access."""

import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlencode

from beanie import PydanticObjectId

from resolvers.core.context import RequestContext


@dataclass(frozen=True)
class LinkClaims:
    document_id: str
    user_id: str
    expires: int


def _signature(key: bytes, claims: LinkClaims) -> str:
    message = f"{claims.document_id}|{claims.user_id}|{claims.expires}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def download_url(ctx: RequestContext, document_id: PydanticObjectId | None) -> str:
    principal = ctx.require_principal()
    expires = int((ctx.now() + ctx.services.download_ttl).timestamp())
    claims = LinkClaims(str(document_id), str(principal.user_id), expires)
    query = urlencode(
        {"u": claims.user_id, "e": expires, "s": _signature(ctx.services.download_key, claims)}
    )
    return f"/documents/{claims.document_id}/download?{query}"


def check_link(
    key: bytes, document_id: str, user_id: str, expires: str, signature: str, now: datetime
) -> LinkClaims | None:
    """The claims of an authentic, unexpired link; None otherwise."""
    if not expires.isdigit() or len(expires) > 12:
        return None
    claims = LinkClaims(document_id, user_id, int(expires))
    if not hmac.compare_digest(_signature(key, claims), signature):
        return None
    if now.timestamp() >= claims.expires:
        return None
    return claims
