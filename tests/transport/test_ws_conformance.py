"""Both WebSocket protocols hold to their PROTOCOL.md whatever a client sends (raw
``websockets`` client, real uvicorn): graphql-transport-ws closes on a malformed frame with
4400 and a reason, legacy graphql-ws answers it (``connection_error`` / ``error``) and
keeps the socket; document errors are ``error`` messages; every error carries
``extensions.code``; and no frame makes the server log an error or drop the connection."""

import asyncio
import json
from typing import Any

import pytest
import websockets

from tests.support.servers import server_errors
from tests.support.ws import LEGACY, PROTOCOL, Socket

ME = "{ me { email } }"
TICKS = 'subscription { ticks(symbols: ["EURUSD"]) { symbol } }'
BAD_TOKEN = 'mutation { renewConnection(accessToken: "not-a-jwt") }'


def subscribe(payload: Any, **fields: Any) -> str:
    return json.dumps({"type": "subscribe", "id": "1", "payload": payload, **fields})


def start(payload: Any, **fields: Any) -> str:
    return json.dumps({"type": "start", "id": "1", "payload": payload, **fields})


NOT_A_MESSAGE = [
    pytest.param(b"\x00\x01", id="binary frame"),
    pytest.param("{nope", id="invalid JSON"),
    pytest.param("[" * 100_000, id="JSON nested too deeply"),
    pytest.param("[]", id="array"),
    pytest.param("1", id="number"),
    pytest.param('"subscribe"', id="string"),
    pytest.param("null", id="null"),
    pytest.param("true", id="boolean"),
    pytest.param(json.dumps({"id": "1"}), id="no type"),
    pytest.param(json.dumps({"type": 1}), id="type not a string"),
    pytest.param(json.dumps({"type": "bogus", "id": "1"}), id="unknown type"),
]

TRANSPORT_MALFORMED = [
    *NOT_A_MESSAGE,
    pytest.param(json.dumps({"type": "next", "id": "1", "payload": {}}), id="server type"),
    pytest.param(subscribe({"query": ME}, id=None), id="id missing"),
    pytest.param(subscribe({"query": ME}, id=7), id="id a number"),
    pytest.param(subscribe({"query": ME}, id=""), id="id empty"),
    pytest.param(json.dumps({"type": "subscribe", "id": "1"}), id="payload missing"),
    pytest.param(subscribe([ME]), id="payload an array"),
    pytest.param(subscribe(ME), id="payload a string"),
    pytest.param(subscribe({}), id="query missing"),
    pytest.param(subscribe({"query": 3}), id="query a number"),
    pytest.param(subscribe({"query": ""}), id="query empty"),
    pytest.param(subscribe({"query": [ME]}), id="query an array"),
    pytest.param(subscribe({"query": ME, "variables": []}), id="variables an array"),
    pytest.param(subscribe({"query": ME, "variables": "x"}), id="variables a string"),
    pytest.param(subscribe({"query": ME, "extensions": [1]}), id="extensions an array"),
    pytest.param(subscribe({"query": ME, "operationName": 1}), id="operationName a number"),
    pytest.param(subscribe({"query": ME, "operationName": {}}), id="operationName an object"),
    pytest.param(json.dumps({"type": "connection_init", "payload": []}), id="init payload"),
    pytest.param(json.dumps({"type": "ping", "payload": "x"}), id="ping payload"),
    pytest.param(json.dumps({"type": "complete", "id": 1}), id="complete id a number"),
    pytest.param(json.dumps({"type": "complete"}), id="complete id missing"),
]


@pytest.mark.parametrize("frame", TRANSPORT_MALFORMED)
async def test_a_malformed_frame_closes_with_4400_and_a_reason(base_url, world, caplog, frame):
    socket = await Socket.open(base_url, world("acme", "investor").token)
    await socket.send_raw(frame)
    code, reason = await socket.closed_with(5)
    assert code == 4400
    assert reason
    assert socket.frames.empty()  # nothing was run for it
    assert server_errors(caplog) == []


async def test_nullable_fields_may_be_null(base_url, world, caplog):
    socket = await Socket.open(base_url, world("acme", "investor").token)
    await socket.send({"type": "ping", "payload": None})
    assert (await socket.next())["type"] == "pong"
    payload = {"query": ME, "variables": None, "extensions": None, "operationName": None}
    await socket.send({"type": "subscribe", "id": "1", "payload": payload})
    result = await socket.next()
    assert result["type"] == "next"
    assert result["payload"]["data"]["me"]["email"]
    await socket.close()
    assert server_errors(caplog) == []


async def test_a_null_init_payload_is_no_token_not_a_malformed_frame(base_url, caplog):
    url = base_url.replace("http://", "ws://") + "/graphql"
    async with websockets.connect(url, subprotocols=[PROTOCOL]) as ws:
        await ws.send(json.dumps({"type": "connection_init", "payload": None}))
        await asyncio.wait_for(ws.wait_closed(), 5)
    assert ws.close_code == 4403  # refused as unauthenticated (PROTOCOL.md allows null)
    assert server_errors(caplog) == []


@pytest.mark.parametrize("op_id", ["t", "é" * 100], ids=["short id", "long id"])
async def test_a_duplicate_id_closes_with_4409(base_url, world, caplog, op_id):
    socket = await Socket.open(base_url, world("acme", "investor").token)
    await socket.subscribe(op_id, TICKS)
    await socket.subscribe(op_id, ME)
    code, reason = await socket.closed_with(5)
    assert code == 4409
    assert reason.startswith("Subscriber for ") and len(reason.encode()) <= 123
    assert server_errors(caplog) == []


DOCUMENT_ERRORS = [
    pytest.param({"query": "{"}, id="syntax error"),
    pytest.param({"query": "{ nope }"}, id="validation error"),
    pytest.param({"query": "query A { me { id } }", "operationName": "B"}, id="unknown name"),
]


@pytest.mark.parametrize("payload", DOCUMENT_ERRORS)
async def test_a_document_error_is_an_error_message(base_url, world, caplog, payload):
    socket = await Socket.open(base_url, world("acme", "investor").token)
    await socket.send({"type": "subscribe", "id": "1", "payload": payload})
    error = await socket.next()
    assert error["type"] == "error" and error["id"] == "1"
    assert error["payload"] and all(
        e["extensions"]["code"] == "BAD_USER_INPUT" for e in error["payload"]
    )
    # the operation is over (no complete follows an error) and the socket goes on
    me = await socket.result_of("2", ME)
    assert me["type"] == "next" and me["payload"]["data"]["me"]["email"]
    await socket.close()
    assert server_errors(caplog) == []


@pytest.mark.parametrize("subprotocol", [PROTOCOL, LEGACY])
async def test_execution_errors_carry_their_code(base_url, world, caplog, subprotocol):
    socket = await Socket.open(base_url, world("acme", "investor").token, subprotocol=subprotocol)
    await socket.send({"type": _start(subprotocol), "id": "1", "payload": {"query": BAD_TOKEN}})
    result = await socket.next()
    assert result["type"] in ("next", "data")
    assert [e["extensions"]["code"] for e in result["payload"]["errors"]] == ["UNAUTHENTICATED"]
    await socket.close()
    assert server_errors(caplog) == []


@pytest.mark.parametrize("subprotocol", [PROTOCOL, LEGACY])
async def test_operations_past_the_in_flight_backstop_are_refused_with_a_code(
    base_url, world, settings, caplog, subprotocol
):
    """Queries sent in one burst are all in flight at once: past the backstop (the
    subscription budget + 10) each is refused with a coded ``error``."""
    socket = await Socket.open(base_url, world("acme", "investor").token, subprotocol=subprotocol)
    count = settings.max_subscriptions_per_connection + 20
    for op_id in range(count):
        await socket.send({"type": _start(subprotocol), "id": str(op_id), "payload": {"query": ME}})
    refused, answered = [], 0
    while answered < count:
        frame = await socket.next()
        if frame["type"] == "error":
            refused.append(frame["payload"])
        answered += frame["type"] in ("error", "complete")
    assert refused
    for payload in refused:
        errors = payload if subprotocol == PROTOCOL else [payload]
        assert [e["extensions"]["code"] for e in errors] == ["CONFLICT"]
    await socket.close()
    assert server_errors(caplog) == []


def _start(subprotocol: str) -> str:
    return "subscribe" if subprotocol == PROTOCOL else "start"


# Legacy graphql-ws (subscriptions-transport-ws)

LEGACY_NOT_A_MESSAGE = [
    *NOT_A_MESSAGE,
    pytest.param(subscribe({"query": ME}), id="graphql-transport-ws type"),
    pytest.param(start({"query": ME}, id=None), id="id missing"),
    pytest.param(start({"query": ME}, id=7), id="id a number"),
    pytest.param(start({"query": ME}, id=""), id="id empty"),
    pytest.param(json.dumps({"type": "stop", "id": 5}), id="stop id a number"),
    pytest.param(json.dumps({"type": "connection_init", "payload": []}), id="init payload"),
]

LEGACY_BAD_START = [
    pytest.param(json.dumps({"type": "start", "id": "1"}), id="payload missing"),
    pytest.param(start([ME]), id="payload an array"),
    pytest.param(start(ME), id="payload a string"),
    pytest.param(start({}), id="query missing"),
    pytest.param(start({"query": 3}), id="query a number"),
    pytest.param(start({"query": ""}), id="query empty"),
    pytest.param(start({"query": ME, "variables": []}), id="variables an array"),
    pytest.param(start({"query": ME, "operationName": 1}), id="operationName a number"),
]


async def assert_still_serving(socket: Socket) -> None:
    await socket.send({"type": "start", "id": "after", "payload": {"query": ME}})
    data = await socket.next()
    assert data["type"] == "data" and data["id"] == "after"
    assert data["payload"]["data"]["me"]["email"]
    assert await socket.next() == {"type": "complete", "id": "after"}


@pytest.mark.parametrize("frame", LEGACY_NOT_A_MESSAGE)
async def test_legacy_a_frame_that_is_no_message_gets_a_connection_error(
    base_url, world, caplog, frame
):
    socket = await Socket.open(base_url, world("acme", "investor").token, subprotocol=LEGACY)
    await socket.send_raw(frame)
    answer = await socket.next()
    assert answer["type"] == "connection_error"
    assert answer["payload"]["message"]
    assert answer["payload"]["extensions"]["code"] == "BAD_USER_INPUT"
    await assert_still_serving(socket)
    await socket.close()
    assert server_errors(caplog) == []


@pytest.mark.parametrize("frame", LEGACY_BAD_START)
async def test_legacy_a_start_with_a_bad_payload_gets_an_error(base_url, world, caplog, frame):
    socket = await Socket.open(base_url, world("acme", "investor").token, subprotocol=LEGACY)
    await socket.send_raw(frame)
    answer = await socket.next()
    assert answer["type"] == "error" and answer["id"] == "1"
    assert answer["payload"]["extensions"]["code"] == "BAD_USER_INPUT"
    await assert_still_serving(socket)
    await socket.close()
    assert server_errors(caplog) == []


@pytest.mark.parametrize("payload", DOCUMENT_ERRORS)
async def test_legacy_a_document_error_is_an_error_message(base_url, world, caplog, payload):
    socket = await Socket.open(base_url, world("acme", "investor").token, subprotocol=LEGACY)
    await socket.send({"type": "start", "id": "1", "payload": payload})
    error = await socket.next()
    assert error["type"] == "error" and error["id"] == "1"
    assert error["payload"]["extensions"]["code"] == "BAD_USER_INPUT"
    await assert_still_serving(socket)
    await socket.close()
    assert server_errors(caplog) == []


@pytest.mark.parametrize(
    "query",
    [ME, 'mutation { createPortfolio(name: "over graphql-ws") { name } }'],
    ids=["query", "mutation"],
)
async def test_legacy_runs_queries_and_mutations(base_url, world, caplog, query):
    socket = await Socket.open(base_url, world("acme", "investor").token, subprotocol=LEGACY)
    await socket.send({"type": "start", "id": "1", "payload": {"query": query}})
    data = await socket.next()
    assert data["type"] == "data" and data["id"] == "1"
    assert "errors" not in data["payload"]
    assert data["payload"]["data"]
    assert await socket.next() == {"type": "complete", "id": "1"}
    await socket.close()
    assert server_errors(caplog) == []
