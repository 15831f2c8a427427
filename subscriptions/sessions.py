"""Session changes that open WebSockets must act on (a revocation, a user's sessions
revoked): published by the process that wrote them, acted on by every process."""

import logging
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass

import orjson

from subscriptions.broker import Broker, is_broker_failure
from subscriptions.sinks import Gap

log = logging.getLogger(__name__)
SESSIONS_TOPIC = "sessions:changed"


@dataclass(frozen=True, slots=True)
class SessionsChanged:
    """Sockets of these users or sessions must re-check their session (it may be revoked)."""

    user_ids: tuple[str, ...] = ()
    session_ids: tuple[str, ...] = ()

    def encode(self) -> str:
        return orjson.dumps({"users": self.user_ids, "sessions": self.session_ids}).decode()

    @classmethod
    def decode(cls, message: str) -> "SessionsChanged":
        fields = orjson.loads(message)
        return cls(tuple(map(str, fields["users"])), tuple(map(str, fields["sessions"])))


async def sessions_changed(
    broker: Broker, *, user_ids: Iterable[object] = (), session_ids: Iterable[object] = ()
) -> None:
    """Publish after the write. The write stands if the broker is away: each socket's next
    operation and the periodic re-check find the revoked session anyway."""
    change = SessionsChanged(tuple(map(str, user_ids)), tuple(map(str, session_ids)))
    try:
        await broker.publish(SESSIONS_TOPIC, change.encode())
    except Exception as exc:
        if not is_broker_failure(exc):
            raise
        log.warning("session change not broadcast (broker unavailable)")


async def session_changes(broker: Broker) -> AsyncIterator[SessionsChanged | Gap]:
    """Every change, and a ``Gap`` where some may have been missed (then every socket is
    to re-check its session)."""
    async for _topic, message in broker.listen([SESSIONS_TOPIC], limit=100_000, gaps=True):
        yield message if isinstance(message, Gap) else SessionsChanged.decode(message)
