"""The cost estimate cannot be dodged through fragments: nested past the fragment-depth
cap (inline, spread, or both) the operation is refused, never run uncounted; fragments
reused widely are measured once each, so the limits themselves stay cheap."""

from schema.core.cost import MAX_FRAGMENT_DEPTH

EXPENSIVE_BODY = """opportunities(first: 100) { edges { node {
  interests { investor { id email fullName } opportunity { interests { id } } } } } }"""
UNESTIMABLE = "Query cost cannot be estimated"


def inline(levels: int, body: str) -> str:
    return "... on Query { " * levels + body + " }" * levels


def chained(levels: int, body: str) -> str:
    """``levels`` named fragments, each spreading the next; the last holds ``body``."""
    fragments = [f"fragment F{i} on Query {{ ...F{i + 1} }}" for i in range(1, levels)]
    fragments.append(f"fragment F{levels} on Query {{ {body} }}")
    return "{ ...F1 }\n" + "\n".join(fragments)


def assert_unestimable(result) -> None:
    assert result.data is None
    assert result.code == "BAD_USER_INPUT"
    assert result.errors[0]["message"].startswith(UNESTIMABLE)
    assert result.errors[0]["extensions"]["maxFragmentDepth"] == MAX_FRAGMENT_DEPTH


async def test_nested_inline_fragments_cannot_hide_the_cost(api, world):
    token = world("acme", "investor").token
    counted = await api.gql("{ " + inline(MAX_FRAGMENT_DEPTH, EXPENSIVE_BODY) + " }", token=token)
    assert counted.errors[0]["extensions"]["cost"] > 10_000  # at the cap: still counted
    hidden = await api.gql(
        "{ " + inline(MAX_FRAGMENT_DEPTH + 1, EXPENSIVE_BODY) + " }", token=token
    )
    assert_unestimable(hidden)


async def test_chained_fragment_spreads_cannot_hide_the_cost(api, world):
    token = world("acme", "investor").token
    assert_unestimable(await api.gql(chained(MAX_FRAGMENT_DEPTH + 2, EXPENSIVE_BODY), token=token))
    cheap = await api.gql(chained(MAX_FRAGMENT_DEPTH, "__typename"), token=token)
    assert cheap.ok() == {"__typename": "Query"}


async def test_spreads_and_inline_fragments_together_cannot_hide_the_cost(api, world):
    half = MAX_FRAGMENT_DEPTH // 2 + 1
    query = chained(half, inline(half, EXPENSIVE_BODY))
    assert_unestimable(await api.gql(query, token=world("acme", "investor").token))


async def test_a_fragment_reused_deeper_than_first_met_is_measured_there(api, world):
    """The per-fragment memo must not let a deep reuse through on a shallow estimate."""
    query = (
        "{ ...Deep " + inline(MAX_FRAGMENT_DEPTH - 3, "...Deep") + " }\n"
        "fragment Deep on Query { " + inline(3, "__typename") + " }"
    )
    assert_unestimable(await api.gql(query, token=world("acme", "investor").token))


async def test_an_unestimable_mutation_is_not_executed(api, world):
    investor = world("acme", "investor")
    mutation = "mutation { " + inline(MAX_FRAGMENT_DEPTH + 1, "") + " }"
    mutation = mutation.replace("... on Query", "... on Mutation").replace(
        "{  }", '{ updateProfile(input: {fullName: "Renamed"}) { fullName } }'
    )
    assert_unestimable(await api.gql(mutation, token=investor.token))
    me = (await api.gql("{ me { fullName } }", token=investor.token)).ok()["me"]
    assert me["fullName"] == "Investor Acme"


def wide(levels: int, fan_out: int, extra: str = "") -> str:
    """Fragment Wi holds ``extra`` and spreads W(i+1) ``fan_out`` times."""
    fragments = [
        f"fragment W{i} on Query {{ {extra} " + " ".join([f"...W{i + 1}"] * fan_out) + " }"
        for i in range(levels)
    ]
    fragments.append(f"fragment W{levels} on Query {{ __typename }}")
    return "{ ...W0 }\n" + "\n".join(fragments)


async def test_widely_reused_fragments_are_measured_once_each(api, world):
    """5**18 spreads in all: measured (depth, aliases, cost) by walking 19 fragments, not
    by expanding every spread; the cost counts each spread as if it ran."""
    token = world("acme", "investor").token
    levels, fan_out = MAX_FRAGMENT_DEPTH - 2, 5
    refused = await api.gql(wide(levels, fan_out), token=token)
    assert refused.data is None
    assert refused.errors[0]["extensions"]["cost"] == fan_out**levels
    aliased = await api.gql(wide(levels, fan_out, "a: __typename"), token=token)
    assert aliased.code == "BAD_USER_INPUT"
    assert aliased.errors[0]["message"].startswith(
        f"{sum(fan_out**i for i in range(levels))} aliases"
    )


async def test_the_depth_limit_counts_through_fragments(api, world, settings):
    """Each fragment adds two levels (interests → opportunity) below edges → node."""
    levels = (settings.max_query_depth - 3) // 2 + 1
    fragments = [
        f"fragment L{i} on Opportunity {{ interests {{ opportunity {{ ...L{i + 1} }} }} }}"
        for i in range(levels)
    ]
    fragments.append(f"fragment L{levels} on Opportunity {{ id }}")
    query = "{ opportunities { edges { node { ...L0 } } } }\n" + "\n".join(fragments)
    refused = await api.gql(query, token=world("acme", "analyst").token)
    assert refused.code == "BAD_USER_INPUT"
    assert "exceeds maximum operation depth" in refused.errors[0]["message"]
