"""The client address (rate limits, audit, sessions, WebSocket connections): the TCP peer,
and X-Forwarded-For only when that peer is one of FIDUS_TRUSTED_PROXIES."""

from ipaddress import ip_network

import pytest

from app.client_address import forwarded_client
from models.audit import AuditEntry
from models.identity import RefreshSession
from tests.conftest import PASSWORD
from tests.support.api import LOGIN
from tests.support.ws import Socket

PROXIES = [ip_network("10.0.0.0/8"), ip_network("192.0.2.7/32"), ip_network("2001:db8:1::/48")]
LOGOUT = "mutation($t: String!) { logout(refreshToken: $t) }"


@pytest.mark.parametrize(
    ("peer", "forwarded_for", "client"),
    [
        ("203.0.113.5", ["198.51.100.9"], "203.0.113.5"),  # untrusted peer: header ignored
        ("10.0.0.2", [], "10.0.0.2"),
        ("10.0.0.2", ["198.51.100.9"], "198.51.100.9"),
        ("10.0.0.2", ["6.6.6.6, 198.51.100.9"], "198.51.100.9"),  # the client's own entry
        ("10.0.0.2", ["198.51.100.9, 192.0.2.7, 10.9.9.9"], "198.51.100.9"),  # proxy chain
        ("10.0.0.2", ["6.6.6.6", "198.51.100.9, 10.1.1.1"], "198.51.100.9"),  # two headers
        ("10.0.0.2", ["198.51.100.9:4711"], "198.51.100.9"),
        ("10.0.0.2", ["[2001:db8::5]:4711"], "2001:db8::5"),
        ("10.0.0.2", ["198.51.100.9 ,"], "198.51.100.9"),
        ("10.0.0.2", ["not-an-address, 10.1.1.1"], "10.1.1.1"),  # nearest vouched-for hop
        ("10.0.0.2", ["<script>"], "10.0.0.2"),
        ("10.0.0.2", ["10.3.3.3, 10.1.1.1"], "10.3.3.3"),  # a proxy calling itself
        ("::ffff:10.0.0.2", ["198.51.100.9"], "198.51.100.9"),  # IPv4-mapped peer
        ("2001:db8:1::2", ["198.51.100.9"], "198.51.100.9"),
        ("2001:db8:2::2", ["198.51.100.9"], "2001:db8:2::2"),
        (None, ["198.51.100.9"], None),
    ],
)
def test_forwarded_for_counts_only_behind_a_trusted_proxy(peer, forwarded_for, client):
    assert forwarded_client(peer, forwarded_for, PROXIES) == client


def test_without_trusted_proxies_the_peer_is_the_client():
    assert forwarded_client("127.0.0.1", ["198.51.100.9"], []) == "127.0.0.1"


@pytest.fixture
def trust_loopback(runtime, monkeypatch):
    """The test client (on 127.0.0.1) acts as the reverse proxy."""
    monkeypatch.setattr(runtime.settings, "trusted_proxies", [ip_network("127.0.0.0/8")])


async def login_from(api, member, forwarded_for: str) -> str:
    variables = {"tenant": member.tenant, "email": member.email, "password": PASSWORD}
    payload = (await api.gql(LOGIN, variables, headers={"x-forwarded-for": forwarded_for})).ok()
    return str(payload["login"]["refreshToken"])


async def logout_over_websocket(base_url, member, refresh: str, forwarded_for: str) -> None:
    socket = await Socket.open(base_url, member.token, headers={"x-forwarded-for": forwarded_for})
    try:
        frame = await socket.result_of("1", LOGOUT, {"t": refresh})
        assert frame["payload"] == {"data": {"logout": True}}, frame
    finally:
        await socket.close()


async def where_from(refresh: str) -> tuple[str | None, str | None]:
    """The address the session was opened from, and the one its logout came from."""
    session = await RefreshSession.get(refresh.partition(".")[0])
    logout = await AuditEntry.find_one({"action": "auth.logout", "target_id": session.id})
    return session.client_ip, logout.client_ip


async def test_a_spoofed_header_from_an_untrusted_peer_changes_nothing(api, world, base_url):
    member = world("acme", "investor")
    refresh = await login_from(api, member, "198.51.100.9")
    await logout_over_websocket(base_url, member, refresh, "198.51.100.10")
    assert await where_from(refresh) == ("127.0.0.1", "127.0.0.1")


async def test_behind_a_trusted_proxy_sessions_and_sockets_see_the_client(
    api, world, base_url, trust_loopback
):
    member = world("acme", "investor")
    refresh = await login_from(api, member, "6.6.6.6, 198.51.100.9")
    await logout_over_websocket(base_url, member, refresh, "198.51.100.10")
    assert await where_from(refresh) == ("198.51.100.9", "198.51.100.10")
