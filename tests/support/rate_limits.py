"""``tight``: small write limits for one test (a plugin of the root conftest)."""

from collections.abc import Callable

import pytest
from redis import asyncio as aioredis

from resolvers.core.context import WriteLimits


@pytest.fixture
async def tight(runtime, monkeypatch, redis_url, settings) -> Callable[..., None]:
    """Small limits for this test, starting from empty windows (the fixtures' own sign-ins
    and earlier tests' writes are forgotten)."""
    client = aioredis.from_url(redis_url)
    keys = [key async for key in client.scan_iter(f"{settings.db_name}:rate:*")]
    if keys:
        await client.delete(*keys)
    await client.aclose()

    def set_limits(**limits: int) -> None:
        monkeypatch.setattr(runtime.services, "write_limits", WriteLimits(**limits))

    return set_limits
