"""Pure rules: address classes, URL normalization, per-attempt resolution, sealing and
signing, backoff bounds, and the settings that keep a lease longer than an attempt."""

import ipaddress
import random
from datetime import timedelta

import pytest
from pydantic import ValidationError

from app.settings import Settings
from models.errors import BadUserInput
from models.webhooks import retry_delay
from resolvers.core.context import WebhookConfig
from resolvers.webhooks.secrets import (
    SecretUnavailable,
    new_signing_secret,
    seal,
    signature,
    unseal,
    verify,
)
from resolvers.webhooks.targets import (
    DESTINATION_NOT_ALLOWED,
    AddressClass,
    TargetRefused,
    check_url,
    classify,
    resolve,
)

KEY = bytes(range(32))


@pytest.mark.parametrize(
    ("address", "kind"),
    [
        ("93.184.216.34", AddressClass.PUBLIC),
        ("2606:4700::1111", AddressClass.PUBLIC),
        ("127.0.0.1", AddressClass.LOOPBACK),
        ("127.9.9.9", AddressClass.LOOPBACK),
        ("::1", AddressClass.LOOPBACK),
        ("::ffff:127.0.0.1", AddressClass.LOOPBACK),
        ("10.1.2.3", AddressClass.PRIVATE),
        ("172.16.0.1", AddressClass.PRIVATE),
        ("192.168.0.1", AddressClass.PRIVATE),
        ("100.64.0.1", AddressClass.PRIVATE),
        ("fd00::1", AddressClass.PRIVATE),
        ("::ffff:10.0.0.1", AddressClass.PRIVATE),
        ("::127.0.0.1", AddressClass.LOOPBACK),  # IPv4-compatible
        ("64:ff9b::a00:1", AddressClass.PRIVATE),  # NAT64 of 10.0.0.1
        ("2002:7f00:1::1", AddressClass.LOOPBACK),  # 6to4 of 127.0.0.1
        ("2002:808:808::1", AddressClass.PUBLIC),
        ("169.254.169.254", AddressClass.FORBIDDEN),
        ("fe80::1", AddressClass.FORBIDDEN),
        ("224.0.0.1", AddressClass.FORBIDDEN),
        ("0.0.0.0", AddressClass.FORBIDDEN),  # noqa: S104
    ],
)
def test_address_classes(address, kind):
    assert classify(ipaddress.ip_address(address)) is kind


def test_urls_are_normalized():
    config = WebhookConfig(allow_loopback=True)
    assert check_url(" HTTPS://Partner.Example.COM ", config) == "https://partner.example.com/"
    assert (
        check_url("https://p.example.com:8443/a/B?x=1", config)
        == "https://p.example.com:8443/a/B?x=1"
    )
    assert check_url("http://[::1]:8080/h", config) == "http://[::1]:8080/h"
    with pytest.raises(BadUserInput, match="https"):
        check_url("http://p.example.com/", config)


async def test_each_attempt_connects_to_the_checked_address():
    allowed = WebhookConfig(allow_loopback=True)
    target = await resolve("https://localhost:8443/in?x=1", allowed)
    assert target.connect_url in ("https://127.0.0.1:8443/in?x=1", "https://[::1]:8443/in?x=1")
    assert target.host_header == "localhost:8443" and target.server_name == "localhost"
    plain = await resolve("http://127.0.0.1/in", allowed)
    assert plain.connect_url == "http://127.0.0.1:80/in" and plain.host_header == "127.0.0.1"
    assert plain.server_name is None
    with pytest.raises(TargetRefused):  # loopback was allowed at registration, not any more
        await resolve("https://localhost:8443/in", WebhookConfig())
    with pytest.raises(TargetRefused):
        await resolve("https://169.254.169.254/", WebhookConfig(allow_private_networks=True))


async def test_a_refused_attempt_never_says_what_the_host_resolved_to():
    """Whether the name did not resolve or resolved only to refused addresses, the
    recorded reason is the same and names no address (no oracle for internal DNS)."""
    refused = [
        ("https://localhost:8443/in", WebhookConfig()),  # resolves to loopback only
        ("https://" + "a" * 64 + ".example.com/", WebhookConfig()),  # stored before: no name
        ("https://0177.0.0.1/", WebhookConfig()),  # stored before: octal loopback
    ]
    for url, config in refused:
        with pytest.raises(TargetRefused) as caught:
            await resolve(url, config)
        assert str(caught.value) == DESTINATION_NOT_ALLOWED


def test_hosts_are_checked_as_the_resolver_reads_them():
    config = WebhookConfig(allow_loopback=True, allow_private_networks=True)
    assert check_url("https://B\u00fccher.Example/x", config) == "https://xn--bcher-kva.example/x"
    for host in ("2130706433", "127.1", "0x7f000001", "0177.0.0.1", "\uff11\uff12\uff17.0.0.1"):
        with pytest.raises(BadUserInput, match="canonical"):
            check_url(f"https://{host}/", config)
    with pytest.raises(BadUserInput, match="canonical"):
        check_url("https://[::ffff:127.0.0.1]/", config)


def test_sealed_secrets_open_only_with_their_key_and_endpoint():
    secret = new_signing_secret()
    box = seal(KEY, secret, "tenant:endpoint")
    assert secret not in box
    assert unseal(KEY, box, "tenant:endpoint") == secret
    with pytest.raises(SecretUnavailable):
        unseal(bytes(32), box, "tenant:endpoint")  # another deployment key
    with pytest.raises(SecretUnavailable):
        unseal(KEY, box, "tenant:another-endpoint")  # copied onto another endpoint
    assert seal(KEY, secret, "a") != seal(KEY, secret, "a")  # fresh nonce each time


def test_signature_is_hmac_sha256_of_timestamp_dot_body():
    import hashlib
    import hmac

    body = b'{"id":"1"}'
    expected = hmac.new(b"whsec_k", b"1700000000." + body, hashlib.sha256).hexdigest()
    assert signature("whsec_k", "1700000000", body) == "sha256=" + expected
    assert verify("whsec_k", "1700000000", body, "sha256=" + expected)
    assert not verify("whsec_k", "1700000000", body + b" ", "sha256=" + expected)
    assert not verify("whsec_k", "1700000000", body, "sha256=é")  # not ASCII: False, no error


def test_backoff_doubles_with_jitter_up_to_the_ceiling():
    rng = random.Random(7)
    for attempt, full in [(1, 2.0), (2, 4.0), (3, 8.0), (4, 16.0), (10, 60.0)]:
        for _ in range(50):
            delay = retry_delay(attempt, 2.0, 60.0, rng)
            assert timedelta(seconds=full / 2) <= delay <= timedelta(seconds=full)


def test_the_lease_must_outlast_an_attempt():
    with pytest.raises(ValidationError, match="LEASE"):
        Settings(webhook_timeout_seconds=30, webhook_lease_seconds=30)
    with pytest.raises(ValidationError, match="WEBHOOK_SECRET_KEY"):
        Settings(webhook_secret_key="short")
    defaults = Settings()
    assert not defaults.webhook_allow_loopback and not defaults.webhook_allow_private_networks
    config = defaults.webhook_config(KEY)
    assert config.secret_key == KEY and KEY.hex() not in repr(config)


def test_the_documented_verification_example_accepts_only_genuine_requests():
    import re
    import time
    from pathlib import Path

    guide = (Path(__file__).parents[2] / "docs" / "webhooks.md").read_text()
    [example] = [b for b in re.findall(r"```python\n(.*?)```", guide, re.S) if "def verified" in b]
    namespace: dict = {}
    exec(compile(example, "docs/webhooks.md", "exec"), namespace)  # noqa: S102 - our own docs
    verified = namespace["verified"]
    stamp, body = str(int(time.time())), b'{"id":"e1","type":"TEST"}'
    headers = {"X-Fidus-Timestamp": stamp, "X-Fidus-Signature": signature("whsec_s", stamp, body)}
    assert verified("whsec_s", headers, body)
    assert not verified("whsec_s", headers, body.replace(b"TEST", b"TESt"))
    assert not verified("whsec_other", headers, body)
    old = str(int(time.time()) - 3600)
    stale = {"X-Fidus-Timestamp": old, "X-Fidus-Signature": signature("whsec_s", old, body)}
    assert not verified("whsec_s", stale, body)
