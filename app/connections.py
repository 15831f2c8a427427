"""The open WebSockets of this process: who each one runs as and until when, and closing
it (4403) as soon as its session is revoked or its access token expires.

Revocations reach every process through the broker (``subscriptions.sessions``); each
operation on a socket re-checks the session as well, and a periodic re-check catches a
revocation whose broadcast was lost (the broker away at the time)."""

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Iterable
from datetime import datetime

from beanie import PydanticObjectId

from app.auth import AccessTokens, principal_for_token
from models.errors import Forbidden, Unauthenticated
from resolvers.core.context import Principal, RequestContext
from resolvers.core.outages import unavailable_component
from resolvers.identity.sessions import live_session_ids, resolve_principal
from subscriptions.broker import Broker
from subscriptions.sessions import SessionsChanged, session_changes
from subscriptions.sinks import Gap

log = logging.getLogger(__name__)
EXPIRED = "Access token expired"
REVOKED = "Session revoked"


class TooManyConnections(Exception):
    """The user already has the allowed number of open connections in this process."""


class OpenConnection:
    """One authenticated WebSocket (graphql-transport-ws or legacy graphql-ws)."""

    def __init__(self, registry: "Connections", context: RequestContext) -> None:
        self._registry = registry
        self.context = context
        self.user_id = context.require_principal().user_id  # whose cap it counts against
        self.close: Callable[[str], Awaitable[None]] | None = None  # bound by the handler
        self.expiry: asyncio.TimerHandle | None = None
        self.closed = False
        self.closed_because: str | None = None  # revoked before the handler bound close

    @property
    def principal(self) -> Principal:
        return self.context.require_principal()

    async def renew(self, access_token: str) -> datetime:
        return await self._registry.renew(self, access_token)

    def end(self) -> None:
        """The socket closed: stop tracking it."""
        self._registry.forget(self)

    async def bind(self, close: Callable[[str], Awaitable[None]]) -> None:
        """The handler is ready to close the socket; if the session died meanwhile, now."""
        self.close = close
        if self.closed_because is not None:
            await close(self.closed_because)

    async def still_authorized(self) -> bool:
        """Before each operation: the session is live and the token unexpired; the
        principal is reloaded, so the operation runs as the user is now."""
        return await self._registry.revalidate(self)


class Connections:
    def __init__(
        self,
        tokens: AccessTokens,
        clock: Callable[[], datetime],
        max_per_user: int,
        recheck_seconds: float = 10.0,
    ) -> None:
        self._tokens = tokens
        self._clock = clock
        self._max_per_user = max_per_user
        self._recheck_seconds = recheck_seconds
        self._by_user: dict[PydanticObjectId, set[OpenConnection]] = {}
        self._closing: set[asyncio.Task[None]] = set()

    def __len__(self) -> int:
        return sum(len(connections) for connections in self._by_user.values())

    def open(self, context: RequestContext) -> OpenConnection:
        """Register an authenticated connection; TooManyConnections past the cap."""
        connection = OpenConnection(self, context)
        mine = self._by_user.setdefault(connection.user_id, set())
        if len(mine) >= self._max_per_user:
            raise TooManyConnections(
                f"At most {self._max_per_user} open connections per user; close one first"
            )
        mine.add(connection)
        self._schedule_expiry(connection)
        return connection

    def forget(self, connection: OpenConnection) -> None:
        connection.closed = True
        if connection.expiry is not None:
            connection.expiry.cancel()
        mine = self._by_user.get(connection.user_id)
        if mine is not None:
            mine.discard(connection)
            if not mine:
                del self._by_user[connection.user_id]

    async def renew(self, connection: OpenConnection, access_token: str) -> datetime:
        if connection.closed:
            raise Unauthenticated("This connection is closing", field="accessToken")
        principal, error = await principal_for_token(access_token, self._tokens, self._clock())
        if principal is None:
            raise Unauthenticated(error or "Invalid access token", field="accessToken")
        current = connection.principal
        if (principal.user_id, principal.session_id) != (current.user_id, current.session_id):
            raise Forbidden(
                "The access token must be of this connection's user and session",
                field="accessToken",
            )
        assert principal.expires_at is not None
        connection.context.principal = principal
        self._schedule_expiry(connection)
        return principal.expires_at

    async def revalidate(self, connection: OpenConnection) -> bool:
        current = connection.principal
        if current.expires_at is not None and current.expires_at <= self._clock():
            await self.revoke(connection, EXPIRED)
            return False
        fresh = await resolve_principal(
            str(current.user_id),
            str(current.tenant_id),
            str(current.session_id),
            now=self._clock(),
        )
        if fresh is None:
            await self.revoke(connection, REVOKED)
            return False
        # a renewConnection may have finished while this read ran: keep its expiry
        fresh.expires_at = connection.principal.expires_at
        connection.context.principal = fresh
        return True

    async def revoke(self, connection: OpenConnection, reason: str) -> None:
        """Close with 4403; nothing more runs on the connection."""
        if connection.closed:
            return
        self.forget(connection)
        if connection.close is None:  # not set up yet: closed as soon as it is
            connection.closed_because = reason
            return
        with contextlib.suppress(Exception):  # already gone: nothing left to close
            await connection.close(reason)

    def _schedule_expiry(self, connection: OpenConnection) -> None:
        if connection.expiry is not None:
            connection.expiry.cancel()
        expires_at = connection.principal.expires_at
        if expires_at is None:
            return
        delay = max(0.0, (expires_at - self._clock()).total_seconds())
        loop = asyncio.get_running_loop()
        connection.expiry = loop.call_later(delay, self._close_later, connection, EXPIRED)

    def _close_later(self, connection: OpenConnection, reason: str) -> None:
        task = asyncio.ensure_future(self.revoke(connection, reason))
        self._closing.add(task)
        task.add_done_callback(self._closing.discard)

    def _matching(self, change: SessionsChanged) -> list[OpenConnection]:
        users, sessions = set(change.user_ids), set(change.session_ids)
        return [
            connection
            for connections in self._by_user.values()
            for connection in connections
            if str(connection.principal.user_id) in users
            or str(connection.principal.session_id) in sessions
        ]

    async def recheck(self, connections: Iterable[OpenConnection]) -> None:
        """Close those whose session is no longer live: one query for all of them."""
        candidates = [c for c in connections if not c.closed]
        if not candidates:
            return
        session_ids = list({c.principal.session_id for c in candidates if c.principal.session_id})
        live = await live_session_ids(session_ids, self._clock())
        for connection in candidates:
            if connection.principal.session_id not in live:
                await self.revoke(connection, REVOKED)

    async def run(self, broker: Broker) -> None:
        """Act on session changes from every process, and re-check all periodically (and
        each time the listener starts again or had a gap, for the changes it may have
        missed)."""
        sweeper = asyncio.create_task(self._sweep(), name="connections-sweep")
        try:
            while True:
                try:
                    async for change in session_changes(broker):
                        if isinstance(change, Gap):  # changes may have been missed
                            await self._recheck_all()
                        else:
                            await self.recheck(self._matching(change))
                except asyncio.CancelledError:
                    raise
                except Exception as exc:  # listen again shortly, then catch up
                    _log_failure("session change listener stopped", exc)
                    await asyncio.sleep(1.0)
                    await self._recheck_all()
        finally:
            sweeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await sweeper

    async def _sweep(self) -> None:
        while True:
            await asyncio.sleep(self._recheck_seconds)
            await self._recheck_all()

    async def _recheck_all(self) -> None:
        try:
            await self.recheck([c for cs in list(self._by_user.values()) for c in cs])
        except Exception as exc:  # try again next round
            _log_failure("connection re-check failed", exc)


def _log_failure(what: str, error: Exception) -> None:
    """An outage (database or broker away) is a warning; anything else a bug to see."""
    component = unavailable_component(error)
    if component is not None:
        log.warning("%s: %s unavailable", what, component)
    else:
        log.error(what, exc_info=error)
