"""Tick files for `fidus mt5 replay`.

Both MT5 export formats are read (mt5.md): the terminal's tab-separated export, where an
empty field means "unchanged" and the file may be UTF-16 with a BOM, and the Python API's
CSV with named columns in any order."""

import codecs
import csv
import io
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

TERMINAL_FIELDS = {"<DATE>", "<TIME>", "<BID>", "<ASK>", "<LAST>", "<VOLUME>", "<FLAGS>"}


def _text(path: Path) -> str:
    raw = path.read_bytes()
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return raw.decode("utf-16")
    return raw.decode("utf-8-sig")


def symbol_from_name(path: Path) -> str:
    """`XAUUSD_202511030930_202511031000.csv` → `XAUUSD`."""
    return path.stem.split("_")[0]


def read_ticks(path: Path, symbol: str | None = None) -> Iterator[dict[str, Any]]:
    """Ticks as dicts in the shape POST /mt5/ticks takes, with their original time."""
    text = _text(path)
    symbol = symbol or symbol_from_name(path)
    first_line = text.splitlines()[0] if text else ""
    if "<DATE>" in first_line:
        yield from _terminal_export(text, symbol)
    else:
        yield from _python_export(text, symbol)


def _terminal_export(text: str, symbol: str) -> Iterator[dict[str, Any]]:
    reader = csv.reader(io.StringIO(text), delimiter="\t")
    header = [h.strip() for h in next(reader)]
    carried = {"bid": 0.0, "ask": 0.0, "last": 0.0, "volume": 0.0}
    for row in reader:
        if not row:
            continue
        values = dict(zip(header, (cell.strip() for cell in row), strict=False))
        for name in carried:  # an empty field: unchanged since the previous row
            cell = values.get(f"<{name.upper()}>", "")
            if cell:
                carried[name] = float(cell)
        stamp = datetime.strptime(f"{values['<DATE>']} {values['<TIME>']}", "%Y.%m.%d %H:%M:%S.%f")
        yield {
            "symbol": symbol,
            "time_msc": int(stamp.replace(tzinfo=UTC).timestamp() * 1000),
            **carried,
            "flags": int(values.get("<FLAGS>") or 0),
        }


def _python_export(text: str, symbol: str) -> Iterator[dict[str, Any]]:
    for row in csv.DictReader(io.StringIO(text)):
        time_msc = int(row.get("time_msc") or int(row["time"]) * 1000)
        yield {
            "symbol": symbol,
            "time_msc": time_msc,
            "bid": float(row.get("bid") or 0),
            "ask": float(row.get("ask") or 0),
            "last": float(row.get("last") or 0),
            "volume": float(row.get("volume") or 0),
            "volume_real": float(row.get("volume_real") or 0),
            "flags": int(row.get("flags") or 0),
        }
