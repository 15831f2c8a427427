"""pipelineChanged over a real WebSocket: creation and every stage change reach the
tenant's staff and analysts (only their tenant's prospects); investors are refused."""

import asyncio
import contextlib

import pytest
from gql import Client, gql
from gql.transport.exceptions import TransportQueryError

from tests.crm.support import CHANGES, LOG, MOVE, create_prospect
from tests.support.ws import streaming, transport


def listening(base_url: str, token: str):
    """A live subscription; yields the queue its events arrive on."""
    return streaming(base_url, token, CHANGES)


async def first_event(api, member, received: asyncio.Queue, tenant_ids: set[str]) -> dict:
    """Create prospects until one is announced (Redis SUBSCRIBE completes asynchronously)."""
    for n in range(50):
        created = await create_prospect(api, member, f"Warm Up {n}")
        tenant_ids.add(created["id"])
        with contextlib.suppress(TimeoutError):
            return await asyncio.wait_for(received.get(), 0.2)
    raise AssertionError("no pipelineChanged event arrived")


async def test_creation_and_moves_are_announced(api, world, base_url) -> None:
    manager = world("acme", "manager")
    acme_ids: set[str] = set()
    async with (
        listening(base_url, world("acme", "analyst").token) as analyst_events,
        listening(base_url, world("globex", "admin").token) as globex_events,
    ):
        first = await first_event(api, manager, analyst_events, acme_ids)
        assert first["id"] in acme_ids and first["stage"] == "LEAD"
        assert first["owner"]["email"] == manager.email
        prospect = await create_prospect(api, manager, "Alan Turing")
        for stage in ("QUALIFIED", "LOST", "LEAD"):
            await api.gql(MOVE, {"id": prospect["id"], "s": stage}, token=manager.token)
        seen: list[str] = []
        while len(seen) < 4:
            event = await asyncio.wait_for(analyst_events.get(), 5)
            if event["id"] == prospect["id"]:
                seen.append(event["stage"])
        assert seen == ["LEAD", "QUALIFIED", "LOST", "LEAD"]
        globex_ids: set[str] = set()
        received = [await first_event(api, world("globex", "manager"), globex_events, globex_ids)]
        while not globex_events.empty():
            received.append(globex_events.get_nowait())
    # the globex subscriber got its own tenant's prospects, none of acme's
    assert {event["id"] for event in received} <= globex_ids
    assert not {event["id"] for event in received} & (acme_ids | {prospect["id"]})


async def test_refused_moves_announce_nothing(api, world, base_url) -> None:
    manager = world("acme", "manager")
    async with listening(base_url, manager.token) as events:
        await first_event(api, manager, events, set())
        prospect = await create_prospect(api, manager, "Barbara Liskov")
        assert (await asyncio.wait_for(events.get(), 5))["id"] == prospect["id"]
        refused = await api.gql(MOVE, {"id": prospect["id"], "s": "WON"}, token=manager.token)
        assert refused.code == "CONFLICT"
        await api.gql(MOVE, {"id": prospect["id"], "s": "QUALIFIED"}, token=manager.token)
        assert (await asyncio.wait_for(events.get(), 5))["stage"] == "QUALIFIED"


NESTED = gql("subscription { pipelineChanged { id stage activities { text } } }")


async def test_nested_lists_are_fresh_for_every_event(api, world, base_url) -> None:
    manager = world("acme", "manager")
    received: asyncio.Queue = asyncio.Queue()
    async with Client(transport=transport(base_url, manager.token)) as session:

        async def consume() -> None:
            async for result in session.subscribe(NESTED):
                await received.put(result["pipelineChanged"])

        task = asyncio.create_task(consume())
        try:
            await first_event(api, manager, received, set())
            prospect = await create_prospect(api, manager, "Edsger Dijkstra")
            created = await asyncio.wait_for(received.get(), 5)
            assert (created["id"], created["activities"]) == (prospect["id"], [])
            await api.gql(
                LOG,
                {"i": {"prospectId": prospect["id"], "kind": "CALL", "text": "First call"}},
                token=manager.token,
            )
            await api.gql(MOVE, {"id": prospect["id"], "s": "QUALIFIED"}, token=manager.token)
            moved = await asyncio.wait_for(received.get(), 5)
            assert moved["activities"] == [{"text": "First call"}]
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


async def test_an_investor_is_refused_at_subscribe_time(base_url, world) -> None:
    async with Client(transport=transport(base_url, world("acme", "investor").token)) as session:
        with pytest.raises(TransportQueryError) as refused:
            async for _ in session.subscribe(CHANGES):
                raise AssertionError("streamed to an investor")
    assert refused.value.errors[0]["extensions"]["code"] == "FORBIDDEN"
