"""MT5 account snapshots (POST /mt5/accounts): accounts upserted by (tenant, login, server),
deals upserted by ticket (re-sends are harmless), and the ADMIN mapping of an account to a
fund (with its initial allocation) and optionally a portfolio."""

import logging
import time
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from beanie import PydanticObjectId
from beanie.odm.utils.encoder import Encoder
from bson.decimal128 import Decimal128
from pymongo import ReturnDocument
from pymongo.errors import DuplicateKeyError

from models.errors import BadUserInput, NotFound
from models.money import MAX_AMOUNT, amount_problem
from models.mt5 import Mt5Account, Mt5Deal
from models.permissions import Can
from resolvers.audit import trail as audit
from resolvers.core.context import RequestContext, Services
from resolvers.core.post_commit import revalue_after_commit
from resolvers.core.writes import set_fields
from resolvers.funds.products import get_fund
from resolvers.identity.service_tokens import ServiceCaller
from resolvers.mt5.ingest import Rejection
from resolvers.mt5.snapshots import parse_account, parse_items
from resolvers.portfolios.ledger import get_portfolio

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SnapshotResult:
    account_id: str
    deals_new: int
    deals_known: int
    positions_accepted: int
    rejected_positions: list[Rejection]
    rejected_deals: list[Rejection]


async def ingest_snapshot(services: Services, caller: ServiceCaller, body: Any) -> SnapshotResult:
    """A malformed account is rejected whole with the reason; positions and deals are
    validated one by one (resolvers.mt5.snapshots) and only the valid ones are stored."""
    now_ms = int(time.time() * 1000)
    account_fields = parse_account(body, now_ms)
    items = parse_items(body, now_ms)
    key = {
        "tenant_id": caller.tenant_id,
        "login": account_fields.pop("login"),
        "server": account_fields.pop("server"),
    }
    snapshot = Encoder().encode({**account_fields, "positions": items.positions})
    collection = Mt5Account.get_pymongo_collection()
    # a snapshot older than the stored one does not overwrite it
    await collection.update_one(
        {**key, "time_msc": {"$lt": snapshot["time_msc"]}}, {"$set": snapshot}
    )
    account = None
    try:
        account = await collection.find_one_and_update(
            key, {"$setOnInsert": snapshot}, upsert=True, return_document=ReturnDocument.AFTER
        )
    except DuplicateKeyError:  # a concurrent first snapshot of the same account
        account = await collection.find_one(key)
    assert account is not None
    new = 0
    for deal in items.deals:
        result = await Mt5Deal.get_pymongo_collection().update_one(
            {"tenant_id": caller.tenant_id, "account_id": account["_id"], "ticket": deal["ticket"]},
            {"$setOnInsert": Encoder().encode(deal)},
            upsert=True,
        )
        new += 1 if result.upserted_id is not None else 0
    if account.get("portfolio_id") is not None:
        await revalue_after_commit(
            services, caller.tenant_id, account["portfolio_id"], "MT5_SNAPSHOT"
        )
    return SnapshotResult(
        account_id=str(account["_id"]),
        deals_new=new,
        deals_known=len(items.deals) - new,
        positions_accepted=len(items.positions),
        rejected_positions=items.rejected_positions,
        rejected_deals=items.rejected_deals,
    )


async def map_account(
    ctx: RequestContext,
    login: int,
    server: str,
    fund_code: str,
    initial_allocation: Decimal,
    raw_portfolio_id: str | None,
) -> Mt5Account:
    principal = ctx.require(Can.MAP_MT5_ACCOUNTS)
    account = await Mt5Account.find_one(
        {"tenant_id": principal.tenant_id, "login": login, "server": server.strip()}
    )
    if account is None:
        raise NotFound("No snapshot of that MT5 account has been received")
    fund = await get_fund(principal.tenant_id, fund_code)
    problem = amount_problem(initial_allocation)
    if problem is not None:
        raise BadUserInput(
            problem.replace("Amount", "Initial allocation"), field="initialAllocation"
        )
    mapping: dict[str, object] = {
        "fund_code": fund.code,
        "initial_allocation": initial_allocation,
    }
    if raw_portfolio_id is not None:
        portfolio = await get_portfolio(ctx, raw_portfolio_id, field="portfolioId")
        mapping["portfolio_id"] = portfolio.id
    await set_fields(account, mapping)  # snapshots update the same document concurrently
    await audit.record(
        ctx,
        "mt5.map",
        "Mt5Account",
        account.id,
        fund=fund.code,
        allocation=str(initial_allocation),
    )
    return account


def _figure(value: Any) -> Decimal | None:
    """A stored money figure, or None when it is not one a valuation can use (stored
    before snapshots were bounded, or written by hand)."""
    number = value.to_decimal() if isinstance(value, Decimal128) else value
    if not isinstance(number, Decimal) or not number.is_finite() or abs(number) > MAX_AMOUNT:
        return None
    return number


async def unlimited_fund(tenant_id: PydanticObjectId) -> tuple[Decimal, Decimal]:
    """(Σ equity, Σ initial allocation) of the accounts mapped to UNLIMITED. An account whose
    stored figures are out of bounds is left out (and logged), so it cannot fail valuations."""
    cursor = Mt5Account.get_pymongo_collection().find(
        {"tenant_id": tenant_id, "fund_code": "UNLIMITED"},
        {"equity": 1, "initial_allocation": 1},
    )
    equity = allocation = Decimal(0)
    async for account in cursor:
        account_equity = _figure(account.get("equity"))
        account_allocation = _figure(account.get("initial_allocation"))
        if account_equity is None or account_allocation is None or account_allocation <= 0:
            log.warning(
                "MT5 account %s left out of UNLIMITED: figures out of bounds", account["_id"]
            )
            continue
        equity += account_equity
        allocation += account_allocation
    return equity, allocation
