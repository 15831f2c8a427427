"""Sliding-window write limits through the real server and the real redis-server: per
user, per client address, and the sign-in family per address; RATE_LIMITED carries
retryAfter; queries are not limited; windows slide."""

import asyncio
import uuid
from ipaddress import ip_network

import pytest
from redis import asyncio as aioredis

from resolvers.context import WriteLimits
from subscriptions.rate_limits import RateLimiter
from tests.support.api import LOGIN

PROFILE = 'mutation { updateProfile(input: {fullName: "Rate Tester"}) { id } }'


@pytest.fixture
async def tight(runtime, monkeypatch, redis_url, settings):
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


async def test_mutations_per_user_are_limited_and_queries_are_not(api, world, tight):
    tight(per_user=5, per_address=1000, auth_per_address=1000)
    investor, other = world("acme", "investor"), world("acme", "investor2")
    results = await asyncio.gather(*(api.gql(PROFILE, token=investor.token) for _ in range(8)))
    codes = [r.code for r in results]
    assert codes.count(None) == 5 and codes.count("RATE_LIMITED") == 3
    limited = next(r for r in results if r.code == "RATE_LIMITED")
    assert 1 <= limited.errors[0]["extensions"]["retryAfter"] <= 60
    assert (await api.gql(PROFILE, token=other.token)).ok()  # another user has their own
    assert (await api.gql("{ me { id } }", token=investor.token)).ok()  # reads are free


async def test_sign_ins_per_address_are_limited(api, world, tight):
    tight(per_user=1000, per_address=1000, auth_per_address=3)
    admin = world("acme", "admin")
    attempts = [
        await api.gql(LOGIN, {"tenant": "acme", "email": admin.email, "password": "wrong"})
        for _ in range(5)
    ]
    assert [a.code for a in attempts][-2:] == ["RATE_LIMITED", "RATE_LIMITED"]
    # the limit is on the address, before any password check: a right password waits too
    right = await api.gql(
        LOGIN, {"tenant": "acme", "email": admin.email, "password": admin.password}
    )
    assert right.code == "RATE_LIMITED"


async def test_every_mutation_counts_against_the_address(api, world, tight):
    tight(per_user=1000, per_address=4, auth_per_address=1000)
    users = [world("acme", r) for r in ("investor", "investor2", "manager", "admin", "analyst")]
    results = [await api.gql(PROFILE, token=u.token) for u in users]
    assert [r.code for r in results] == [None] * 4 + ["RATE_LIMITED"]


async def test_a_spoofed_forwarded_for_does_not_escape_the_address_limit(api, world, tight):
    """No trusted proxies (the default): X-Forwarded-For is the client's to invent, so
    every request still counts against the TCP peer."""
    tight(per_user=1000, per_address=3, auth_per_address=1000)
    users = [world("acme", r) for r in ("investor", "investor2", "manager", "admin")]
    results = [
        await api.gql(PROFILE, token=u.token, headers={"x-forwarded-for": f"198.51.100.{n}"})
        for n, u in enumerate(users)
    ]
    assert [r.code for r in results] == [None] * 3 + ["RATE_LIMITED"]


async def test_behind_a_trusted_proxy_each_forwarded_client_has_its_own_limit(
    api, world, tight, runtime, monkeypatch
):
    monkeypatch.setattr(runtime.settings, "trusted_proxies", [ip_network("127.0.0.1/32")])
    tight(per_user=1000, per_address=2, auth_per_address=1000)
    users = [world("acme", r) for r in ("investor", "investor2", "manager", "admin")]

    async def write(user, forwarded_for: str) -> str | None:
        headers = {"x-forwarded-for": forwarded_for}
        return (await api.gql(PROFILE, token=user.token, headers=headers)).code

    assert [await write(u, "198.51.100.1") for u in users[:2]] == [None, None]
    # the same client, whatever it puts left of the proxy's entry
    assert await write(users[2], "6.6.6.6, 198.51.100.1") == "RATE_LIMITED"
    assert await write(users[3], "198.51.100.2") is None  # another client


async def test_the_window_slides(runtime):
    limiter: RateLimiter = runtime.services.broker.rate_limits
    key = f"slide-{uuid.uuid4().hex}"
    assert [await limiter.hit(key, 2, 0.5) for _ in range(3)][:2] == [0.0, 0.0]
    assert 0 < await limiter.hit(key, 2, 0.5) <= 0.5
    await asyncio.sleep(0.55)
    assert await limiter.hit(key, 2, 0.5) == 0.0


async def test_the_memory_limiter_behaves_the_same():
    limiter = RateLimiter(None)
    assert [await limiter.hit("k", 2, 0.3) for _ in range(2)] == [0.0, 0.0]
    assert 0 < await limiter.hit("k", 2, 0.3) <= 0.3
    await asyncio.sleep(0.35)
    assert await limiter.hit("k", 2, 0.3) == 0.0
