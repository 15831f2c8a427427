"""Typed payloads carried by the broker, JSON encoded once per message."""

import re
from dataclasses import asdict, dataclass

import orjson

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
