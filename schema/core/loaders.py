"""DataLoaders, created once per request (or WebSocket connection) on first use."""

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar

from beanie import PydanticObjectId
from strawberry.dataloader import DataLoader

from models.crm import Activity, ProspectTask
from models.events import Event, Registration
from models.investments import Investment
from models.messaging import Message
from models.opportunities import Interest, Opportunity
from models.users import User
from resolvers.core import loaders as batch
from resolvers.portfolios import valuation
from resolvers.portfolios.valuation import ProfitShare
from schema.core.context import Info

V = TypeVar("V")


def _loader(
    tenant_id: PydanticObjectId,
    load: Callable[[PydanticObjectId, list[str]], Awaitable[Sequence[V]]],
) -> DataLoader[str, V]:
    async def load_batch(keys: list[str]) -> Sequence[V]:
        return await load(tenant_id, keys)

    return DataLoader(load_fn=load_batch)


class Loaders:
    def __init__(self, tenant_id: PydanticObjectId) -> None:
        self._tenant_id = tenant_id
        self._profit_share: asyncio.Future[ProfitShare] | None = None
        self.users: DataLoader[str, User | None] = _loader(tenant_id, batch.users)
        self.opportunities: DataLoader[str, Opportunity | None] = _loader(
            tenant_id, batch.opportunities
        )
        self.portfolio_investments: DataLoader[str, list[Investment]] = _loader(
            tenant_id, batch.investments_of_portfolios
        )
        self.opportunity_interests: DataLoader[str, list[Interest]] = _loader(
            tenant_id, batch.interests_of_opportunities
        )
        self.events: DataLoader[str, Event | None] = _loader(tenant_id, batch.events)
        self.event_registrations: DataLoader[str, Registration | None] = _loader(
            tenant_id, batch.event_registrations
        )
        self.messages: DataLoader[str, Message | None] = _loader(tenant_id, batch.messages)
        self.unread_counts: DataLoader[str, int] = _loader(tenant_id, batch.unread_counts)
        self.prospect_activities: DataLoader[str, list[Activity]] = _loader(
            tenant_id, batch.activities_of_prospects
        )
        self.prospect_tasks: DataLoader[str, list[ProspectTask]] = _loader(
            tenant_id, batch.tasks_of_prospects
        )

    async def profit_share(self) -> ProfitShare:
        """The UNLIMITED fund's figures, read once per request."""
        if self._profit_share is None:
            self._profit_share = asyncio.ensure_future(valuation.profit_share(self._tenant_id))
        return await self._profit_share


def loaders(info: Info) -> Loaders:
    context: Any = info.context
    principal = context.require_principal()
    if context.loaders is None:
        context.loaders = Loaders(principal.tenant_id)
    found: Loaders = context.loaders
    return found
