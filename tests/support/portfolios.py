"""Portfolios for tests: an investor's default portfolio, ledger entries recorded through the
API, the portfolio view, and its live ``portfolioUpdated`` stream."""

import asyncio
from typing import Any

from gql import gql

MINE = "{ myPortfolios { id name baseCurrency cash } }"
RECORD = """mutation($i: RecordTransactionInput!) { recordTransaction(input: $i) {
  id type symbol quantity price amount occurredAt } }"""
PORTFOLIO = """query($id: ID!) { portfolio(id: $id) { id name cash marketValue totalValue
  owner { email } holdings { symbol quantity averageCost lastPrice marketValue }
  investments { id fundCode currentValue }
  transactions(first: 2) { edges { node { type amount } } pageInfo { hasNextPage endCursor } } } }"""
PORTFOLIO_UPDATED = gql("""subscription($id: ID!) { portfolioUpdated(portfolioId: $id) {
  portfolioId asOf totalValue marketValue cash reason } }""")


async def default_portfolio_id(api, member) -> str:
    return (await api.gql(MINE, token=member.token)).ok()["myPortfolios"][0]["id"]


async def record(api, staff, portfolio_id, kind, key, **fields):
    """recordTransaction as ``staff``: a ``kind`` (DEPOSIT, BUY, ...) entry, idempotent by
    ``key``."""
    payload = {"portfolioId": portfolio_id, "type": kind, "idempotencyKey": key, **fields}
    return await api.gql(RECORD, {"i": payload}, token=staff.token)


async def collect(session: Any, pid: str, received: asyncio.Queue) -> None:
    """Put every ``portfolioUpdated`` of ``pid`` on ``received`` (a gql session's stream)."""
    async for result in session.subscribe(PORTFOLIO_UPDATED, variable_values={"id": pid}):
        await received.put(result["portfolioUpdated"])
