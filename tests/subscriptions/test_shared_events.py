"""A tick is rendered once per distinct selection and shared, yet every subscriber gets
exactly what its own selection (and the variables used in it) asks for."""

import asyncio
from typing import Any

from gql import Client, gql
from graphql import parse

from schema.core import shared_events
from schema.core.shared_events import selection_variables
from tests.support.mt5 import post, tick
from tests.support.ws import transport

PLAIN = "subscription($s: [String!]!) { ticks(symbols: $s) { symbol bid } }"
WIDER = "subscription($s: [String!]!) { ticks(symbols: $s) { symbol bid ask flags } }"
GATED = """subscription($s: [String!]!, $withAsk: Boolean!) {
  ticks(symbols: $s) { symbol bid ask @include(if: $withAsk) } }"""
ALIASED = "subscription($s: [String!]!) { t: ticks(symbols: $s) { price: bid symbol } }"


def test_only_variables_below_the_root_field_tell_renderings_apart() -> None:
    [operation] = parse(GATED).definitions
    assert selection_variables(operation) == ("withAsk",)  # type: ignore[arg-type]
    [operation] = parse(PLAIN).definitions
    assert selection_variables(operation) == ()  # type: ignore[arg-type]


async def test_each_subscriber_gets_its_own_selection_rendered_once(
    api, world, base_url, ingest_token, monkeypatch
):
    investor = world("acme", "investor")
    subscriptions = [
        (PLAIN, {"s": ["SHARE"]}),
        (PLAIN, {"s": ["SHARE", "OTHER"]}),  # the same rendering, other symbols
        (WIDER, {"s": ["SHARE"]}),
        (GATED, {"s": ["SHARE"], "withAsk": True}),
        (GATED, {"s": ["SHARE"], "withAsk": False}),
        (ALIASED, {"s": ["SHARE"]}),
    ]
    received: list[asyncio.Queue] = [asyncio.Queue() for _ in subscriptions]
    rendered: list[Any] = []  # each rendering stored for sharing: once per selection
    original = shared_events._remember_shared

    def counting(result):
        rendered.append(result.data)
        original(result)

    monkeypatch.setattr(shared_events, "_remember_shared", counting)

    async def consume(index: int, document: str, variables: Any) -> None:
        async with Client(transport=transport(base_url, investor.token)) as session:
            async for result in session.subscribe(gql(document), variable_values=variables):
                await received[index].put(result)

    tasks = [
        asyncio.create_task(consume(i, document, variables))
        for i, (document, variables) in enumerate(subscriptions)
    ]
    try:
        for _ in range(100):  # until every subscription is live
            await post(api, ingest_token, {"ticks": [tick("SHARE", bid=10.0, ask=10.5)]})
            await asyncio.sleep(0.1)
            if all(not queue.empty() for queue in received):
                break
        await asyncio.sleep(0.3)
        for queue in received:
            while not queue.empty():
                queue.get_nowait()
        await post(api, ingest_token, {"ticks": [tick("SHARE", bid=11.0, ask=11.5)]})
        results = [await asyncio.wait_for(queue.get(), 5) for queue in received]
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    assert results == [
        {"ticks": {"symbol": "SHARE", "bid": 11.0}},
        {"ticks": {"symbol": "SHARE", "bid": 11.0}},
        {"ticks": {"symbol": "SHARE", "bid": 11.0, "ask": 11.5, "flags": 6}},
        {"ticks": {"symbol": "SHARE", "bid": 11.0, "ask": 11.5}},
        {"ticks": {"symbol": "SHARE", "bid": 11.0}},
        {"t": {"price": 11.0, "symbol": "SHARE"}},
    ]
    of_second_tick = [
        data
        for data in rendered
        if next(iter(data.values()))["symbol"] == "SHARE"
        and 11.0 in next(iter(data.values())).values()
    ]
    assert len(of_second_tick) == 5  # six subscribers, five distinct renderings
