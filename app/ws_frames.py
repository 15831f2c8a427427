"""The shape of the frames a client may send, checked before a protocol handler reads them:
graphql-transport-ws as its PROTOCOL.md (and the reference ``validateMessage``) has it,
legacy graphql-ws (subscriptions-transport-ws) likewise. Each check answers what is wrong
in a few words, never echoing the client's values, or None when the frame is well formed."""

from typing import Any

MAX_CLOSE_REASON_BYTES = 123  # RFC 6455: a close frame's reason fits in 123 bytes


def close_reason(text: str) -> str:
    """``text`` cut to what a close frame can carry (whole UTF-8 characters)."""
    return text.encode()[:MAX_CLOSE_REASON_BYTES].decode(errors="ignore")


def _kind(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object"


def _optional_object(payload: dict[str, Any], field: str) -> str | None:
    value = payload.get(field)
    if value is not None and not isinstance(value, dict):
        return f"'{field}' must be an object or null, not {_kind(value)}"
    return None


def _operation_id(message: dict[str, Any]) -> str | None:
    op_id = message.get("id")
    if not isinstance(op_id, str):
        return f"'id' must be a string, not {_kind(op_id)}"
    if not op_id:
        return "'id' must not be empty"
    return None


def operation_problem(payload: object) -> str | None:
    """The payload of ``subscribe`` (or legacy ``start``): an object with a non-empty
    ``query`` string, ``variables`` and ``extensions`` objects or null, ``operationName``
    a string or null."""
    if not isinstance(payload, dict):
        return f"'payload' must be an object, not {_kind(payload)}"
    query = payload.get("query")
    if not isinstance(query, str):
        return f"'query' must be a string, not {_kind(query)}"
    if not query:
        return "'query' must not be empty"
    name = payload.get("operationName")
    if name is not None and not isinstance(name, str):
        return f"'operationName' must be a string or null, not {_kind(name)}"
    return _optional_object(payload, "variables") or _optional_object(payload, "extensions")


def _message(message: object) -> tuple[dict[str, Any], str] | str:
    """The frame as an object with its type, or what is wrong with it."""
    if not isinstance(message, dict):
        return f"A message must be a JSON object, not {_kind(message)}"
    kind = message.get("type")
    if not isinstance(kind, str):
        return f"'type' must be a string, not {_kind(kind)}"
    return message, kind


def transport_problem(message: object) -> str | None:
    """What is wrong with a graphql-transport-ws frame from a client (closes with 4400)."""
    parsed = _message(message)
    if isinstance(parsed, str):
        return parsed
    frame, kind = parsed
    if kind in ("connection_init", "ping", "pong"):
        return _optional_object(frame, "payload")
    if kind == "subscribe":
        return _operation_id(frame) or operation_problem(frame.get("payload"))
    if kind == "complete":
        return _operation_id(frame)
    return "Unknown message type"


def legacy_problem(message: object) -> tuple[str | None, str] | None:
    """What is wrong with a legacy graphql-ws frame from a client, and the operation it
    belongs to: ``(id, problem)`` for a ``start`` whose payload is wrong (answered with
    ``error`` for that id), ``(None, problem)`` for a frame that is no message of the
    protocol (answered with ``connection_error``); None when it is well formed."""
    parsed = _message(message)
    if isinstance(parsed, str):
        return None, parsed
    frame, kind = parsed
    if kind in ("connection_init", "connection_terminate"):
        problem = _optional_object(frame, "payload")
    elif kind == "stop":
        problem = _operation_id(frame)
    elif kind == "start":
        problem = _operation_id(frame)
        if problem is None:
            payload_problem = operation_problem(frame.get("payload"))
            return None if payload_problem is None else (frame["id"], payload_problem)
    else:
        problem = "Unknown message type"
    return None if problem is None else (None, problem)
