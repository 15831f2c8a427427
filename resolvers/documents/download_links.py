"""Short-lived download links: ``/documents/{id}/download?u=&e=&s=`` where ``s`` is the
detached signed-token tag (resolvers.core.signed_tokens) over document id, user id and
expiry. The link names the user it was made for; the download route re-checks that
user's access."""

from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlencode

from beanie import PydanticObjectId

from resolvers.core.context import RequestContext
from resolvers.core.signed_tokens import EXPIRES, Claims, SigningKey, tag, tag_matches


@dataclass(frozen=True)
class LinkClaims:
    document_id: str
    user_id: str
    expires: int

    def signed(self) -> Claims:
        return {"d": self.document_id, "u": self.user_id, EXPIRES: self.expires}


def download_url(ctx: RequestContext, document_id: PydanticObjectId | None) -> str:
    principal = ctx.require_principal()
    expires = int((ctx.now() + ctx.services.download_ttl).timestamp())
    claims = LinkClaims(str(document_id), str(principal.user_id), expires)
    signature = tag(ctx.services.token_keys.downloads, claims.signed())
    query = urlencode({"u": claims.user_id, "e": expires, "s": signature})
    return f"/documents/{claims.document_id}/download?{query}"


def check_link(
    key: SigningKey, document_id: str, user_id: str, expires: str, signature: str, now: datetime
) -> LinkClaims | None:
    """The claims of an authentic, unexpired link; None otherwise."""
    if not expires.isdigit() or len(expires) > 12:
        return None
    claims = LinkClaims(document_id, user_id, int(expires))
    return claims if tag_matches(key, claims.signed(), signature, now) else None
