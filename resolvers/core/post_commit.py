"""Steps that follow a committed write — publishing the change, marking a portfolio for
revaluation, queueing webhook deliveries — never turn the caller's answer into an error:
the write has happened, and a client told otherwise may believe it did not.

``after_commit`` runs the step at once (so it has usually happened by the time the caller
answers). If it fails it is counted (``fidus_post_commit_failures_total{step}``) and
logged — an outage as a warning without a traceback — and, when an outage was the cause,
tried again in the background with backoff for up to RETRY_FOR_SECONDS. Any other failure
is a defect that trying again will not cure: it is logged with its traceback and left."""

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from functools import partial

from bson import ObjectId
from prometheus_client import Counter

from resolvers.core.background import Background
from resolvers.core.context import Services
from resolvers.core.outages import unavailable_component
from subscriptions.portfolios import mark_portfolio

log = logging.getLogger(__name__)
FAILURES = Counter(
    "fidus_post_commit_failures_total",
    "Failed attempts at a step after a committed write (publish, mark, webhook queue)",
    ["step"],
)
ABANDONED = Counter(
    "fidus_post_commit_abandoned_total",
    "Steps after a committed write given up (a defect, or an outage outlasting the retries)",
    ["step"],
)
FIRST_RETRY_SECONDS = 0.25
MAX_RETRY_SECONDS = 5.0
RETRY_FOR_SECONDS = 300.0

Step = Callable[[], Awaitable[object]]


async def after_commit(background: Background, step: str, work: Step) -> bool:
    """Run ``work`` (a step named ``step``) now; True when it succeeded now. ``work`` is
    called again for each retry, so it must be safe to repeat."""
    try:
        await work()
        return True
    except Exception as exc:
        if _failed(step, exc):
            background.start(_retry(step, work), f"{step} retry")
        return False


async def revalue_after_commit(
    services: Services, tenant_id: str | ObjectId, portfolio_id: str | ObjectId, reason: str
) -> None:
    """A committed change to a portfolio: mark it for the valuation worker."""
    work = partial(mark_portfolio, services.broker, tenant_id, portfolio_id, reason)
    await after_commit(services.background, "portfolio-mark", work)


async def _retry(step: str, work: Step) -> None:
    delay = FIRST_RETRY_SECONDS
    give_up_at = time.monotonic() + RETRY_FOR_SECONDS
    while time.monotonic() + delay <= give_up_at:
        await asyncio.sleep(delay)
        try:
            await work()
        except Exception as exc:
            if not _failed(step, exc):
                return
            delay = min(delay * 2, MAX_RETRY_SECONDS)
            continue
        log.info("%s done after the commit, on a retry", step)
        return
    ABANDONED.labels(step).inc()
    log.error("%s given up: the outage outlasted %d s of retries", step, RETRY_FOR_SECONDS)


def _failed(step: str, error: Exception) -> bool:
    """Count and log a failed attempt; True when an outage caused it (worth retrying)."""
    FAILURES.labels(step).inc()
    component = unavailable_component(error)
    if component is None:
        ABANDONED.labels(step).inc()
        log.error("%s failed after the commit", step, exc_info=error)
        return False
    log.warning("%s failed after the commit: %s unavailable; retrying", step, component)
    return True
