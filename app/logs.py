"""Logs carrying the request id and GraphQL operation name — JSON lines for machines, one
readable line per record on a terminal — and the ASGI middleware that assigns the request
id (echoed as ``X-Request-ID``)."""

import contextvars
import logging
import re
import sys
import uuid
from datetime import UTC, datetime
from typing import Any, Literal, TextIO

import orjson
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from schema.core.observability import operation_name_var

request_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "request_id", default=None
)
_SAFE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")
_STANDARD_ATTRS = frozenset(logging.LogRecord("", 0, "", 0, "", None, None).__dict__) | {
    "message",
    "asctime",
    "taskName",
    "color_message",  # uvicorn's copy of the message with ANSI colours
}
# auto: text when the log stream is a terminal, JSON otherwise (FIDUS_LOG_FORMAT)
LogFormat = Literal["auto", "json", "text"]
_SHORT_KEYS = {"request_id": "req", "operation": "op"}


def context_fields(record: logging.LogRecord) -> dict[str, Any]:
    """The request id and operation of the context, then the record's ``extra`` fields."""
    fields: dict[str, Any] = {}
    request_id = request_id_var.get()
    if request_id:
        fields["request_id"] = request_id
    operation = operation_name_var.get()
    if operation:
        fields["operation"] = operation
    for key, value in record.__dict__.items():
        if key not in _STANDARD_ATTRS and not key.startswith("_"):
            fields[key] = value
    return fields


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            **context_fields(record),
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return orjson.dumps(entry, default=str).decode()


class TextFormatter(logging.Formatter):
    """One line per record for a person reading along: local time, level, logger and
    message, then ``req=`` (request id), ``op=`` (operation) and the extra fields as
    ``key=value`` (those without a value left out); a traceback follows on its own lines."""

    def format(self, record: logging.LogRecord) -> str:
        clock = datetime.fromtimestamp(record.created).strftime("%H:%M:%S.%f")[:-3]
        message = _printable(record.getMessage())
        line = f"{clock} {record.levelname:<7} {record.name}: {message}"
        fields = {k: v for k, v in context_fields(record).items() if v is not None}
        if fields:
            line += "  " + " ".join(
                f"{_SHORT_KEYS.get(key, key)}={_text(value)}" for key, value in fields.items()
            )
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        if record.stack_info:
            line += "\n" + self.formatStack(record.stack_info)
        return line


def _printable(text: str) -> str:
    """Control characters escaped (a terminal must not act on what a client sent)."""
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def _text(value: object) -> str:
    """A bare word as it is; anything else (spaces, quotes, control characters, empty,
    numbers, lists) as JSON."""
    if isinstance(value, str) and value.isprintable() and value and not set(value) & set(' "='):
        return value
    return orjson.dumps(value, default=str).decode()


def formatter_for(log_format: LogFormat, stream: TextIO) -> logging.Formatter:
    if log_format == "auto":
        isatty = getattr(stream, "isatty", None)
        log_format = "text" if isatty is not None and isatty() else "json"
    return TextFormatter() if log_format == "text" else JsonFormatter()


def configure_logging(level: str = "INFO", log_format: LogFormat = "auto") -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(formatter_for(log_format, sys.stderr))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True


def new_request_id(candidate: str | None = None) -> str:
    if candidate and _SAFE_REQUEST_ID.fullmatch(candidate):
        return candidate
    return uuid.uuid4().hex


class RequestIdMiddleware:
    """Pure ASGI (works for WebSocket too): sets the request id for logs and the context."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        request_id = new_request_id(headers.get(b"x-request-id", b"").decode("latin-1"))
        scope.setdefault("state", {})["request_id"] = request_id
        token = request_id_var.set(request_id)

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], (b"x-request-id", request_id.encode())]
            await send(message)

        try:  # a WebSocket's messages carry no headers: its send is left as it is
            await self.app(scope, receive, send_with_id if scope["type"] == "http" else send)
        finally:
            request_id_var.reset(token)
