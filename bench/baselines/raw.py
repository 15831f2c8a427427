"""Baseline (a) for the query scenario: the least a hand-written service does — Starlette
handlers on async PyMongo and redis.asyncio returning the same JSON as Fidus's two bench
queries, with no GraphQL, NO AUTH (Fidus checks a JWT and its session on every request)
and no tenant checks beyond the tenant id given at start-up. It is meant to be fast: one
query per collection, projections, orjson.

    GET /q1?id=<portfolio id>  → {"data": {"portfolio": {...}}}
    GET /q2?first=50           → {"data": {"opportunities": {"edges": [{"node": {...}}]}}}

Environment: MONGODB_URL, REDIS_URL, RAW_DB (database and Redis namespace), RAW_TENANT_ID.
"""

import contextlib
import os
from collections.abc import AsyncIterator
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import orjson
from bson import ObjectId
from pymongo import AsyncMongoClient
from redis import asyncio as aioredis
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

DB = os.environ.get("RAW_DB", "bench_queries")
TENANT_ID = ObjectId(os.environ["RAW_TENANT_ID"]) if os.environ.get("RAW_TENANT_ID") else None
CENT, PRECISION, ZERO = Decimal("0.01"), Decimal("0.00000001"), Decimal("0.00")
state: dict[str, Any] = {}


def _json(data: Any) -> Response:
    return Response(orjson.dumps({"data": data}), media_type="application/json")


def _cents(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


async def portfolio(request: Request) -> Response:
    """Holdings valued at the latest bid (longs; ask for shorts), at cost when unpriced.
    The bench's symbols are quoted in the portfolio's currency, so no FX conversion."""
    db = state["db"]
    doc = await db.portfolios.find_one(
        {"_id": ObjectId(request.query_params["id"]), "tenant_id": TENANT_ID},
        projection={"name": 1, "cash": 1, "positions": 1, "tenant_id": 1},
    )
    if doc is None:
        return _json({"portfolio": None})
    positions = doc["positions"]
    key = f"{DB}:prices:{doc['tenant_id']}"
    raw = await state["redis"].hmget(key, [p["symbol"] for p in positions]) if positions else []
    holdings, market_value = [], ZERO
    for position, tick_json in zip(positions, raw, strict=True):
        quantity, cost = position["quantity"].to_decimal(), position["cost"].to_decimal()
        average = (cost / quantity) if quantity else ZERO
        last_price, value = None, _cents(cost)
        if tick_json is not None:
            tick = orjson.loads(tick_json)
            price = Decimal(repr(tick["bid"] if quantity >= 0 else tick["ask"]))
            last_price, value = float(price), _cents(quantity * price)
        market_value += value
        holdings.append(
            {
                "symbol": position["symbol"],
                "quantity": str(quantity),
                "averageCost": str(average.quantize(PRECISION)),
                "lastPrice": last_price,
                "marketValue": str(value),
            }
        )
    cash = doc["cash"].to_decimal()
    return _json(
        {
            "portfolio": {
                "id": str(doc["_id"]),
                "name": doc["name"],
                "cash": str(cash),
                "totalValue": str(cash + market_value),  # the bench has no investments
                "marketValue": str(market_value),
                "holdings": holdings,
            }
        }
    )


async def opportunities(request: Request) -> Response:
    """A page of opportunities, their interests and the interested investors: three
    queries whatever the page size."""
    db = state["db"]
    first = int(request.query_params.get("first", "20"))
    deals = await db.opportunities.find(
        {"tenant_id": TENANT_ID},
        projection={"name": 1, "status": 1, "target_raise": 1, "raised_amount": 1},
        sort=[("_id", 1)],
        limit=first,
    ).to_list()
    interests = await db.interests.find(
        {"tenant_id": TENANT_ID, "opportunity_id": {"$in": [d["_id"] for d in deals]}},
        projection={"opportunity_id": 1, "investor_id": 1, "created_at": 1},
        sort=[("_id", 1)],
    ).to_list()
    investor_ids = list({i["investor_id"] for i in interests})
    users = {
        u["_id"]: {"id": str(u["_id"]), "email": u["email"], "fullName": u["full_name"]}
        for u in await db.users.find(
            {"_id": {"$in": investor_ids}}, projection={"email": 1, "full_name": 1}
        ).to_list()
    }
    by_deal: dict[ObjectId, list[dict[str, Any]]] = {d["_id"]: [] for d in deals}
    for interest in interests:
        by_deal[interest["opportunity_id"]].append(
            {
                "id": str(interest["_id"]),
                "createdAt": interest["created_at"].isoformat(),
                "investor": users[interest["investor_id"]],
            }
        )
    edges = [
        {
            "node": {
                "id": str(d["_id"]),
                "name": d["name"],
                "status": d["status"],
                "targetRaise": str(d["target_raise"].to_decimal()),
                "raisedAmount": str(d["raised_amount"].to_decimal()),
                "interests": by_deal[d["_id"]],
            }
        }
        for d in deals
    ]
    return _json({"opportunities": {"edges": edges}})


async def ready(request: Request) -> JSONResponse:
    return JSONResponse({"status": "ready"})


@contextlib.asynccontextmanager
async def lifespan(app: Starlette) -> AsyncIterator[None]:
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(
        os.environ["MONGODB_URL"], tz_aware=True
    )
    state["db"] = client[DB]
    state["redis"] = aioredis.from_url(os.environ["REDIS_URL"])
    yield
    await state["redis"].aclose()
    await client.close()


app = Starlette(
    routes=[
        Route("/health/ready", ready),
        Route("/q1", portfolio),
        Route("/q2", opportunities),
    ],
    lifespan=lifespan,
)
