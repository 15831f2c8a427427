"""Events published after a write succeeded (the subscription side reads them)."""

import orjson
from beanie import PydanticObjectId

from models.investments import Investment
from models.opportunities import Opportunity
from models.portfolios import Portfolio
from resolvers.context import RequestContext
from resolvers.valuation import value_portfolio


def portfolio_topic(tenant_id: str, portfolio_id: str) -> str:
    return f"portfolio:{tenant_id}:{portfolio_id}"


def opportunities_topic(tenant_id: str) -> str:
    return f"opportunities:{tenant_id}"


async def portfolio_changed(
    ctx: RequestContext, portfolio_id: PydanticObjectId, reason: str
) -> None:
    portfolio = await Portfolio.get(portfolio_id)
    if portfolio is None:
        return
    investments = await Investment.find(
        {"tenant_id": portfolio.tenant_id, "portfolio_id": portfolio.id}
    ).to_list()
    valuation = await value_portfolio(portfolio, investments, ctx.services.broker.prices, ctx.now())
    payload = {
        "portfolioId": str(portfolio.id),
        "asOf": valuation.as_of.isoformat(),
        "totalValue": str(valuation.total_value),
        "marketValue": str(valuation.market_value),
        "cash": str(valuation.cash),
        "reason": reason,
    }
    await ctx.services.broker.publish(
        portfolio_topic(str(portfolio.tenant_id), str(portfolio.id)), orjson.dumps(payload).decode()
    )


async def opportunity_published(ctx: RequestContext, opportunity: Opportunity) -> None:
    await ctx.services.broker.publish(
        opportunities_topic(str(opportunity.tenant_id)),
        orjson.dumps({"id": str(opportunity.id)}).decode(),
    )
