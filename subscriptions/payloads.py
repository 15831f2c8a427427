"""Typed payloads carried by the broker, JSON encoded once per message."""

import re
from collections.abc import AsyncIterator
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING

import orjson

from subscriptions.sinks import Gap

if TYPE_CHECKING:
    from subscriptions.broker import Broker

SYMBOL_PATTERN = re.compile(r"^[A-Za-z0-9._#\-]{1,32}$")


@dataclass(frozen=True, slots=True)
class TickPayload:
    symbol: str
    time_msc: int
    bid: float
    ask: float
    last: float = 0.0
    volume: float = 0.0
    flags: int = 0

    def encode(self) -> str:
        return orjson.dumps(asdict(self)).decode()

    @classmethod
    def decode(cls, message: str) -> "TickPayload":
        return cls(**orjson.loads(message))


@dataclass(frozen=True, slots=True)
class DocumentRef:
    """An event naming a document by id; subscribers read its current state."""

    id: str

    def encode(self) -> str:
        return orjson.dumps({"id": self.id}).decode()

    @classmethod
    def decode(cls, message: str | bytes) -> "DocumentRef":
        return cls(id=orjson.loads(message)["id"])


async def document_refs(
    broker: "Broker", topic: str, limit: int
) -> AsyncIterator[DocumentRef | Gap]:
    """The documents named on ``topic``, in order (and a ``Gap`` where some may have been
    missed); the stream closes past ``limit`` undelivered events."""
    async for _topic, message in broker.listen([topic], limit=limit, gaps=True):
        yield message if isinstance(message, Gap) else DocumentRef.decode(message)
