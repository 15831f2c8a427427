"""Where a webhook may point (SSRF protection), checked twice:

- at registration, on the URL itself: https only (plain http only to loopback, and only
  when loopback is allowed), no credentials in the URL, and a literal IP address must be
  an allowed one;
- at every attempt, on the addresses the host name resolves to *then*: the request is
  sent to the checked address (Host header and TLS server name keep the host name, so
  certificates are still verified), so a DNS answer that changes after registration
  (DNS rebinding) cannot steer a delivery to an internal service.

Address classes: public (always allowed); loopback (``allow_loopback``); private —
RFC 1918, CGNAT, IPv6 unique-local and other non-global ranges — (``allow_private_networks``);
link-local (cloud metadata at 169.254.169.254), multicast, unspecified: never."""

import asyncio
import ipaddress
import socket
from dataclasses import dataclass
from enum import StrEnum
from urllib.parse import SplitResult, urlsplit, urlunsplit

from models.errors import BadUserInput
from resolvers.context import WebhookConfig

MAX_URL_LENGTH = 2000
LOCAL_NAMES = ("localhost", "localhost.localdomain")

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class AddressClass(StrEnum):
    PUBLIC = "public"
    LOOPBACK = "loopback"
    PRIVATE = "private"
    FORBIDDEN = "forbidden"


class TargetRefused(Exception):
    """A delivery's host resolves to no address this deployment may send to."""


def classify(address: IPAddress) -> AddressClass:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    if address.is_loopback:
        return AddressClass.LOOPBACK
    if address.is_link_local or address.is_multicast or address.is_unspecified:
        return AddressClass.FORBIDDEN
    if address.is_reserved or not address.is_global:
        return AddressClass.PRIVATE
    return AddressClass.PUBLIC


def permitted(kind: AddressClass, config: WebhookConfig) -> bool:
    return {
        AddressClass.PUBLIC: True,
        AddressClass.LOOPBACK: config.allow_loopback,
        AddressClass.PRIVATE: config.allow_private_networks,
        AddressClass.FORBIDDEN: False,
    }[kind]


def _literal(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


def _is_local_name(host: str) -> bool:
    return host in LOCAL_NAMES or host.endswith(".localhost")


def check_url(raw: str, config: WebhookConfig) -> str:
    """The URL, normalized, or BAD_USER_INPUT (field ``url``) saying what is wrong."""

    def bad(reason: str) -> BadUserInput:
        return BadUserInput(f"Webhook URL {reason}", field="url")

    url = raw.strip()
    if not url or len(url) > MAX_URL_LENGTH:
        raise bad(f"must be 1-{MAX_URL_LENGTH} characters")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise bad("is not a valid URL") from exc
    scheme, host = parts.scheme.lower(), (parts.hostname or "").rstrip(".")
    if scheme not in ("https", "http"):
        raise bad("must use https")
    if not host:
        raise bad("has no host")
    if parts.username is not None or parts.password is not None:
        raise bad("must not carry credentials")
    if parts.fragment:
        raise bad("must not have a fragment")
    literal = _literal(host)
    if literal is not None:
        kind = classify(literal)
    elif _is_local_name(host):
        kind = AddressClass.LOOPBACK
    else:
        kind = AddressClass.PUBLIC  # its addresses are checked at every attempt
    if not permitted(kind, config):
        raise bad(f"points to a {kind.value} address, which this deployment does not allow")
    if scheme == "http" and kind is not AddressClass.LOOPBACK:
        raise bad("must use https (plain http is allowed only to loopback in development)")
    netloc = f"[{host}]" if ":" in host else host
    if port is not None:
        netloc += f":{port}"
    return urlunsplit(SplitResult(scheme, netloc, parts.path or "/", parts.query, ""))


@dataclass(frozen=True)
class Target:
    """Where one attempt connects, and the names it presents."""

    connect_url: str  # the URL with the checked IP address as host
    host_header: str
    server_name: str | None  # TLS SNI and certificate name (https)


async def resolve(url: str, config: WebhookConfig) -> Target:
    """Resolve the URL's host now and pick an allowed address; TargetRefused when none is."""
    parts = urlsplit(url)
    host = (parts.hostname or "").rstrip(".")
    port = parts.port or (443 if parts.scheme == "https" else 80)
    literal = _literal(host)
    if literal is not None:
        candidates = [literal]
    else:
        try:
            infos = await asyncio.get_running_loop().getaddrinfo(
                host, port, type=socket.SOCK_STREAM
            )
        except OSError as exc:
            raise TargetRefused(f"cannot resolve {host}: {exc}") from exc
        candidates = [ipaddress.ip_address(str(info[4][0]).split("%", 1)[0]) for info in infos]
    for address in candidates:
        kind = classify(address)
        if not permitted(kind, config):
            continue
        if parts.scheme == "http" and kind is not AddressClass.LOOPBACK:
            continue
        ip_host = f"[{address}]" if address.version == 6 else str(address)
        connect = SplitResult(parts.scheme, f"{ip_host}:{port}", parts.path, parts.query, "")
        default_port = port == (443 if parts.scheme == "https" else 80)
        host_header = host if default_port else f"{host}:{port}"
        if ":" in host:
            host_header = f"[{host}]" if default_port else f"[{host}]:{port}"
        return Target(
            connect_url=urlunsplit(connect),
            host_header=host_header,
            server_name=host if parts.scheme == "https" and literal is None else None,
        )
    raise TargetRefused(f"{host} resolves to no address this deployment may send to")
