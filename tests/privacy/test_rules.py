"""The pure privacy rules: redaction of mentions, retention, and the export's secret filter."""

from datetime import UTC, datetime

from beanie import PydanticObjectId

from models.documents.records import DocumentCategory, DocumentRecord, SignatureRecord
from models.privacy import (
    erased_email,
    erased_name,
    mention_pattern,
    name_parts,
    own_name_pattern,
    redact,
    retained,
    scrub,
)


def test_mentions_are_whole_words_any_case() -> None:
    pattern = mention_pattern(["Zoë O'Neil (Jr.)", "zoe@example.test"])
    assert pattern is not None
    text = "Call ZOË O'NEIL (JR.) today; mail zoe@example.test, not xzoe@example.test."
    assert redact(text, pattern, "P") == "Call P today; mail P, not xzoe@example.test."
    assert redact(None, pattern, "P") is None


def test_short_names_are_not_searched_for() -> None:
    pattern = mention_pattern(["Al", "  "])
    assert pattern is None
    pattern = mention_pattern(["Al", "al@x.io"])
    assert pattern is not None
    assert redact("final word from Al, al@x.io", pattern, "P") == "final word from Al, P"


def test_own_portfolio_names_lose_the_name_and_each_part() -> None:
    assert name_parts("Mary-Jane  O'Neil Al") == ["Mary-Jane", "Mary", "Jane", "O'Neil"]
    pattern = own_name_pattern("Jane Doe", "jane@doe.test")
    assert pattern is not None
    for name, redacted in [
        ("Jane Doe's savings", "[erased]'s savings"),
        ("DOE family trust", "[erased] family trust"),
        ("jane's fun money", "[erased]'s fun money"),
        ("for jane@doe.test", "for [erased]"),
        ("Janet's Doetown fund", "Janet's Doetown fund"),  # whole words only
        ("Main", "Main"),
    ]:
        assert redact(name, pattern, "[erased]") == redacted
    assert own_name_pattern("Al", "") is None


def test_pseudonymous_names() -> None:
    assert erased_name("abc") == "Erased user abc"
    assert erased_email("abc") == "erased-abc@invalid"
    assert erased_email("abc", 2) == "erased-abc-2@invalid"


def _document(category: DocumentCategory, signed: bool) -> DocumentRecord:
    owner = PydanticObjectId()
    signatures = [
        SignatureRecord(
            signer_id=owner, signed_at=datetime.now(UTC), document_sha256="0" * 64, full_name="A"
        )
    ]
    return DocumentRecord(
        tenant_id=PydanticObjectId(),
        owner_id=owner,
        category=category,
        filename="f.pdf",
        content_type="application/pdf",
        size=1,
        sha256="0" * 64,
        signatures=signatures if signed else [],
    )


def test_statements_and_signed_agreements_are_retained() -> None:
    assert retained(_document(DocumentCategory.STATEMENT, signed=False))
    assert retained(_document(DocumentCategory.AGREEMENT, signed=True))
    assert not retained(_document(DocumentCategory.AGREEMENT, signed=False))
    for category in (DocumentCategory.KYC_ID, DocumentCategory.TAX, DocumentCategory.OTHER):
        assert not retained(_document(category, signed=True))


def test_secret_keys_are_dropped_at_every_depth() -> None:
    value = {
        "full_name": "A",
        "password_hash": "h",
        "sessions": [{"token_hash": "t", "previous_hashes": ["p"], "user_agent": "ua"}],
        "detail": {"secret_box": "s", "nested": [{"mfa_secret": "m", "ok": 1}]},
    }
    assert scrub(value) == {
        "fullName": "A",
        "sessions": [{"userAgent": "ua"}],
        "detail": {"nested": [{"ok": 1}]},
    }
