"""The stream behind ``pipelineChanged``: the tenant's prospects as they are created or move.
Only ADMIN/MANAGER/ANALYST of the tenant may subscribe; checked before streaming."""

from collections.abc import AsyncGenerator, AsyncIterator

import orjson
from bson import ObjectId

from models.crm import Prospect
from models.users import TENANT_READERS
from resolvers.context import RequestContext
from resolvers.topics import pipeline_topic


async def pipeline_changes(ctx: RequestContext) -> AsyncIterator[Prospect]:
    principal = ctx.require_role(*TENANT_READERS)
    topic = pipeline_topic(str(principal.tenant_id))

    async def stream() -> AsyncGenerator[Prospect, None]:
        async for _topic, message in ctx.services.broker.listen([topic], limit=1000):
            found = await Prospect.find_one(
                {"tenant_id": principal.tenant_id, "_id": ObjectId(orjson.loads(message)["id"])}
            )
            if found is not None:
                yield found

    return stream()
