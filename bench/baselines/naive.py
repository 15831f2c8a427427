"""Baseline (b) for the query scenario: the same two queries built the way a typical
hand-made Strawberry + Beanie app would be — each resolver fetches what it needs for its
own object, one query (or Redis read) at a time:

- ``portfolio``: one find; ``holdings`` reads each holding's price with its own HGET, and
  ``marketValue`` / ``totalValue`` value the holdings again the same way (no sharing
  between resolvers) — 1 find + 3 × 100 HGETs for the bench's 100 holdings;
- ``opportunities``: one find for the page, then ``interests`` per opportunity and
  ``investor`` per interest — 1 + 50 + 400 queries for the bench's page.

No DataLoaders, no parser/validation caches, the default JSON encoder, NO AUTH (Fidus
checks a JWT and its session on every request). Same field names as Fidus, so the same
query text works. Environment: MONGODB_URL, REDIS_URL, RAW_DB, RAW_TENANT_ID.
"""

import contextlib
import os
from collections.abc import AsyncIterator
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum
from typing import Any

import orjson
import strawberry
from beanie import DecimalAnnotation, Document, PydanticObjectId, init_beanie
from pydantic import BaseModel
from pymongo import AsyncMongoClient
from redis import asyncio as aioredis
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from strawberry.asgi import GraphQL

DB = os.environ.get("RAW_DB", "bench_queries")
TENANT_ID = PydanticObjectId(os.environ.get("RAW_TENANT_ID") or "0" * 24)
state: dict[str, Any] = {}


# --- documents: the same collections Fidus writes ---------------------------------------


class PositionDoc(BaseModel):
    symbol: str
    quantity: DecimalAnnotation
    cost: DecimalAnnotation


class PortfolioDoc(Document):
    tenant_id: PydanticObjectId
    name: str
    cash: DecimalAnnotation
    positions: list[PositionDoc]

    class Settings:
        name = "portfolios"


class OpportunityDoc(Document):
    tenant_id: PydanticObjectId
    name: str
    status: str
    target_raise: DecimalAnnotation
    raised_amount: DecimalAnnotation

    class Settings:
        name = "opportunities"


class InterestDoc(Document):
    tenant_id: PydanticObjectId
    opportunity_id: PydanticObjectId
    investor_id: PydanticObjectId
    created_at: datetime

    class Settings:
        name = "interests"


class UserDoc(Document):
    email: str
    full_name: str

    class Settings:
        name = "users"


# --- GraphQL types -----------------------------------------------------------------------


async def latest_bid(tenant_id: PydanticObjectId, symbol: str) -> float | None:
    raw = await state["redis"].hget(f"{DB}:prices:{tenant_id}", symbol)
    return None if raw is None else float(orjson.loads(raw)["bid"])


def cents(value: Decimal) -> Decimal:
    return value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


@strawberry.type
class Holding:
    symbol: str
    quantity: Decimal
    average_cost: Decimal
    last_price: float | None
    market_value: Decimal


async def value_holdings(doc: PortfolioDoc) -> list[Holding]:
    holdings = []
    for p in doc.positions:
        price = await latest_bid(doc.tenant_id, p.symbol)  # one round trip per holding
        value = cents(p.cost) if price is None else cents(p.quantity * Decimal(repr(price)))
        holdings.append(
            Holding(
                symbol=p.symbol,
                quantity=p.quantity,
                average_cost=(p.cost / p.quantity).quantize(Decimal("0.00000001")),
                last_price=price,
                market_value=value,
            )
        )
    return holdings


async def market_value(doc: PortfolioDoc) -> Decimal:
    return sum((h.market_value for h in await value_holdings(doc)), Decimal("0.00"))


@strawberry.type
class Portfolio:
    doc: strawberry.Private[PortfolioDoc]
    id: strawberry.ID
    name: str
    cash: Decimal

    @strawberry.field
    async def holdings(self) -> list[Holding]:
        return await value_holdings(self.doc)

    @strawberry.field
    async def market_value(self) -> Decimal:
        return await market_value(self.doc)

    @strawberry.field
    async def total_value(self) -> Decimal:
        return self.cash + await market_value(self.doc)


@strawberry.enum
class OpportunityStatus(StrEnum):
    DRAFT = "DRAFT"
    OPEN = "OPEN"
    CLOSED = "CLOSED"
    FUNDED = "FUNDED"


@strawberry.type
class User:
    id: strawberry.ID
    email: str
    full_name: str


@strawberry.type
class Interest:
    doc: strawberry.Private[InterestDoc]
    id: strawberry.ID
    created_at: datetime

    @strawberry.field
    async def investor(self) -> User:
        user = await UserDoc.get(self.doc.investor_id)  # one query per interest
        assert user is not None
        return User(id=strawberry.ID(str(user.id)), email=user.email, full_name=user.full_name)


@strawberry.type
class Opportunity:
    id: strawberry.ID
    name: str
    status: OpportunityStatus
    target_raise: Decimal
    raised_amount: Decimal

    @strawberry.field
    async def interests(self) -> list[Interest]:
        found = (  # one query per opportunity
            await InterestDoc.find(
                InterestDoc.opportunity_id == PydanticObjectId(self.id),
                InterestDoc.tenant_id == TENANT_ID,
            )
            .sort("_id")
            .to_list()
        )
        return [
            Interest(doc=i, id=strawberry.ID(str(i.id)), created_at=i.created_at) for i in found
        ]


@strawberry.type
class OpportunityEdge:
    cursor: str
    node: Opportunity


@strawberry.type
class OpportunityConnection:
    edges: list[OpportunityEdge]


@strawberry.type
class Query:
    @strawberry.field
    async def portfolio(self, id: strawberry.ID) -> Portfolio | None:
        doc = await PortfolioDoc.find_one(
            PortfolioDoc.id == PydanticObjectId(id), PortfolioDoc.tenant_id == TENANT_ID
        )
        if doc is None:
            return None
        return Portfolio(doc=doc, id=strawberry.ID(str(doc.id)), name=doc.name, cash=doc.cash)

    @strawberry.field
    async def opportunities(self, first: int = 20) -> OpportunityConnection:
        docs = (
            await OpportunityDoc.find(OpportunityDoc.tenant_id == TENANT_ID)
            .sort("_id")
            .limit(first)
            .to_list()
        )
        return OpportunityConnection(
            edges=[
                OpportunityEdge(
                    cursor=str(d.id),
                    node=Opportunity(
                        id=strawberry.ID(str(d.id)),
                        name=d.name,
                        status=OpportunityStatus(d.status),
                        target_raise=d.target_raise,
                        raised_amount=d.raised_amount,
                    ),
                )
                for d in docs
            ]
        )


schema = strawberry.Schema(query=Query)


async def ready(request: Request) -> JSONResponse:
    return JSONResponse({"status": "ready"})


@contextlib.asynccontextmanager
async def lifespan(app: Starlette) -> AsyncIterator[None]:
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(
        os.environ["MONGODB_URL"], tz_aware=True
    )
    await init_beanie(
        database=client[DB], document_models=[PortfolioDoc, OpportunityDoc, InterestDoc, UserDoc]
    )
    state["redis"] = aioredis.from_url(os.environ["REDIS_URL"])
    yield
    await state["redis"].aclose()
    await client.close()


app = Starlette(
    routes=[Route("/health/ready", ready), Route("/graphql", GraphQL(schema))],
    lifespan=lifespan,
)
