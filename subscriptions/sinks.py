"""Per-subscriber buffers: lossless while the subscriber keeps up, bounded when it does not.

Every message is queued, in order, up to a bound in messages and in bytes. Past the bound
the subscriber is behind, and what happens depends on the stream:

- ``Overflow.CONFLATE`` (ticks, portfolio valuations: only the newest state matters) keeps
  the newest message per topic until the subscriber catches up; each message replaced
  there is counted in ``fidus_subscriber_conflated_total`` and the episode is logged
  once, so nothing is lost silently. Per topic, messages are still delivered in order.
- ``Overflow.CLOSE`` (messages, opportunities, pipeline: each event matters) ends the
  stream with ``SubscriberOverflow`` once the queued messages are delivered.

Either way a stalled subscriber holds at most the bound (plus one message per topic)."""

import asyncio
import enum
import logging
from collections import OrderedDict, deque
from dataclasses import dataclass

from prometheus_client import Counter

from models.errors import Conflict

log = logging.getLogger(__name__)
CONFLATED = Counter(
    "fidus_subscriber_conflated_total",
    "Messages skipped for subscribers past their buffer (a newer one of the topic replaced them)",
)
OVERFLOWS = Counter(
    "fidus_subscriber_overflows_total",
    "Times a subscriber fell past its buffer bound",
    ["action"],
)


class SubscriberOverflow(Conflict):
    """The subscriber fell too far behind; its subscription is closed."""


class Overflow(enum.Enum):
    CONFLATE = "conflate"
    CLOSE = "close"


@dataclass(frozen=True, slots=True)
class BufferLimits:
    """How much one subscriber may have queued before it counts as behind."""

    messages: int = 10_000
    bytes: int = 4 * 1024 * 1024  # counted as characters of the JSON text (ASCII: bytes)


class Gap(str):
    """Received by a listener opened with ``gaps=True`` when one of its topics was
    re-subscribed after a lost connection: messages published since about ``lost_at``
    (wall-clock seconds) may have been missed, and what follows is live again."""

    lost_at: float

    def __new__(cls, lost_at: float) -> "Gap":
        gap = super().__new__(cls, "")
        gap.lost_at = lost_at
        return gap


class Sink:
    """One subscriber's buffer, filled by the broker's pump and drained by its stream."""

    def __init__(self, limits: BufferLimits, overflow: Overflow, *, gaps: bool = False) -> None:
        """``gaps``: the consumer wants to know when its topics may have missed messages
        (see ``Broker.listen``)."""
        self._limits = limits
        self._overflow = overflow
        self.gaps = gaps
        self._queue: deque[tuple[str, str]] = deque()
        self._bytes = 0
        self._newest: OrderedDict[str, str] = OrderedDict()  # past the bound (CONFLATE)
        self._closed = False
        self._waiter: asyncio.Future[None] | None = None  # the reader, waiting for a put

    def put(self, topic: str, message: str) -> None:
        if self._closed:
            return
        if self._newest:  # still behind: keep only the newest per topic
            self._conflate(topic, message)
        elif (
            len(self._queue) >= self._limits.messages
            or self._bytes + len(message) > self._limits.bytes
        ):
            self._fell_behind(topic, message)
        else:
            self._queue.append((topic, message))
            self._bytes += len(message)
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def _fell_behind(self, topic: str, message: str) -> None:
        OVERFLOWS.labels(self._overflow.value).inc()
        if self._overflow is Overflow.CLOSE:
            self._closed = True
            log.warning(
                "subscriber fell behind; closing its stream",
                extra={"queued": len(self._queue), "queued_bytes": self._bytes},
            )
            return
        log.warning(
            "subscriber fell behind; conflating to the newest message per topic",
            extra={"queued": len(self._queue), "queued_bytes": self._bytes},
        )
        self._newest[topic] = message

    def _conflate(self, topic: str, message: str) -> None:
        if topic in self._newest:
            CONFLATED.inc()
        self._newest[topic] = message

    async def get(self) -> tuple[str, str]:
        while True:
            if self._queue:
                topic, message = self._queue.popleft()
                self._bytes -= len(message)
                return topic, message
            if self._newest:
                return self._newest.popitem(last=False)
            if self._closed:
                raise SubscriberOverflow(
                    f"Subscription closed: the client fell more than "
                    f"{self._limits.messages} messages behind"
                )
            self._waiter = asyncio.get_running_loop().create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None

    def __len__(self) -> int:
        return len(self._queue) + len(self._newest)
