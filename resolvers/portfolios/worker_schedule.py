"""The valuation worker's bookkeeping, without I/O: when each portfolio is next published
(Coalescer), and which stored marks wait for which portfolios (MarkBook)."""

from dataclasses import dataclass, field

Key = tuple[str, str]  # (tenant, portfolio)
Stored = tuple[str, str]  # a stored mark: (field, stamp)


@dataclass
class _Pending:
    reason: str
    due: float


@dataclass
class Coalescer:
    """Schedules each portfolio's publication no sooner than ``window`` after its last."""

    window: float
    last_sent: dict[Key, float] = field(default_factory=dict)
    pending: dict[Key, _Pending] = field(default_factory=dict)

    def mark(self, key: Key, reason: str, now: float) -> None:
        if key in self.pending:
            self.pending[key].reason = reason  # the newest reason wins; state is read at send
            return
        due = max(now, self.last_sent.get(key, -self.window) + self.window)
        self.pending[key] = _Pending(reason, due)

    def due(self, now: float) -> list[tuple[Key, str]]:
        ready = [(k, p.reason) for k, p in self.pending.items() if p.due <= now]
        for key, _reason in ready:
            del self.pending[key]
            self.last_sent[key] = now
        return ready

    def next_due(self) -> float | None:
        return min((p.due for p in self.pending.values()), default=None)


@dataclass
class MarkBook:
    """Which stored marks wait for which portfolios' valuations. A mark is done when each
    portfolio it named has been published by a valuation that began after it was read."""

    taken: dict[str, str] = field(default_factory=dict)  # field → stamp last taken
    waiting: dict[Stored, set[Key]] = field(default_factory=dict)
    waiters: dict[Key, set[Stored]] = field(default_factory=dict)

    def new(self, stored: dict[str, str]) -> list[Stored]:
        """The stored marks not taken yet, oldest first."""
        fresh = [(f, stamp) for f, stamp in stored.items() if self.taken.get(f) != stamp]
        return sorted(fresh, key=lambda mark: mark[1])

    def take(self, mark: Stored, keys: list[Key]) -> bool:
        """Wait for these portfolios' valuations; False when there is none to wait for."""
        self.taken[mark[0]] = mark[1]
        if not keys:
            self._forget(mark)
            return False
        self.waiting[mark] = set(keys)
        for key in keys:
            self.waiters.setdefault(key, set()).add(mark)
        return True

    def begin(self, key: Key) -> set[Stored]:
        """A valuation of ``key`` begins: the marks it will satisfy."""
        return self.waiters.pop(key, set())

    def again(self, key: Key, marks: set[Stored]) -> None:
        """That valuation failed: its marks wait for the next one."""
        if marks:
            self.waiters.setdefault(key, set()).update(marks)

    def end(self, key: Key, marks: set[Stored]) -> list[Stored]:
        """That valuation was published (or cannot be): the marks now done."""
        done = []
        for mark in marks:
            keys = self.waiting.get(mark)
            if keys is None:
                continue
            keys.discard(key)
            if not keys:
                del self.waiting[mark]
                self._forget(mark)
                done.append(mark)
        return done

    def _forget(self, mark: Stored) -> None:
        if self.taken.get(mark[0]) == mark[1]:
            del self.taken[mark[0]]
