"""A WebSocket is a session, not a key: each operation runs as the connection's current
session, a revoked session or an expired token closes the socket with 4403 within 2 s,
``renewConnection`` keeps it alive past the first token, and limits hold (real uvicorn,
real redis-server, real ``websockets`` client)."""

import asyncio
import json
import time
from datetime import UTC, datetime, timedelta

import pytest
import websockets
from beanie import PydanticObjectId
from bson import ObjectId

from app.auth import AccessTokens
from models.users import User
from tests.conftest import PASSWORD
from tests.support.api import LOGIN
from tests.support.api_process import ADMIN_PASSWORD
from tests.support.ws import Socket

ME = "query { me { id email } }"
CREATE_PORTFOLIO = 'mutation { createPortfolio(name: "after revocation") { id } }'
RENEW = "mutation($t: String!) { renewConnection(accessToken: $t) }"
TICKS = "subscription($s: [String!]!) { ticks(symbols: $s) { symbol bid time } }"
PORTFOLIOS = "query { myPortfolios { name } }"


async def second_login(api, member) -> dict:
    """Another session of the same user (another device)."""
    return await api.login(member.tenant, member.email, PASSWORD)


async def assert_closed_forbidden(socket: Socket, within: float = 2.0) -> None:
    started = time.monotonic()
    code, _reason = await socket.closed_with(within)
    assert code == 4403
    assert time.monotonic() - started <= within


async def test_a_socket_answers_as_its_session_until_logout(api, base_url, world):
    member = world("acme", "investor")
    socket = await Socket.open(base_url, member.token)
    me = await socket.result_of("1", ME)
    assert me["payload"]["data"]["me"]["email"] == member.email

    api_result = await api.gql(
        "mutation($r: String!) { logout(refreshToken: $r) }", {"r": member.refresh}
    )
    assert api_result.ok()["logout"] is True
    await assert_closed_forbidden(socket)


async def test_nothing_runs_on_a_revoked_socket_even_before_its_close(api, base_url, world):
    """The per-operation check, without the broadcast: the session is revoked straight in
    the database, and the next mutation on the socket must not run."""
    from models.identity import RefreshSession

    member = world("acme", "investor")
    socket = await Socket.open(base_url, member.token)
    await socket.result_of("warm", ME)
    session_id = member.refresh.split(".")[0]
    await RefreshSession.get_pymongo_collection().update_one(
        {"_id": ObjectId(session_id)},
        {"$set": {"revoked_at": datetime.now(UTC)}},
    )
    await socket.subscribe("2", CREATE_PORTFOLIO)
    await assert_closed_forbidden(socket)
    portfolios = await api.gql(PORTFOLIOS, token=(await second_login(api, member))["accessToken"])
    assert "after revocation" not in {p["name"] for p in portfolios.ok()["myPortfolios"]}


@pytest.mark.parametrize("how", ["revokeSession", "changePassword", "eraseUser"])
async def test_revocations_close_open_sockets_within_two_seconds(api, base_url, world, how):
    member = world("acme", "investor")
    socket = await Socket.open(base_url, member.token)
    await socket.subscribe("ticks", TICKS, {"s": ["EURUSD"]})
    other = await second_login(api, member)
    if how == "revokeSession":
        result = await api.gql(
            "mutation($id: ID!) { revokeSession(id: $id) }",
            {"id": member.refresh.split(".")[0]},
            token=other["accessToken"],
        )
        assert result.ok()["revokeSession"] is True
    elif how == "changePassword":
        result = await api.gql(
            "mutation($c: String!, $n: String!) { changePassword(currentPassword: $c,"
            " newPassword: $n) }",
            {"c": PASSWORD, "n": "a brand new passphrase 2026"},
            token=other["accessToken"],
        )
        assert result.ok()["changePassword"] is True
    else:
        result = await api.gql(
            "mutation($id: ID!, $c: String!) { eraseUser(userId: $id, confirm: $c) { id } }",
            {"id": member.id, "c": member.email},
            token=world("acme", "admin").token,
        )
        assert result.ok()["eraseUser"]["id"] == member.id
    await assert_closed_forbidden(socket)


async def test_a_socket_closes_when_its_access_token_expires(base_url, world, runtime):
    member = world("acme", "investor")
    socket = await Socket.open(base_url, await short_token(member, runtime, seconds=2))
    await socket.subscribe("ticks", TICKS, {"s": ["EURUSD"]})
    code, reason = await socket.closed_with(4.0)
    assert (code, reason) == (4403, "Access token expired")


async def short_token(member, runtime, seconds: float) -> str:
    """An access token of the member's session that expires in ``seconds``."""
    tokens = AccessTokens(runtime.access_tokens._secret, timedelta(seconds=seconds))
    user = await User.get(ObjectId(member.id))
    assert user is not None
    token, _expires = tokens.issue(user, PydanticObjectId(member.refresh.split(".")[0]))
    return token


async def test_renew_connection_keeps_a_stream_past_the_first_token(
    api, base_url, world, runtime, ingest_token
):
    member = world("acme", "investor")
    socket = await Socket.open(base_url, await short_token(member, runtime, seconds=2))
    await socket.subscribe("ticks", TICKS, {"s": ["EURUSD"]})
    renewed = await socket.result_of("renew", RENEW, {"t": member.token})
    expiry = datetime.fromisoformat(renewed["payload"]["data"]["renewConnection"])
    assert expiry > datetime.now(UTC) + timedelta(minutes=5)

    await asyncio.sleep(3)  # past the first token's expiry: still open
    me = await socket.result_of("me", ME)
    assert me["payload"]["data"]["me"]["id"] == member.id
    posted = await api.client.post(
        f"{base_url}/mt5/ticks",
        json={
            "ticks": [
                {"symbol": "EURUSD", "time_msc": int(time.time() * 1000), "bid": 1.1, "ask": 1.2}
            ]
        },
        headers={"authorization": f"Bearer {ingest_token}"},
    )
    assert posted.status_code == 200, posted.text
    while True:
        frame = await socket.next(5)
        if frame.get("id") == "ticks":
            assert frame["payload"]["data"]["ticks"]["symbol"] == "EURUSD"
            break
    await socket.close()


async def test_renew_connection_refuses_other_users_and_bad_tokens(api, base_url, world, runtime):
    member, other = world("acme", "investor"), world("acme", "investor2")
    socket = await Socket.open(base_url, member.token)
    for op_id, token, code in [
        ("other-user", other.token, "FORBIDDEN"),
        ("other-tenant", world("globex", "investor").token, "FORBIDDEN"),
        ("garbage", "not-a-token", "UNAUTHENTICATED"),
        ("expired", await short_token(member, runtime, seconds=-5), "UNAUTHENTICATED"),
    ]:
        answer = await socket.result_of(op_id, RENEW, {"t": token})
        errors = answer["payload"].get("errors") or answer["payload"]
        assert errors[0]["extensions"]["code"] == code, (op_id, errors)
    me = await socket.result_of("still-me", ME)  # the connection is unchanged
    assert me["payload"]["data"]["me"]["id"] == member.id
    await socket.close()


async def test_renew_connection_over_http_is_bad_input(api, world):
    member = world("acme", "investor")
    result = await api.gql(RENEW, {"t": member.token}, token=member.token)
    assert result.code == "BAD_USER_INPUT"
    anonymous = await api.gql(RENEW, {"t": member.token})
    assert anonymous.code == "UNAUTHENTICATED"  # signed-in callers only, like every mutation


async def test_a_legacy_socket_takes_one_connection_init(base_url, world):
    """A second init (another user's token, say) would swap the socket's session."""
    url = base_url.replace("http://", "ws://") + "/graphql"
    async with websockets.connect(url, subprotocols=["graphql-ws"]) as legacy:
        first = {"authorization": f"Bearer {world('acme', 'investor').token}"}
        await legacy.send(json.dumps({"type": "connection_init", "payload": first}))
        assert json.loads(await legacy.recv())["type"] == "connection_ack"
        second = {"authorization": f"Bearer {world('acme', 'admin').token}"}
        await legacy.send(json.dumps({"type": "connection_init", "payload": second}))
        with pytest.raises(websockets.ConnectionClosed):
            async with asyncio.timeout(2):
                while True:
                    await legacy.recv()
        assert legacy.close_code == 4429


async def test_frames_above_the_body_limit_close_the_socket(base_url, world, settings):
    socket = await Socket.open(base_url, world("acme", "investor").token)
    huge = "x" * (settings.max_request_bytes + 1)
    await socket.subscribe("big", "query { me { id } }", {"pad": huge})
    code, _reason = await socket.closed_with(5)
    assert code == 1009


async def test_connections_per_user_are_capped(base_url, world, settings):
    member = world("acme", "investor")
    sockets = [
        await Socket.open(base_url, member.token) for _ in range(settings.max_connections_per_user)
    ]
    with pytest.raises(AssertionError, match="4403"):
        await Socket.open(base_url, member.token)
    await sockets[0].close()
    await asyncio.sleep(0.2)
    replacement = await Socket.open(base_url, member.token)  # a slot is free again
    for socket in [*sockets[1:], replacement]:
        await socket.close()


async def test_a_revocation_in_another_process_closes_the_socket(api, two_processes):
    """Two `fidus serve` processes on one Redis: the socket is on the second, the logout
    runs on the first; only the broker carries the revocation across."""
    first, second = two_processes
    login = await api.client.post(
        f"{first.url}/graphql",
        json={
            "query": LOGIN,
            "variables": {
                "tenant": "scale",
                "email": "admin@scale.test",
                "password": ADMIN_PASSWORD,
            },
        },
    )
    session = login.json()["data"]["login"]
    socket = await Socket.open(second.url, session["accessToken"])
    await socket.subscribe("ticks", TICKS, {"s": ["EURUSD"]})
    me = await socket.result_of("me", ME)
    assert me["payload"]["data"]["me"]["email"] == "admin@scale.test"
    logout = await api.client.post(
        f"{first.url}/graphql",
        json={
            "query": "mutation($r: String!) { logout(refreshToken: $r) }",
            "variables": {"r": session["refreshToken"]},
        },
    )
    assert logout.json()["data"]["logout"] is True
    await assert_closed_forbidden(socket)


async def test_a_legacy_graphql_ws_socket_is_closed_4403_after_logout(api, base_url, world):
    member = world("acme", "investor")
    url = base_url.replace("http://", "ws://") + "/graphql"
    async with websockets.connect(url, subprotocols=["graphql-ws"]) as legacy:
        init = {"authorization": f"Bearer {member.token}"}
        await legacy.send(json.dumps({"type": "connection_init", "payload": init}))
        assert json.loads(await legacy.recv())["type"] == "connection_ack"
        logout = await api.gql(
            "mutation($r: String!) { logout(refreshToken: $r) }", {"r": member.refresh}
        )
        assert logout.ok()["logout"] is True
        with pytest.raises(websockets.ConnectionClosed):
            async with asyncio.timeout(2):
                while True:
                    await legacy.recv()  # keep-alives until the close
        assert legacy.close_code == 4403


async def test_a_completed_tick_stream_lets_go_of_its_topics(api, base_url, world, runtime):
    """After its first event the handler feeds the stream itself; `complete` (or the
    socket closing) still detaches its topics at once."""
    broker = runtime.services.broker
    before = broker.active_topics
    member = world("acme", "investor")
    socket = await Socket.open(base_url, member.token)
    await socket.subscribe("ticks", TICKS, {"s": ["LEAK1", "LEAK2"]})
    for attempt in range(50):  # until the stream is live and past its first event
        await broker.publish(
            f"ticks:{(await User.get(ObjectId(member.id))).tenant_id}:LEAK1",
            f'{{"symbol":"LEAK1","time_msc":{1_700_000_000_000 + attempt},"bid":1.0,"ask":2.0}}',
        )
        try:
            frame = await socket.next(0.1)
        except TimeoutError:
            continue
        if frame.get("id") == "ticks":
            break
    assert broker.active_topics == before + 2
    await socket.send({"id": "ticks", "type": "complete"})
    for _ in range(50):
        if broker.active_topics == before:
            break
        await asyncio.sleep(0.02)
    assert broker.active_topics == before
    await socket.subscribe("again", TICKS, {"s": ["LEAK1"]})
    await socket.close()
    for _ in range(50):
        if broker.active_topics == before:
            break
        await asyncio.sleep(0.02)
    assert broker.active_topics == before


async def test_a_failing_direct_feed_answers_a_coded_masked_error(
    base_url, world, runtime, monkeypatch
):
    """After the first event the handler feeds the stream itself; should the source fail
    there, the client gets the contract's masked error (with the request id), then
    `complete`, and the socket stays usable."""
    from schema.mt5 import ticks as tick_schema

    def broken(_item):
        raise RuntimeError("secret internals")

    monkeypatch.setattr(tick_schema, "tick_of_message", broken)
    member = world("acme", "investor")
    tenant = (await User.get(ObjectId(member.id))).tenant_id
    socket = await Socket.open(base_url, member.token)
    await socket.subscribe("ticks", TICKS, {"s": ["FAIL1"]})
    frames: list[dict] = []
    for attempt in range(50):
        await runtime.services.broker.publish(
            f"ticks:{tenant}:FAIL1",
            f'{{"symbol":"FAIL1","time_msc":{1_700_000_000_000 + attempt},"bid":1.0,"ask":2.0}}',
        )
        try:
            frames.append(await socket.next(0.1))
        except TimeoutError:
            continue
        if frames[-1]["type"] == "complete":
            break
    assert frames[0]["payload"]["data"]["ticks"]["symbol"] == "FAIL1"  # through Strawberry
    [error] = frames[-2]["payload"]["errors"]
    assert error["extensions"]["code"] == "INTERNAL_SERVER_ERROR"
    assert "secret internals" not in error["message"]
    assert frames[-1] == {"id": "ticks", "type": "complete"}
    me = await socket.result_of("me", ME)
    assert me["payload"]["data"]["me"]["id"] == member.id
    await socket.close()
