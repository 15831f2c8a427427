"""A redis-server of the test's own, which it may stop and start again."""

from collections.abc import Iterator

import pytest

from tests.support.servers import RedisProcess


@pytest.fixture
def own_redis() -> Iterator[RedisProcess]:
    server = RedisProcess()
    server.start()
    yield server
    server.stop()
