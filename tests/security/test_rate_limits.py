"""Sliding-window write limits through the real server and the real redis-server: per
user, per client address, and the sign-in family per address; RATE_LIMITED carries
retryAfter; queries are not limited; windows slide. Each mutation field counts (aliases
and fragments included), and an operation runs whole or not at all."""

import asyncio
import uuid
from ipaddress import ip_network

import pytest

from subscriptions.rate_limits import RateLimiter
from tests.support.api import LOGIN

PROFILE = 'mutation { updateProfile(input: {fullName: "Rate Tester"}) { id } }'


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


def renames(*names: str) -> str:
    """One operation with an aliased updateProfile per name."""
    fields = " ".join(
        f'r{i}: updateProfile(input: {{fullName: "{name}"}}) {{ id }}'
        for i, name in enumerate(names)
    )
    return f"mutation {{ {fields} }}"


async def full_name(api, member) -> str:
    name: str = (await api.gql("{ me { fullName } }", token=member.token)).ok()["me"]["fullName"]
    return name


async def test_each_aliased_mutation_counts_and_an_operation_runs_whole_or_not_at_all(
    api, world, tight
):
    tight(per_user=5, per_address=1000, auth_per_address=1000)
    investor = world("acme", "investor")
    assert (await api.gql(renames("A", "B", "C"), token=investor.token)).ok()
    refused = await api.gql(renames("D", "E", "F"), token=investor.token)  # 3 + 3 > 5
    assert refused.code == "RATE_LIMITED" and refused.data is None
    assert 1 <= refused.errors[0]["extensions"]["retryAfter"] <= 60
    assert await full_name(api, investor) == "C"  # none of D, E, F ran
    # the refused operation was not counted: two more fit in the budget of five
    assert (await api.gql(renames("G", "H"), token=investor.token)).ok()
    assert (await api.gql(renames("I"), token=investor.token)).code == "RATE_LIMITED"


async def test_an_operation_above_a_whole_budget_is_refused_unrun(api, world, tight):
    tight(per_user=5, per_address=1000, auth_per_address=1000)
    investor = world("acme", "investor")
    refused = await api.gql(renames(*"ABCDEF"), token=investor.token)
    assert refused.code == "BAD_USER_INPUT" and refused.data is None
    assert "6 mutations, more than the 5 allowed per minute" in refused.errors[0]["message"]
    assert await full_name(api, investor) == "Investor Acme"
    assert (await api.gql(renames(*"ABCDE"), token=investor.token)).ok()  # nothing was spent


async def test_sign_ins_in_fragments_and_aliases_count_each(api, world, tight):
    tight(per_user=1000, per_address=1000, auth_per_address=3)
    admin = world("acme", "admin")
    guess = "{ accessToken }"
    attempts = (
        "mutation { ... on Mutation { "
        + " ".join(
            f'g{i}: login(tenant: "acme", email: "{admin.email}", password: "wrong{i}") {guess}'
            for i in range(2)
        )
        + " } ...Third }\n"
        f'fragment Third on Mutation {{ login(tenant: "acme", email: "{admin.email}",'
        f' password: "wrong") {guess} }}'
    )
    guessed = await api.gql(attempts)
    assert guessed.code == "UNAUTHENTICATED"  # three wrong passwords tried: the budget
    right = await api.gql(
        LOGIN, {"tenant": "acme", "email": admin.email, "password": admin.password}
    )
    assert right.code == "RATE_LIMITED"


async def test_a_refusal_by_one_limit_does_not_spend_the_others(api, world, tight):
    tight(per_user=2, per_address=4, auth_per_address=1000)
    investor, other = world("acme", "investor"), world("acme", "investor2")
    assert (await api.gql(renames("A", "B"), token=investor.token)).ok()
    assert (await api.gql(renames("C"), token=investor.token)).code == "RATE_LIMITED"
    # the address has spent 2 of 4, not 3: another user's two still fit
    assert (await api.gql(renames("X", "Y"), token=other.token)).ok()


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
    assert 0 < await limiter.hit("k", 2, 0.3, weight=2) <= 0.3  # one of two left: no room
    assert await limiter.hit("k", 2, 0.3, member="m") == 0.0  # the second fits
    await limiter.release("k", "m", 1)
    assert await limiter.hit("k", 2, 0.3) == 0.0  # the released one is free again
    with pytest.raises(ValueError, match="weight 3"):
        await limiter.hit("k", 2, 0.3, weight=3)
