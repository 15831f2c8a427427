"""What an upload really is: its content type sniffed from the bytes (the client's filename
and Content-Type are not trusted) against an allow-list, and a safe filename."""

import codecs
import re
import unicodedata

import puremagic

PDF = "application/pdf"
PNG = "image/png"
JPEG = "image/jpeg"
TEXT = "text/plain"
ALLOWED_TYPES = frozenset({PDF, PNG, JPEG, TEXT})
EXTENSIONS = {
    PDF: (".pdf",),
    PNG: (".png",),
    JPEG: (".jpg", ".jpeg"),
    TEXT: (".txt", ".csv", ".md", ".log"),
}
SNIFF_BYTES = 8192
MAX_FILENAME = 200
_TEXT_CONTROLS = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")
_UNSAFE_FILENAME = re.compile(r'["*/:<>?\\|;]')
# control (C0, DEL, C1), format (bidi embeddings, overrides and isolates, LRM/RLM,
# zero-width), surrogate and line/paragraph-separator characters: they hide or reorder
# what a filename says, or break the header it is sent in
_INVISIBLE_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})
DEFAULT_STEM = "document"


def _best_matches(head: bytes) -> list[str]:
    """MIME types of the most confident magic-number matches (empty when unknown)."""
    try:
        matches = puremagic.magic_string(head)
    except (puremagic.PureError, ValueError):
        return []
    if not matches:
        return []
    top = max(m.confidence for m in matches)
    return [m.mime_type for m in matches if m.confidence == top]


class TextCheck:
    """Fed chunk by chunk: is the whole upload printable UTF-8 text that is not markup
    (HTML/SVG/XML would be active content in a browser)?"""

    def __init__(self) -> None:
        self._decoder = codecs.getincrementaldecoder("utf-8")("strict")
        self._ok = True
        self._start = ""

    def feed(self, chunk: bytes, *, final: bool = False) -> None:
        if not self._ok:
            return
        try:
            text = self._decoder.decode(chunk, final=final)
        except UnicodeDecodeError:
            self._ok = False
            return
        if _TEXT_CONTROLS.search(text):
            self._ok = False
        if not self._start:
            self._start = text.lstrip("\ufeff \t\r\n")[:1]

    @property
    def is_plain_text(self) -> bool:
        return self._ok and self._start not in ("", "<")


def sniff_content_type(head: bytes, is_plain_text: bool) -> str | None:
    """The allowed content type of an upload from its first bytes (``head``) and whether
    all of it is plain text (see ``TextCheck``); None when it is not an allowed type."""
    best = _best_matches(head)
    for mime in (PDF, PNG, JPEG):
        if mime in best:
            return mime
    if is_plain_text and not best:
        return TEXT
    return None


def _visible(name: str) -> str:
    """NFC, without invisible characters (see _INVISIBLE_CATEGORIES)."""
    name = unicodedata.normalize("NFC", name)
    return "".join(c for c in name if unicodedata.category(c) not in _INVISIBLE_CATEGORIES)


def _tidy(name: str) -> str:
    """Shell/path characters replaced, whitespace runs collapsed, no leading or trailing
    dots or spaces."""
    return " ".join(_UNSAFE_FILENAME.sub("_", name).split()).strip(". ")


def clean_filename(raw: str | None, content_type: str) -> str:
    """The last path segment, normalised, without invisible, control or shell/path
    characters, with an extension that matches the sniffed content type."""
    name = re.split(r"[/\\]", _visible(raw or ""))[-1]
    name = _tidy(name)
    stem, dot, ext = name.rpartition(".")
    if not dot:
        stem, ext = name, ""
    if f".{ext.lower()}" not in EXTENSIONS[content_type]:
        stem = name if ext and len(ext) > 5 else stem  # "v1.2 final" has no real extension
        ext = EXTENSIONS[content_type][0][1:]
    stem = (stem or DEFAULT_STEM)[: MAX_FILENAME - len(ext) - 1]
    return f"{stem}.{ext}"


def served_filename(stored: str) -> str:
    """A stored filename as it is served (API, download header): cleaned again, so that
    names stored before uploads were cleaned this way are safe too."""
    return _tidy(_visible(stored))[:MAX_FILENAME] or DEFAULT_STEM
