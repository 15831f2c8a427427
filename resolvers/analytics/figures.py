"""Analytics for analysts and managers: MongoDB aggregation pipelines, tenant-scoped."""

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from bson import Decimal128

from models.investments import Investment
from models.money import round_half_up
from models.opportunities import Opportunity, OpportunityStatus
from models.permissions import Can
from models.portfolios.ledger import TransactionType
from models.portfolios.records import Portfolio, Transaction
from resolvers.core.context import RequestContext
from resolvers.portfolios.performance import check_period, day_start

MAX_ROWS = 100


def _dec(value: Any) -> Decimal:
    if isinstance(value, Decimal128):
        return value.to_decimal()
    return Decimal(str(value or 0))


def _money(value: Any) -> Decimal:
    return round_half_up(_dec(value))


async def _aggregate(model: Any, pipeline: list[dict[str, Any]]) -> list[dict[str, Any]]:
    cursor = await model.get_pymongo_collection().aggregate(pipeline)
    rows: list[dict[str, Any]] = await cursor.to_list()
    return rows


@dataclass(frozen=True)
class FundAum:
    fund_code: str
    investments: int
    principal: Decimal


async def aum_by_fund(ctx: RequestContext) -> list[FundAum]:
    principal = ctx.require(Can.READ_TENANT)
    rows = await _aggregate(
        Investment,
        [
            {
                "$match": {
                    "tenant_id": principal.tenant_id,
                    "fund_code": {"$ne": None},
                    "redeemed": False,
                }
            },
            {"$group": {"_id": "$fund_code", "n": {"$sum": 1}, "principal": {"$sum": "$amount"}}},
            {"$sort": {"_id": 1}},
        ],
    )
    return [FundAum(r["_id"], int(r["n"]), _money(r["principal"])) for r in rows]


@dataclass(frozen=True)
class MonthlyFlow:
    month: str
    deposits: Decimal
    withdrawals: Decimal

    @property
    def net(self) -> Decimal:
        return self.deposits - self.withdrawals


async def net_flows_by_month(ctx: RequestContext, start: date, end: date) -> list[MonthlyFlow]:
    principal = ctx.require(Can.READ_TENANT)
    check_period(start, end)

    def amount_if(kind: TransactionType) -> dict[str, Any]:
        return {"$cond": [{"$eq": ["$type", kind.value]}, "$amount", Decimal128("0")]}

    rows = await _aggregate(
        Transaction,
        [
            {
                "$match": {
                    "tenant_id": principal.tenant_id,
                    "type": {
                        "$in": [TransactionType.DEPOSIT.value, TransactionType.WITHDRAWAL.value]
                    },
                    "occurred_at": {
                        "$gte": day_start(start),
                        "$lt": day_start(end + timedelta(days=1)),
                    },
                }
            },
            {
                "$group": {
                    "_id": {"$dateToString": {"format": "%Y-%m", "date": "$occurred_at"}},
                    "deposits": {"$sum": amount_if(TransactionType.DEPOSIT)},
                    "withdrawals": {"$sum": amount_if(TransactionType.WITHDRAWAL)},
                }
            },
            {"$sort": {"_id": 1}},
        ],
    )
    return [MonthlyFlow(r["_id"], _money(r["deposits"]), _money(r["withdrawals"])) for r in rows]


@dataclass(frozen=True)
class PipelineRow:
    opportunity_id: str
    name: str
    status: OpportunityStatus
    target_raise: Decimal
    raised_amount: Decimal


async def opportunity_pipeline(ctx: RequestContext) -> list[PipelineRow]:
    principal = ctx.require(Can.READ_TENANT)
    rows = await _aggregate(
        Opportunity,
        [
            {
                "$match": {
                    "tenant_id": principal.tenant_id,
                    "status": {
                        "$in": [
                            OpportunityStatus.OPEN.value,
                            OpportunityStatus.FUNDED.value,
                            OpportunityStatus.CLOSED.value,
                        ]
                    },
                }
            },
            {"$project": {"name": 1, "status": 1, "target_raise": 1, "raised_amount": 1}},
            {"$sort": {"_id": 1}},
            {"$limit": MAX_ROWS},
        ],
    )
    return [
        PipelineRow(
            str(r["_id"]),
            r["name"],
            OpportunityStatus(r["status"]),
            _money(r["target_raise"]),
            _money(r["raised_amount"]),
        )
        for r in rows
    ]


@dataclass(frozen=True)
class TopHolding:
    symbol: str
    quantity: Decimal
    cost: Decimal
    portfolios: int


async def top_holdings(ctx: RequestContext, limit: int) -> list[TopHolding]:
    principal = ctx.require(Can.READ_TENANT)
    limit = max(1, min(limit, MAX_ROWS))
    rows = await _aggregate(
        Portfolio,
        [
            {"$match": {"tenant_id": principal.tenant_id}},
            {"$unwind": "$positions"},
            {
                "$group": {
                    "_id": "$positions.symbol",
                    "quantity": {"$sum": "$positions.quantity"},
                    "cost": {"$sum": "$positions.cost"},
                    "portfolios": {"$sum": 1},
                }
            },
            {"$sort": {"cost": -1, "_id": 1}},
            {"$limit": limit},
        ],
    )
    return [
        TopHolding(r["_id"], _dec(r["quantity"]), _money(r["cost"]), int(r["portfolios"]))
        for r in rows
    ]
