"""The one signed-token implementation behind cursors, join links and download links:
purpose-bound keys, expiry, and exactly one spelling of a valid token."""

import base64
from datetime import UTC, datetime, timedelta

from resolvers.core.signed_tokens import (
    MAX_TOKEN,
    TokenKeys,
    seal,
    tag,
    tag_matches,
    unseal,
    with_expiry,
)

KEYS = TokenKeys.derived_from("a deployment's signing secret")
NOW = datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC)
CLAIMS = {"l": "users", "k": "65f000000000000000000001"}


def test_a_sealed_token_opens_with_its_own_purpose_only() -> None:
    token = seal(KEYS.cursors, CLAIMS)
    assert unseal(KEYS.cursors, token) == CLAIMS
    assert unseal(KEYS.join_links, token) is None
    assert unseal(KEYS.downloads, token) is None
    other_deployment = TokenKeys.derived_from("another secret")
    assert unseal(other_deployment.cursors, token) is None


def test_a_token_expires_and_needs_a_clock_to_be_checked() -> None:
    token = seal(KEYS.join_links, with_expiry(CLAIMS, NOW + timedelta(minutes=15)))
    assert unseal(KEYS.join_links, token, NOW) == {**CLAIMS, "x": int(NOW.timestamp()) + 900}
    assert unseal(KEYS.join_links, token, NOW + timedelta(minutes=15)) is None
    assert unseal(KEYS.join_links, token) is None  # an expiry nobody checks does not pass


def test_only_the_exact_token_is_accepted() -> None:
    token = seal(KEYS.cursors, CLAIMS)
    body, signature = token.split(".")
    forged_body = base64.urlsafe_b64encode(b'{"k":"65f000000000000000000002","l":"users"}')
    refused = [
        f"{forged_body.decode().rstrip('=')}.{signature}",
        f"{body}.{signature[:-1]}",
        f"{body}.{signature}A",
        f"{body}.",
        body,
        "",
        "a.b.c",
        "." * (MAX_TOKEN + 1),
    ]
    # the tag's last character carries unused bits: another spelling of the same bytes
    last = base64.urlsafe_b64decode(signature + "==")[-1:]
    respelled = next(
        c
        for c in "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
        if c != signature[-1] and base64.urlsafe_b64decode(signature[:-1] + c + "==")[-1:] == last
    )
    refused.append(f"{body}.{signature[:-1]}{respelled}")
    for bad in refused:
        assert unseal(KEYS.cursors, bad) is None, bad


def test_a_detached_tag_covers_every_claim_and_the_expiry() -> None:
    claims = with_expiry({"d": "doc", "u": "user"}, NOW + timedelta(minutes=5))
    signature = tag(KEYS.downloads, claims)
    assert tag_matches(KEYS.downloads, claims, signature, NOW)
    assert not tag_matches(KEYS.downloads, claims, signature, NOW + timedelta(minutes=5))
    assert not tag_matches(KEYS.downloads, {**claims, "u": "someone else"}, signature, NOW)
    assert not tag_matches(KEYS.downloads, {**claims, "x": claims["x"] + 60}, signature, NOW)
    assert not tag_matches(KEYS.join_links, claims, signature, NOW)
    assert not tag_matches(KEYS.downloads, claims, signature.upper(), NOW)
