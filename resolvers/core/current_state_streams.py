"""Streams whose events name a document that subscribers get in its current state
(``opportunityPublished``, ``pipelineChanged``), and how they catch up after a gap.

A gap (this process's Redis connection was lost; see Broker.listen) may have swallowed
events. Every such event is audited before it is published, so the audit trail of the
tenant, from ``GAP_MARGIN`` before the connection was found lost (clock skew between
processes, a connection found dead late), names the documents to deliver again: each in
its current state, oldest event first, unless this subscription delivered that very state
already (per document a version: its stage count, say). Their live copies, should they
still come, are skipped the same way."""

from collections import OrderedDict
from collections.abc import AsyncIterator, Callable, Hashable
from datetime import UTC, datetime, timedelta
from typing import Generic, TypeVar

from beanie import PydanticObjectId
from bson import ObjectId

from models.audit import AuditEntry
from models.base import TenantDocument
from subscriptions.payloads import DocumentRef
from subscriptions.sinks import Gap

D = TypeVar("D", bound=TenantDocument)
GAP_MARGIN = timedelta(seconds=30)
RECENT = 1000  # states remembered as delivered, per subscription
REREAD_LIMIT = 1000  # documents re-read after one gap, at most


class DocumentEvents(Generic[D]):
    """One subscription's documents. ``actions``: the audit actions of the events on its
    topic; ``version``: what tells two states of a document apart for the subscriber;
    ``visible``: whether a document is shown at all."""

    def __init__(
        self,
        model: type[D],
        tenant_id: PydanticObjectId,
        actions: tuple[str, ...],
        *,
        version: Callable[[D], Hashable] = lambda _document: None,
        visible: Callable[[D], bool] = lambda _document: True,
    ) -> None:
        self._model = model
        self._tenant_id = tenant_id
        self._actions = actions
        self._version = version
        self._visible = visible
        self._delivered: OrderedDict[tuple[str, Hashable], None] = OrderedDict()
        self._reread: OrderedDict[tuple[str, Hashable], None] = OrderedDict()

    async def stream(self, events: AsyncIterator[DocumentRef | Gap]) -> AsyncIterator[D]:
        async for event in events:
            if isinstance(event, Gap):
                for document in await self._since(event.lost_at):
                    if self._deliver(document, reread=True):
                        yield document
                continue
            found = await self._model.find_one(
                {"tenant_id": self._tenant_id, "_id": ObjectId(event.id)}
            )
            if found is not None and self._deliver(found, reread=False):
                yield found

    def _deliver(self, document: D, *, reread: bool) -> bool:
        """Whether to deliver this state (and remember it)."""
        if not self._visible(document):
            return False
        key = (str(document.id), self._version(document))
        if reread:
            if key in self._delivered:
                return False
            _remember(self._reread, key)
        elif key in self._reread:  # the live copy of an event the re-read delivered
            del self._reread[key]
            return False
        _remember(self._delivered, key)
        return True

    async def _since(self, lost_at: float) -> list[D]:
        """The documents named by events audited since shortly before ``lost_at``, in the
        order of their first such event: two queries."""
        since = datetime.fromtimestamp(lost_at, UTC) - GAP_MARGIN
        audited = (
            AuditEntry.get_pymongo_collection()
            .find(
                {
                    "tenant_id": self._tenant_id,
                    "action": {"$in": list(self._actions)},
                    "_id": {"$gte": ObjectId.from_datetime(since)},
                },
                projection={"target_id": 1},
            )
            .sort("_id", 1)
        )
        targets: dict[ObjectId, None] = {}
        async for entry in audited:
            if entry.get("target_id") is not None:
                targets.setdefault(entry["target_id"], None)
            if len(targets) >= REREAD_LIMIT:
                break
        found = await self._model.find(
            {"tenant_id": self._tenant_id, "_id": {"$in": list(targets)}}
        ).to_list()
        by_id = {str(document.id): document for document in found}
        return [by_id[str(target)] for target in targets if str(target) in by_id]


def _remember(keys: OrderedDict[tuple[str, Hashable], None], key: tuple[str, Hashable]) -> None:
    keys[key] = None
    keys.move_to_end(key)
    if len(keys) > RECENT:
        keys.popitem(last=False)
