"""Fuzzing the transport, below the schema: raw HTTP bodies (any JSON value, deep nesting,
request objects with members of the wrong type, bytes that are not JSON) under every
content type, GET query strings, multipart parts and maps, and WebSocket frames on both
protocols — against the live server.

A failure is any 5xx, a WebSocket dropped without a close frame (or closed as an internal
error, 1011), an error without a code from the contract's set, an unexpected internal
error, Python exception text in an answer, or an ERROR / traceback in the server's log.

The suite runs a small sample; `scripts/fuzz` runs the campaign (FIDUS_FUZZ_EXAMPLES,
default 10,000 per strategy)."""

import asyncio
import contextlib
import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import websockets
from hypothesis import given
from hypothesis import strategies as st
from websockets.exceptions import ConnectionClosed

from models.errors import ERROR_CODES
from tests.fuzz.strategies import (
    ACCEPTS,
    BODIES,
    CONTENT_TYPES,
    FRAMES,
    FUZZ,
    LEAKS,
    QUERY_PARAMS,
    multipart_parts,
)
from tests.support.documents import PREFLIGHT
from tests.support.servers import server_errors

QUIET = 0.25  # seconds without a frame after which a socket has said what it will say


@contextlib.contextmanager
def no_server_errors(caplog: pytest.LogCaptureFixture, sent: object) -> Iterator[None]:
    caplog.clear()
    yield
    assert server_errors(caplog) == [], sent


def check_error(error: Any, sent: object) -> None:
    assert isinstance(error, dict), (error, sent)
    code = (error.get("extensions") or {}).get("code")
    assert code in ERROR_CODES, (error, sent)
    assert code != "INTERNAL_SERVER_ERROR", (error, sent)
    assert not any(leak in str(error.get("message", "")) for leak in LEAKS), (error, sent)


def check_http(response: httpx.Response, sent: object) -> None:
    text = response.text
    assert response.status_code < 500, (response.status_code, text, sent)
    assert not any(leak in text for leak in LEAKS), (text, sent)
    if "json" in response.headers.get("content-type", ""):
        body = json.loads(text)
        for error in body.get("errors") or () if isinstance(body, dict) else ():
            check_error(error, sent)


def headers_for(token: str | None, content_type: str, accept: str | None) -> dict[str, str]:
    headers = dict(PREFLIGHT)
    if content_type:
        headers["content-type"] = content_type
    if accept is not None:
        headers["accept"] = accept
    if token is not None:
        headers["authorization"] = f"Bearer {token}"
    return headers


@FUZZ
@given(
    body=BODIES,
    content_type=CONTENT_TYPES,
    accept=ACCEPTS,
    signed_in=st.booleans(),
)
async def test_http_bodies(caplog, api, world, body, content_type, accept, signed_in) -> None:
    token = world("acme", "analyst").token if signed_in else None
    sent = (body[:300], content_type, accept)
    with no_server_errors(caplog, sent):
        response = await api.client.post(
            f"{api.base_url}/graphql",
            content=body,
            headers=headers_for(token, content_type, accept),
        )
    check_http(response, sent)


@FUZZ
@given(params=QUERY_PARAMS, accept=ACCEPTS, signed_in=st.booleans())
async def test_http_get_query_strings(caplog, api, world, params, accept, signed_in) -> None:
    token = world("acme", "analyst").token if signed_in else None
    with no_server_errors(caplog, params):
        response = await api.client.get(
            f"{api.base_url}/graphql", params=params, headers=headers_for(token, "", accept)
        )
    check_http(response, params)


def multipart_body(parts: list[tuple[str, str | None, bytes]]) -> tuple[bytes, str]:
    boundary = "fidusfuzzboundary"
    chunks: list[bytes] = []
    for name, filename, content in parts:
        disposition = f'form-data; name="{name}"'
        if filename is not None:
            disposition += f'; filename="{filename}"'
        chunks.append(
            f"--{boundary}\r\nContent-Disposition: {disposition}\r\n\r\n".encode()
            + content
            + b"\r\n"
        )
    chunks.append(f"--{boundary}--\r\n".encode())
    return b"".join(chunks), f"multipart/form-data; boundary={boundary}"


@FUZZ
@given(parts=multipart_parts())
async def test_multipart_requests(caplog, api, world, parts) -> None:
    body, content_type = multipart_body(parts)
    token = world("acme", "investor").token
    with no_server_errors(caplog, parts):
        response = await api.client.post(
            f"{api.base_url}/graphql",
            content=body,
            headers=headers_for(token, content_type, None),
        )
    check_http(response, parts)


def errors_in(message: Any) -> list[Any]:
    """The error objects a server message carries, on either protocol."""
    if not isinstance(message, dict):
        return []
    kind, payload = message.get("type"), message.get("payload")
    if kind == "error" and isinstance(payload, list):
        return payload
    if kind in ("error", "connection_error") and payload is not None:
        return [payload]
    if kind in ("next", "data") and isinstance(payload, dict):
        return list(payload.get("errors") or ())
    return []


async def exchange(
    base_url: str, protocol: str, init: dict[str, Any] | None, frames: list[tuple[str, Any]]
) -> tuple[list[Any], int | None]:
    """Send ``frames`` (after ``init``, when given), read until the server is quiet or
    closes; the messages received and the server's close code (None: still open)."""
    url = base_url.replace("http://", "ws://") + "/graphql"
    received: list[Any] = []
    async with websockets.connect(url, subprotocols=[protocol], max_size=None) as connection:
        try:
            if init is not None:
                await connection.send(json.dumps(init))
            for kind, frame in frames:
                await connection.send(frame if kind == "text" else bytes(frame))
            while True:
                text = await asyncio.wait_for(connection.recv(), QUIET)
                received.append(json.loads(text))
        except (TimeoutError, ConnectionClosed):
            pass
        close = connection.protocol.close_rcvd
        if close is None and connection.protocol.state.name != "OPEN":
            raise AssertionError(f"dropped without a close frame after {frames!r}")
        return received, None if close is None else close.code


@FUZZ
@given(
    protocol=st.sampled_from(["graphql-transport-ws", "graphql-ws"]),
    initialise=st.booleans(),
    frames=st.lists(FRAMES, min_size=1, max_size=6),
)
async def test_websocket_frames(caplog, base_url, world, protocol, initialise, frames) -> None:
    token = world("acme", "analyst").token
    init = (
        {"type": "connection_init", "payload": {"authorization": f"Bearer {token}"}}
        if initialise
        else None
    )
    sent = (protocol, init is not None, frames)
    with no_server_errors(caplog, sent):
        received, close_code = await exchange(base_url, protocol, init, frames)
    assert close_code != 1011, (close_code, sent)
    for message in received:
        for error in errors_in(message):
            check_error(error, sent)
