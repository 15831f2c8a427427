"""DB round trips per request do not grow with list size (DataLoaders, $in batches),
counted with PyMongo command monitoring on the server's own client."""

from decimal import Decimal

from beanie import PydanticObjectId

from models.opportunities import Interest, Opportunity, OpportunityStatus
from models.portfolios.records import Portfolio, StoredPosition
from models.users import User
from tests.support.domain import invest_in_fund, make_ready, set_price
from tests.support.portfolios import default_portfolio_id
from tests.support.round_trips import commands_for

PORTFOLIO = """query($id: ID!) { portfolio(id: $id) { cash marketValue totalValue owner { email }
  holdings { symbol quantity lastPrice marketValue } investments { fundCode currentValue investor { email } } } }"""
OPPORTUNITIES = """{ opportunities(first: 50) { edges { node { id name raisedAmount
  interests { createdAt investor { email } opportunity { name } } } } } }"""


async def portfolio_with(api, world, runtime, holdings: int) -> str:
    investor = world("acme", "investor")
    pid = await default_portfolio_id(api, investor)
    portfolio = await Portfolio.get(pid)
    portfolio.positions = [
        StoredPosition(symbol=f"S{i}", quantity=Decimal(i + 1), cost=Decimal(10 * (i + 1)))
        for i in range(holdings)
    ]
    await portfolio.save()
    for i in range(0, holdings, 2):  # half the symbols have a live price
        await set_price(runtime, investor, f"S{i}", 11.0, 11.5)
    return pid


async def test_portfolio_round_trips_are_constant(api, world, runtime, command_counter):
    investor = world("acme", "investor")
    await make_ready(investor)
    for i in range(3):
        await invest_in_fund(api, world("acme", "manager"), investor, key=f"inv{i}")
    pid = await portfolio_with(api, world, runtime, 5)
    small = await commands_for(api, command_counter, PORTFOLIO, {"id": pid}, investor.token)
    await portfolio_with(api, world, runtime, 100)
    large = await commands_for(api, command_counter, PORTFOLIO, {"id": pid}, investor.token)
    assert small == large
    assert len(large) <= 6, large  # session + user (auth), portfolio, investments, users


async def test_opportunity_page_round_trips_are_constant(api, world, command_counter):
    admin = await User.get(world("acme", "admin").id)
    investors = [await User.get(world("acme", who).id) for who in ("investor", "investor2")]

    async def seed(count: int) -> None:
        await Opportunity.find({}).delete()
        await Interest.find({}).delete()
        for i in range(count):
            deal = Opportunity(
                tenant_id=admin.tenant_id,
                name=f"Deal {i}",
                description="d",
                status=OpportunityStatus.OPEN,
                target_raise=Decimal("1000.00"),
                minimum_investment=Decimal("10.00"),
                created_by=admin.id,
            )
            await deal.insert()
            for investor in investors:
                await Interest(
                    tenant_id=admin.tenant_id,
                    opportunity_id=deal.id,
                    investor_id=PydanticObjectId(investor.id),
                ).insert()

    token = world("acme", "analyst").token
    await seed(5)
    small = await commands_for(api, command_counter, OPPORTUNITIES, {}, token)
    await seed(50)
    large = await commands_for(api, command_counter, OPPORTUNITIES, {}, token)
    assert small == large
    assert len(large) <= 6, large  # session + user, page, interests, investors, opportunities
