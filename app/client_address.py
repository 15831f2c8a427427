"""The client's address, for rate limits, audit entries, sessions and WebSocket connections
alike: the TCP peer, unless that peer is one of FIDUS_TRUSTED_PROXIES; then the rightmost
``X-Forwarded-For`` hop that is not itself a trusted proxy (each proxy appends the address
it was reached from, so hops left of the first untrusted one are the client's to invent).
uvicorn runs with ``proxy_headers=False``: it never rewrites the peer itself."""

import ipaddress
from collections.abc import Sequence

from starlette.requests import HTTPConnection

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_hop(text: str) -> Address | None:
    """An ``X-Forwarded-For`` entry (``1.2.3.4``, ``1.2.3.4:5678``, ``[::1]:5678``, ``::1``);
    IPv4-mapped IPv6 addresses as IPv4. None for anything else."""
    text = text.strip()
    if text.startswith("["):
        text = text[1:].partition("]")[0]
    elif text.count(":") == 1:
        text = text.partition(":")[0]
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def _trusted(address: Address, proxies: Sequence[Network]) -> bool:
    return any(address in network for network in proxies)


def forwarded_client(
    peer: str | None, forwarded_for: Sequence[str], proxies: Sequence[Network]
) -> str | None:
    """``peer`` unless it is a trusted proxy; then walk ``X-Forwarded-For`` (every header
    line, in order) from the right past trusted proxies. A malformed hop stops the walk:
    the nearest address a trusted proxy vouched for is the client."""
    peer_address = parse_hop(peer) if peer and proxies else None
    if peer_address is None or not _trusted(peer_address, proxies):
        return peer
    hops = [hop for line in forwarded_for for hop in line.split(",") if hop.strip()]
    client = peer_address
    for hop in reversed(hops):
        address = parse_hop(hop)
        if address is None:
            break
        client = address
        if not _trusted(address, proxies):
            break
    return str(client)


def client_address(connection: HTTPConnection) -> str | None:
    """The client address of an HTTP request or WebSocket under this app's settings."""
    proxies: Sequence[Network] = connection.app.state.runtime.settings.trusted_proxies
    peer = connection.client.host if connection.client else None
    return forwarded_client(peer, connection.headers.getlist("x-forwarded-for"), proxies)
