"""MT5 account snapshots (POST /mt5/accounts): accounts upserted by (tenant, login, server),
deals upserted by ticket (re-sends are harmless), and the ADMIN mapping of an account to a
fund (with its initial allocation) and optionally a portfolio."""

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from beanie import PydanticObjectId
from beanie.odm.utils.encoder import Encoder
from pymongo import ReturnDocument
from pymongo.errors import DuplicateKeyError

from models.errors import BadUserInput, NotFound
from models.mt5 import Mt5Account, Mt5Deal
from models.users import Role
from resolvers import audit
from resolvers.context import RequestContext
from resolvers.funds import get_fund
from resolvers.portfolios import get_portfolio
from resolvers.service_tokens import ServiceCaller
from resolvers.writes import set_fields
from subscriptions.broker import Broker
from subscriptions.payloads import SYMBOL_PATTERN
from subscriptions.portfolios import mark_portfolio

MAX_DEALS = 5000


def _decimal(raw: dict[str, Any], name: str, where: str) -> Decimal:
    try:
        value = Decimal(str(raw.get(name, "0")))
    except InvalidOperation as exc:
        raise BadUserInput(f"{where}{name} must be a decimal number", field=name) from exc
    if not value.is_finite():
        raise BadUserInput(f"{where}{name} must be finite", field=name)
    return value


def _int(raw: dict[str, Any], name: str, where: str = "") -> int:
    value = raw.get(name)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise BadUserInput(f"{where}{name} must be a non-negative integer", field=name)
    return value


def _deal(raw: Any, index: int) -> dict[str, Any]:
    where = f"deals[{index}]."
    if not isinstance(raw, dict):
        raise BadUserInput(f"{where[:-1]} must be an object", field="deals")
    symbol = raw.get("symbol", "")
    if not isinstance(symbol, str) or (symbol and not SYMBOL_PATTERN.fullmatch(symbol)):
        raise BadUserInput(f"{where}symbol is malformed", field="symbol")
    return {
        "ticket": _int(raw, "ticket", where),
        "symbol": symbol,
        "type": str(raw.get("type", ""))[:20],
        "entry": str(raw.get("entry", ""))[:10],
        "volume": _decimal(raw, "volume", where),
        "price": _decimal(raw, "price", where),
        "profit": _decimal(raw, "profit", where),
        "commission": _decimal(raw, "commission", where),
        "swap": _decimal(raw, "swap", where),
        "time_msc": _int(raw, "time_msc", where),
    }


@dataclass(frozen=True)
class SnapshotResult:
    account_id: str
    deals_new: int
    deals_known: int


async def ingest_snapshot(broker: Broker, caller: ServiceCaller, body: Any) -> SnapshotResult:
    """All or nothing: a malformed snapshot is rejected whole with the reason."""
    if not isinstance(body, dict):
        raise BadUserInput("body must be an account snapshot object")
    login, time_msc = _int(body, "login"), _int(body, "time_msc")
    server = body.get("server")
    if not isinstance(server, str) or not 0 < len(server.strip()) <= 64:
        raise BadUserInput("server must be 1-64 characters", field="server")
    currency = str(body.get("currency", "")).upper()
    if len(currency) != 3 or not currency.isalpha():
        raise BadUserInput("currency must be an ISO 4217 code", field="currency")
    deals = body.get("deals", [])
    if not isinstance(deals, list) or len(deals) > MAX_DEALS:
        raise BadUserInput(f"deals must be a list of at most {MAX_DEALS}", field="deals")
    parsed_deals = [_deal(raw, i) for i, raw in enumerate(deals)]
    positions = body.get("positions", [])
    if not isinstance(positions, list):
        raise BadUserInput("positions must be a list", field="positions")
    figures = {name: _decimal(body, name, "") for name in ("balance", "equity", "margin", "profit")}
    snapshot = {
        "currency": currency,
        "leverage": _int(body, "leverage"),
        "time_msc": time_msc,
        "positions": positions[:1000],
        **figures,
    }
    collection = Mt5Account.get_pymongo_collection()
    key = {"tenant_id": caller.tenant_id, "login": login, "server": server.strip()}
    # a snapshot older than the stored one does not overwrite it
    await collection.update_one(
        {**key, "time_msc": {"$lt": time_msc}}, {"$set": Encoder().encode(snapshot)}
    )
    account = None
    try:
        account = await collection.find_one_and_update(
            key,
            {"$setOnInsert": Encoder().encode(snapshot)},
            upsert=True,
            return_document=ReturnDocument.AFTER,
        )
    except DuplicateKeyError:  # a concurrent first snapshot of the same account
        account = await collection.find_one(key)
    assert account is not None
    new = 0
    for deal in parsed_deals:
        result = await Mt5Deal.get_pymongo_collection().update_one(
            {"tenant_id": caller.tenant_id, "account_id": account["_id"], "ticket": deal["ticket"]},
            {"$setOnInsert": Encoder().encode(deal)},
            upsert=True,
        )
        new += 1 if result.upserted_id is not None else 0
    if account.get("portfolio_id") is not None:
        await mark_portfolio(
            broker, str(caller.tenant_id), str(account["portfolio_id"]), "MT5_SNAPSHOT"
        )
    return SnapshotResult(str(account["_id"]), new, len(parsed_deals) - new)


async def map_account(
    ctx: RequestContext,
    login: int,
    server: str,
    fund_code: str,
    initial_allocation: Decimal,
    raw_portfolio_id: str | None,
) -> Mt5Account:
    principal = ctx.require_role(Role.ADMIN)
    account = await Mt5Account.find_one(
        {"tenant_id": principal.tenant_id, "login": login, "server": server.strip()}
    )
    if account is None:
        raise NotFound("No snapshot of that MT5 account has been received")
    fund = await get_fund(principal.tenant_id, fund_code)
    if not initial_allocation.is_finite() or initial_allocation <= 0:
        raise BadUserInput("Initial allocation must be positive", field="initialAllocation")
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


async def unlimited_fund(tenant_id: PydanticObjectId) -> tuple[Decimal, Decimal]:
    """(Σ equity, Σ initial allocation) of the accounts mapped to UNLIMITED."""
    accounts = await Mt5Account.find({"tenant_id": tenant_id, "fund_code": "UNLIMITED"}).to_list()
    equity = sum((a.equity for a in accounts), Decimal(0))
    allocation = sum((a.initial_allocation or Decimal(0) for a in accounts), Decimal(0))
    return equity, allocation
