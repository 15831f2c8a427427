"""Sanctions-list screening: names and aliases matched with RapidFuzz's token-sort scorer
after normalisation (accents folded, case and punctuation ignored, word order free)."""

import re
import unicodedata
from dataclasses import dataclass

from rapidfuzz import fuzz, process

from models.crm import AmlResult

_NOT_WORD = re.compile(r"[^\w]+")
# Latin letters that Unicode does not decompose into a base letter plus an accent
_FOLD = str.maketrans(
    {"ø": "o", "æ": "ae", "œ": "oe", "ß": "ss", "đ": "d", "ł": "l", "þ": "th", "ð": "d", "ı": "i"}
)


def normalize_name(name: str) -> str:
    """'  Émilie  DUPRÈS-Fantôme ' → 'emilie dupres fantome'."""
    decomposed = unicodedata.normalize("NFKD", name)
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    folded = stripped.casefold().translate(_FOLD)
    return " ".join(_NOT_WORD.sub(" ", folded).replace("_", " ").split())


@dataclass(frozen=True)
class SanctionsEntry:
    entry_id: str
    name: str
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True)
class ScreeningOutcome:
    result: AmlResult
    score: float  # 0-100, best score over every name and alias
    entry: SanctionsEntry | None  # the best-matching entry unless CLEAR
    matched_name: str | None


@dataclass(frozen=True)
class SanctionsList:
    """A loaded list with its thresholds: score ≥ ``hit_threshold`` is a HIT,
    ≥ ``review_threshold`` needs MANUAL_REVIEW, anything lower is CLEAR."""

    source: str
    entries: tuple[SanctionsEntry, ...]
    hit_threshold: float = 90.0
    review_threshold: float = 75.0

    def __post_init__(self) -> None:
        if not 0 < self.review_threshold <= self.hit_threshold <= 100:
            raise ValueError("need 0 < review threshold <= hit threshold <= 100")
        names: list[str] = []
        owners: list[tuple[SanctionsEntry, str]] = []
        for entry in self.entries:
            for name in (entry.name, *entry.aliases):
                key = normalize_name(name)
                if key:
                    names.append(key)
                    owners.append((entry, name))
        object.__setattr__(self, "_names", names)
        object.__setattr__(self, "_owners", owners)

    def screen(self, full_name: str) -> ScreeningOutcome:
        key = normalize_name(full_name)
        names: list[str] = self._names  # type: ignore[attr-defined]
        best = process.extractOne(key, names, scorer=fuzz.token_sort_ratio) if key else None
        if best is None:
            return ScreeningOutcome(AmlResult.CLEAR, 0.0, None, None)
        _match, score, index = best
        entry, matched_name = self._owners[index]  # type: ignore[attr-defined]
        if score >= self.hit_threshold:
            result = AmlResult.HIT
        elif score >= self.review_threshold:
            result = AmlResult.MANUAL_REVIEW
        else:
            return ScreeningOutcome(AmlResult.CLEAR, round(float(score), 1), None, None)
        return ScreeningOutcome(result, round(float(score), 1), entry, matched_name)
