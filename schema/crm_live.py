"""CRM subscription: ``pipelineChanged`` for the tenant's staff and analysts."""

from collections.abc import AsyncGenerator

import strawberry

from resolvers import crm_live as use_cases
from schema.context import Info
from schema.crm import Prospect
from schema.permissions import CanReadTenant
from schema.streams import guarded


@strawberry.type
class CrmSubscriptions:
    @strawberry.subscription(
        permission_classes=[CanReadTenant],
        description="A prospect was created or changed stage (its current state)",
    )
    async def pipeline_changed(self, info: Info) -> AsyncGenerator[Prospect, None]:
        stream = await use_cases.pipeline_changes(info.context)
        async for prospect in guarded(info.context, stream):  # fresh DataLoaders per event
            yield Prospect.from_model(prospect)
