"""Webhook secrets: minted, sealed at rest with AES-GCM, and used to sign deliveries.

The signing secret has to be readable by the dispatcher to compute each HMAC, so unlike
passwords and tokens it cannot be stored as a hash. It is sealed with a key that is not
in the database when ``FIDUS_WEBHOOK_SECRET_KEY`` (or ``FIDUS_JWT_SECRET``) is set; the
endpoint's id and tenant are bound in as associated data, so a sealed secret copied onto
another endpoint does not open."""

import base64
import hashlib
import hmac
import os
import secrets

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

SECRET_PREFIX = "whsec_"  # noqa: S105 - a prefix, not a secret
SIGNATURE_PREFIX = "sha256="
_NONCE_BYTES = 12


class SecretUnavailable(Exception):
    """The sealed secret does not open with this deployment's key (the key changed)."""


def new_signing_secret() -> str:
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def key_id(key: bytes) -> str:
    """A short, non-secret fingerprint of the sealing key."""
    return hashlib.sha256(b"fidus-webhook-key-id" + key).hexdigest()[:16]


def seal(key: bytes, secret: str, associated: str) -> str:
    nonce = os.urandom(_NONCE_BYTES)
    sealed = AESGCM(key).encrypt(nonce, secret.encode(), associated.encode())
    return base64.b64encode(nonce + sealed).decode()


def unseal(key: bytes, box: str, associated: str) -> str:
    try:
        raw = base64.b64decode(box)
        opened = AESGCM(key).decrypt(raw[:_NONCE_BYTES], raw[_NONCE_BYTES:], associated.encode())
    except (InvalidTag, ValueError) as exc:
        raise SecretUnavailable("the webhook secret does not open with the current key") from exc
    return opened.decode()


def signature(secret: str, timestamp: str, body: bytes) -> str:
    """``sha256=<hex HMAC-SHA256 of "timestamp.body">``: what ``X-Fidus-Signature`` carries."""
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return SIGNATURE_PREFIX + mac.hexdigest()


def verify(secret: str, timestamp: str, body: bytes, header: str) -> bool:
    """What a receiver does (constant-time comparison)."""
    return hmac.compare_digest(signature(secret, timestamp, body).encode(), header.encode())
