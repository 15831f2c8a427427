"""opportunityPublished over a real WebSocket: the tenant's investors see each deal as it
is published, in its current state; another tenant's subscribers see nothing of it."""

import asyncio
import contextlib

from gql import Client

from tests.support.opportunities import PUBLISH, PUBLISHED, create
from tests.support.ws import transport


async def consume(session, received: asyncio.Queue) -> None:
    async for result in session.subscribe(PUBLISHED):
        await received.put(result["opportunityPublished"])


async def test_published_deals_reach_the_tenant_only(api, world, base_url):
    manager = world("acme", "manager")
    acme: asyncio.Queue = asyncio.Queue()
    globex: asyncio.Queue = asyncio.Queue()
    async with (
        Client(transport=transport(base_url, world("acme", "investor").token)) as mine,
        Client(transport=transport(base_url, world("globex", "investor").token)) as theirs,
    ):
        tasks = [
            asyncio.create_task(consume(mine, acme)),
            asyncio.create_task(consume(theirs, globex)),
        ]
        try:
            published: list[str] = []
            first = None
            for n in range(50):  # until the subscription is live (SUBSCRIBE is asynchronous)
                deal = await create(api, manager, name=f"Deal {n}")
                (await api.gql(PUBLISH, {"id": deal["id"]}, token=manager.token)).ok()
                published.append(deal["id"])
                with contextlib.suppress(TimeoutError):
                    first = await asyncio.wait_for(acme.get(), 0.2)
                    break
            assert first is not None, "no opportunityPublished event arrived"
            assert first["id"] in published and first["status"] == "OPEN"
            await asyncio.sleep(0.3)
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
    assert globex.empty()
