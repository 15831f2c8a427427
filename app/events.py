"""``GET /events/{id}.ics`` (Bearer access token; the caller must be allowed to see the
event) and ``GET /events/{id}/join?token=...`` (signed, expiring link to the virtual room)."""

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from app.auth import authenticate_bearer
from app.client_address import client_address
from app.http_errors import error_response, unavailable_as_503
from models.errors import BadUserInput, NotFound
from resolvers.core.context import RequestContext
from resolvers.events import calendar as event_calendar
from resolvers.events import catalog as events
from resolvers.events import join_links as event_links


@unavailable_as_503
async def ics(request: Request) -> Response:
    runtime = request.app.state.runtime
    services = runtime.services
    principal, reason = await authenticate_bearer(
        request.headers.get("authorization"), runtime.access_tokens, services.clock()
    )
    if principal is None:
        return error_response(
            401, "UNAUTHENTICATED", reason or "Authorization: Bearer <token> required"
        )
    context = RequestContext(
        services=services,
        client_ip=client_address(request),
        user_agent=request.headers.get("user-agent"),
        principal=principal,
    )
    try:
        event = await events.get(context, request.path_params["event_id"])
    except (NotFound, BadUserInput):
        return error_response(404, "NOT_FOUND", "Event not found")
    return Response(
        event_calendar.ics(event, context.now()),
        media_type="text/calendar; charset=utf-8",
        headers={
            "content-disposition": f'attachment; filename="event-{event.id}.ics"',
            "cache-control": "private, no-store",
        },
    )


@unavailable_as_503
async def join(request: Request) -> Response:
    """303 to the room URL for a valid link; 403 for a tampered, expired or revoked one."""
    services = request.app.state.runtime.services
    token = request.query_params.get("token") or ""
    room = await event_links.room_for(services, request.path_params["event_id"], token)
    if room is None:
        return error_response(403, "FORBIDDEN", "This join link is invalid or has expired")
    return RedirectResponse(room, status_code=303, headers={"cache-control": "no-store"})
