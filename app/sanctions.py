"""Loading the sanctions list named by FIDUS_SANCTIONS_FILE (CSV or JSON) at start-up.

CSV: a header row with ``id,name,aliases`` (aliases separated by ``;``; other columns are
ignored). JSON: a list of ``{"id": ..., "name": ..., "aliases": [...]}`` objects.
A configured file that cannot be read or has no entries stops the start-up: screening
against a silently empty list would clear everyone."""

import csv
import io
from pathlib import Path
from typing import Any

import orjson

from models.sanctions import SanctionsEntry, SanctionsList


class SanctionsFileError(ValueError):
    pass


def _entry(row: dict[str, Any], where: str) -> SanctionsEntry:
    entry_id, name = str(row.get("id") or "").strip(), str(row.get("name") or "").strip()
    if not entry_id or not name:
        raise SanctionsFileError(f"{where}: every entry needs an id and a name")
    raw = row.get("aliases") or []
    aliases = raw.split(";") if isinstance(raw, str) else [str(a) for a in raw]
    return SanctionsEntry(entry_id, name, tuple(a.strip() for a in aliases if a.strip()))


def parse_sanctions(text: str, source: str) -> list[SanctionsEntry]:
    if source.lower().endswith(".json"):
        rows = orjson.loads(text)
        if not isinstance(rows, list):
            raise SanctionsFileError(f"{source}: expected a JSON list of entries")
    else:
        rows = list(csv.DictReader(io.StringIO(text)))
    entries = [_entry(row, f"{source} entry {n}") for n, row in enumerate(rows, 1)]
    if not entries:
        raise SanctionsFileError(f"{source}: the sanctions list is empty")
    return entries


def load_sanctions(path: Path, hit_threshold: float, review_threshold: float) -> SanctionsList:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise SanctionsFileError(f"Cannot read the sanctions list {path}: {exc}") from exc
    try:
        entries = parse_sanctions(text, str(path))
    except (orjson.JSONDecodeError, csv.Error) as exc:
        raise SanctionsFileError(f"{path}: {exc}") from exc
    return SanctionsList(str(path.name), tuple(entries), hit_threshold, review_threshold)
