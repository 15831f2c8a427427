"""Investments and redemptions for tests: fund investments recorded through the API (long
held, or matured), and redemptions requested, decided and completed."""

import uuid

from tests.conftest import World
from tests.support.api import Api
from tests.support.domain import invest_in_fund, make_ready

REQUEST = """mutation($i: ID!, $a: Decimal!, $k: String!) {
  requestRedemption(input: {investmentId: $i, amount: $a, kind: $k}) {
    id amount kind status reason investment { id } } }"""
APPROVE = "mutation($id: ID!) { approveRedemption(id: $id) { id status } }"
COMPLETE = "mutation($id: ID!) { completeRedemption(id: $id) { id status } }"


async def fund_investment(
    api, world, investor, fund="CORE", amount="10000.00", deposit="2026-03-01"
):
    """An investment acme's manager records for ``investor``: its id."""
    body = await invest_in_fund(
        api, world("acme", "manager"), investor, fund=fund, amount=amount, deposit=deposit
    )
    return body["data"]["createInvestment"]["id"]


async def matured_investment(api: Api, world: World, tenant: str, owner: str) -> str:
    """A CORE investment of the tenant's ``owner`` (made ready) deposited in 2020: its id."""
    member = world(tenant, owner)
    await make_ready(member)
    body = await invest_in_fund(
        api, world(tenant, "admin"), member, deposit="2020-01-15", key=uuid.uuid4().hex
    )
    return str(body["data"]["createInvestment"]["id"])


async def request(api, member, investment_id, amount, kind="INTEREST"):
    return await api.gql(REQUEST, {"i": investment_id, "a": amount, "k": kind}, token=member.token)


async def request_interest(api: Api, investment: str, token: str) -> str:
    """A redemption of 1.00 of interest: its id."""
    result = await api.gql(
        'mutation($i: ID!) { requestRedemption(input: {investmentId: $i, amount: "1.00", '
        'kind: "INTEREST"}) { id } }',
        {"i": investment},
        token=token,
    )
    return str(result.ok()["requestRedemption"]["id"])


async def requested_redemption(api: Api, world: World, tenant: str, approve: bool = False) -> str:
    """A redemption the tenant's ADMIN requested on investor2's matured investment (and
    approved, with ``approve``): its id."""
    staff = world(tenant, "admin")
    investment = await matured_investment(api, world, tenant, "investor2")
    redemption = await request_interest(api, investment, staff.token)
    if approve:
        (await api.gql(APPROVE, {"id": redemption}, token=staff.token)).ok()
    return redemption
