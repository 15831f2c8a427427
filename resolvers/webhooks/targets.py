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
link-local (cloud metadata at 169.254.169.254), multicast, unspecified: never. An IPv6
address that carries an IPv4 one (mapped, compatible, NAT64, 6to4) is classed by the IPv4.

A host must be a name or a canonical IP literal: numeric spellings a resolver still turns
into an address (``2130706433``, ``127.1``, ``0x7f000001``, ``0177.0.0.1``, full-width
digits and dots, IPv4 inside IPv6) are refused at registration. Delivery errors never
say what a host resolved to."""

import asyncio
import ipaddress
import logging
import re
import socket
from dataclasses import dataclass
from enum import StrEnum
from urllib.parse import SplitResult, urlsplit, urlunsplit

from models.errors import BadUserInput
from resolvers.core.context import WebhookConfig

MAX_URL_LENGTH = 2000
NON_CANONICAL = (
    "host must be a name or an IP address in its canonical form (such as 203.0.113.7 or "
    "[2001:db8::7])"
)
LOCAL_NAMES = ("localhost", "localhost.localdomain")

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
log = logging.getLogger(__name__)


class AddressClass(StrEnum):
    PUBLIC = "public"
    LOOPBACK = "loopback"
    PRIVATE = "private"
    FORBIDDEN = "forbidden"


# what a refused attempt records: the same whether the host did not resolve or resolved
# only to addresses this deployment may not send to (no oracle for internal DNS)
DESTINATION_NOT_ALLOWED = (
    "destination not allowed: the host does not resolve to an address this deployment may send to"
)
_NAT64 = (ipaddress.ip_network("64:ff9b::/96"), ipaddress.ip_network("64:ff9b:1::/48"))
_HEX_NUMBER = re.compile(r"0x[0-9a-f]*", re.IGNORECASE)


class TargetRefused(Exception):
    """A delivery's host resolves to no address this deployment may send to (the message
    is DESTINATION_NOT_ALLOWED; the details are logged, not recorded)."""


def embedded_ipv4(address: IPAddress) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 one carries (mapped, compatible, NAT64, 6to4), if any."""
    if not isinstance(address, ipaddress.IPv6Address):
        return None
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    low = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    if int(address) >> 32 == 0 and int(address) > 1:  # IPv4-compatible ::a.b.c.d
        return low
    if any(address in network for network in _NAT64):
        return low
    return None


def classify(address: IPAddress) -> AddressClass:
    address = embedded_ipv4(address) or address
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


def _ends_in_number(host: str) -> bool:
    """The URL standard's test: a host whose last label is a number (decimal, or 0x
    hex) is an IPv4 address, however it is spelt."""
    last = host.rsplit(".", 1)[-1]
    return (last.isascii() and last.isdigit()) or bool(_HEX_NUMBER.fullmatch(last))


def dns_host(host: str) -> str:
    """The host as the resolver will look it up: lower case, IDNA-encoded (full-width
    letters, digits and dots become ASCII); ValueError when it is not a valid name."""
    try:
        return host.encode("idna").decode("ascii").lower()
    except UnicodeError as exc:
        raise ValueError("not a valid host name") from exc


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
    if literal is None:
        try:
            host = dns_host(host)
        except ValueError as exc:
            raise bad("has an invalid host name") from exc
        if _literal(host) is not None or _ends_in_number(host):
            raise bad(NON_CANONICAL)  # 127.1, 2130706433, 0x7f000001, full-width digits
    elif embedded_ipv4(literal) is not None:
        raise bad(NON_CANONICAL)  # IPv4 inside IPv6: give the IPv4 address itself
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
                dns_host(host), port, type=socket.SOCK_STREAM
            )
        except (OSError, ValueError) as exc:  # ValueError: not a valid host name
            log.info("webhook host %s does not resolve: %s", host, exc)
            raise TargetRefused(DESTINATION_NOT_ALLOWED) from exc
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
    log.info(
        "webhook host %s resolves only to refused addresses: %s",
        host,
        ", ".join(str(a) for a in candidates),
    )
    raise TargetRefused(DESTINATION_NOT_ALLOWED)
