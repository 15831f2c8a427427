"""Pure rules of the GDPR/POPIA subject rights (docs/domain-decisions.md, Privacy): what an
export never contains, how an erased person is named, which documents are retained, and
how mentions of a person are redacted from free text."""

import re
import secrets
from collections.abc import Iterable
from datetime import timedelta
from typing import Any

from pydantic.alias_generators import to_camel

from models.documents.records import DocumentCategory, DocumentRecord

ERASED_BODY = "[erased]"
ERASED_FILENAME = "erased"
# a running erasure holds its claim this long; a crashed one is resumed once it ran out
ERASURE_LEASE = timedelta(minutes=5)
MAX_CONFIRM = 1024
MIN_MENTION = 3  # shorter names are not searched for in free text
_METACHARACTERS = re.compile(r"[.^$*+?()\[\]{}|\\/]")

# Keys never exported, wherever they occur (credentials, their hashes, signing material).
SECRET_KEYS = frozenset(
    {
        "password_hash",
        "token_hash",
        "previous_hashes",
        "mfa_secret",
        "mfa_pending_secret",
        "mfa_last_step",
        "secret",
        "secret_box",
        "check_in_code",
        "dedupe_key",
        "erasure_lease_until",
    }
)


def new_pseudonym() -> str:
    """A random, meaningless name for an erased person (not derived from their data)."""
    return secrets.token_hex(6)


def erased_name(pseudonym: str) -> str:
    return f"Erased user {pseudonym}"


def erased_email(pseudonym: str, index: int = 0) -> str:
    suffix = f"-{index}" if index else ""
    return f"erased-{pseudonym}{suffix}@invalid"


def retained(doc: DocumentRecord) -> bool:
    """Financial and legal records outlive an erasure: statements, and agreements that
    were signed. Everything else the person owns loses its bytes."""
    if doc.category is DocumentCategory.STATEMENT:
        return True
    return doc.category is DocumentCategory.AGREEMENT and bool(doc.signatures)


def mention_pattern(needles: Iterable[str]) -> re.Pattern[str] | None:
    """Case-insensitive pattern matching any of ``needles`` (longest first); None when
    there is nothing to look for."""
    words = sorted({" ".join(n.split()) for n in needles if n}, key=len, reverse=True)
    words = [w for w in words if len(w) >= MIN_MENTION]
    if not words:
        return None
    # whole words only: a person called "Al" must not turn "final" into "finErased user …"
    alternatives = "|".join(_escape(w) for w in words)
    return re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)", re.IGNORECASE)


def name_parts(full_name: str) -> list[str]:
    """The parts of a name (split at spaces and hyphens) with at least ``MIN_MENTION``
    letters: "Mary-Jane O'Neil" → Mary-Jane, Mary, Jane, O'Neil."""
    parts: list[str] = []
    for word in full_name.split():
        pieces = [word, *word.split("-")] if "-" in word else [word]
        parts += [p for p in pieces if sum(c.isalpha() for c in p) >= MIN_MENTION]
    return list(dict.fromkeys(parts))


def own_name_pattern(full_name: str, email: str) -> re.Pattern[str] | None:
    """What is redacted from the names of a person's own portfolios: the full name, the
    email and each name part (whole words, any case). Wider than a mention in others' free
    text, where a first name alone may well be someone else's."""
    return mention_pattern([full_name, email, *name_parts(full_name)])


def _escape(text: str) -> str:
    """Escape only regex metacharacters, so the pattern reads the same to Python and to
    the database's regex engine (``re.escape`` also escapes spaces and dashes)."""
    return _METACHARACTERS.sub(r"\\\g<0>", text)


def redact(text: str | None, pattern: re.Pattern[str], replacement: str) -> str | None:
    return None if text is None else pattern.sub(replacement, text)


def scrub(value: Any) -> Any:
    """``value`` without secret keys, at any depth, with camelCase keys."""
    if isinstance(value, dict):
        return {
            to_camel(key) if isinstance(key, str) else key: scrub(item)
            for key, item in value.items()
            if key not in SECRET_KEYS
        }
    if isinstance(value, list | tuple):
        return [scrub(item) for item in value]
    return value
