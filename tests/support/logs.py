"""The server runs in the test's process: what it logs at ERROR (or with a traceback) is
visible to a handler on the root logger. Client input must never produce either."""

import contextlib
import logging
from collections.abc import Iterator


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.levelno >= logging.ERROR or record.exc_info:
            self.records.append(record)


@contextlib.contextmanager
def server_errors() -> Iterator[list[logging.LogRecord]]:
    """Collects every ERROR record, and every record carrying a traceback, logged while
    the block runs (the caller asserts the list is empty)."""
    handler = _Collect()
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        yield handler.records
    finally:
        root.removeHandler(handler)


def describe(records: list[logging.LogRecord]) -> str:
    return "\n".join(
        f"{r.name} {r.levelname}: {r.getMessage()}"
        + (f"\n{logging.Formatter().formatException(r.exc_info)}" if r.exc_info else "")
        for r in records
    )
