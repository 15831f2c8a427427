"""The one way request JSON is decoded (GraphQL bodies, query parameters and multipart
fields, WebSocket frames, the MT5 routes): orjson, with the nesting depth bounded so that
no later recursive walk (variable coercion, validation, encoding) can overflow the stack."""

import json
from typing import Any

import orjson

MAX_JSON_DEPTH = 64


class InvalidJson(json.JSONDecodeError):
    """Client JSON refused. ``reason`` completes a sentence about what was decoded ("the
    body " + reason). A JSONDecodeError so that code expecting a decode failure
    (Strawberry's WebSocket reader) handles it."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason, "", 0)
        self.reason = reason


NOT_JSON = "is not valid JSON"
TOO_DEEP = f"is nested deeper than {MAX_JSON_DEPTH} levels"


def loads(data: bytes | str, *, non_finite: bool = False) -> Any:
    """The decoded value, or :class:`InvalidJson`. ``non_finite``: also accept the NaN and
    Infinity literals (the MT5 bridge may send them; the ticks carrying them are rejected
    one by one)."""
    try:
        value = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        if "depth" in exc.msg:  # orjson's own bound (1024) reached while parsing
            raise InvalidJson(TOO_DEEP) from None
        if not non_finite:
            raise InvalidJson(NOT_JSON) from None
        try:
            value = json.loads(data)
        except RecursionError:
            raise InvalidJson(TOO_DEEP) from None
        except ValueError:
            raise InvalidJson(NOT_JSON) from None
    if too_deep(value, MAX_JSON_DEPTH):
        raise InvalidJson(TOO_DEEP)
    return value


def too_deep(value: object, limit: int) -> bool:
    """Whether arrays and objects nest more than ``limit`` levels (iterative: any depth)."""
    pending = [(value, 1)] if isinstance(value, dict | list) else []
    while pending:
        container, depth = pending.pop()
        if depth > limit:
            return True
        items = container.values() if isinstance(container, dict) else container
        pending.extend((item, depth + 1) for item in items if isinstance(item, dict | list))
    return False
