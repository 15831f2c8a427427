"""Use cases of the WebSocket connection itself."""

from datetime import datetime

from models.errors import BadUserInput
from resolvers.core.context import RequestContext


async def renew_connection(ctx: RequestContext, access_token: str) -> datetime:
    """Swap a fresh access token of the same user and session into the open connection, so
    its streams outlive the old token; returns the new expiry."""
    if ctx.connection is None:
        raise BadUserInput(
            "renewConnection is sent over the WebSocket it renews; over HTTP send the "
            "new access token with each request instead",
            field="accessToken",
        )
    ctx.require_principal()
    return await ctx.connection.renew(access_token)
