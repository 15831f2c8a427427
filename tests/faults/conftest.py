"""Fault tests run against their own servers (SecantusDB, redis-server, ``fidus serve``),
never the session's: they kill them."""

import pytest


@pytest.fixture(autouse=True)
def _empty_database() -> None:
    """These tests do not use the session database (the root conftest empties it)."""
