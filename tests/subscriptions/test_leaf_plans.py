"""A subscription over plain leaf fields renders a shared event without the executor, and
renders it exactly as the executor does; anything else is left to the executor."""

from datetime import UTC, datetime
from typing import Any

import pytest
from graphql import parse

from schema import build_schema
from schema.core.shared_events import SharingExecutionContext
from schema.mt5.ticks import Tick

PLANNED = [
    ('subscription { ticks(symbols: ["A"]) { symbol bid ask time flags } }', {}),
    ('subscription { t: ticks(symbols: ["A"]) { price: bid s: symbol __typename } }', {}),
    ('subscription { ticks(symbols: ["A"]) { symbol last volume } }', {}),
    (
        'subscription($w: Boolean!) { ticks(symbols: ["A"]) { bid ask @include(if: $w)'
        " flags @skip(if: $w) } }",
        {"w": True},
    ),
    (
        'subscription($w: Boolean!) { ticks(symbols: ["A"]) { bid ask @include(if: $w)'
        " flags @skip(if: $w) } }",
        {"w": False},
    ),
]
EXECUTED = [
    'subscription { ticks(symbols: ["A"]) { ...F } } fragment F on Tick { bid }',
    'subscription { ticks(symbols: ["A"]) { ... on Tick { bid } } }',
    'subscription { ticks(symbols: ["A"]) { bid bid } }',
]


def tick(last: float | None = None) -> Tick:
    return Tick(
        symbol="XAUUSD.m",
        time=datetime(2026, 12, 3, 9, 30, 1, 245_000, tzinfo=UTC),
        bid=2001.1,
        ask=2001.4,
        last=last,
        volume=0.0,
        flags=6,
    )


def executor(document: str, variables: dict[str, Any]) -> SharingExecutionContext:
    schema = build_schema()._schema
    built = SharingExecutionContext.build(schema, parse(document), raw_variable_values=variables)
    assert isinstance(built, SharingExecutionContext), built
    return built


@pytest.mark.parametrize(("document", "variables"), PLANNED)
@pytest.mark.parametrize("last", [None, 2001.2])
async def test_a_leaf_plan_renders_as_the_executor_does(document, variables, last) -> None:
    subscription = executor(document, variables)
    expected = subscription.build_per_event_executor(tick(last)).execute_operation(False)
    rendered = await subscription.render(tick(last))  # another event object: not cached
    assert subscription.__dict__["_fidus_plan"] is not None
    assert rendered.errors is None
    assert rendered.data is not None and expected.data is not None
    assert rendered.data == expected.data
    assert list(rendered.data) == list(expected.data)  # the same key order, too
    inner = next(iter(rendered.data.values()))
    assert list(inner) == list(next(iter(expected.data.values())))


@pytest.mark.parametrize("document", EXECUTED)
async def test_other_selections_are_left_to_the_executor(document) -> None:
    subscription = executor(document, {})
    rendered = await subscription.render(tick())
    assert subscription.__dict__["_fidus_plan"] is None
    assert rendered.data == {"ticks": {"bid": 2001.1}}


async def test_a_null_in_a_non_null_field_goes_to_the_executor_for_its_error() -> None:
    subscription = executor('subscription { ticks(symbols: ["A"]) { symbol bid } }', {})
    broken = tick()
    broken.bid = None  # type: ignore[assignment]
    rendered = await subscription.render(broken)
    assert rendered.errors and rendered.data is None


async def test_a_value_its_scalar_cannot_serialize_goes_to_the_executor() -> None:
    """MT5 flags are unsigned 32-bit; GraphQL's Int is signed: the executor's error, not
    an exception out of the plan."""
    subscription = executor('subscription { ticks(symbols: ["A"]) { symbol flags } }', {})
    wide = tick()
    wide.flags = 2**31
    rendered = await subscription.render(wide)
    assert subscription.__dict__["_fidus_plan"] is not None
    assert rendered.errors and rendered.data is None
