"""Fault tests run against their own servers (SecantusDB, redis-server, ``fidus serve``),
never the session's: they kill them."""

from collections.abc import AsyncIterator

import pytest

from tests.faults.stack import Stack, fault_stack


@pytest.fixture(autouse=True)
def _empty_database() -> None:
    """These tests do not use the session database (the root conftest empties it)."""


@pytest.fixture(scope="module")
async def stack(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Stack]:
    """One stack per test module (its servers' logs under the module's name): the
    module's tests kill and restart its servers."""
    logs = tmp_path_factory.mktemp(request.module.__name__.rsplit(".", 1)[-1])
    async with fault_stack(logs) as running:
        yield running
