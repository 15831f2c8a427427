"""`fidus demo`: beside the server, a tenant full of sample data (app.demo_data) and the
simulated market feed ingested in-process, so GraphiQL shows ticks and portfolio values
moving at once."""

import json
from collections.abc import Callable
from dataclasses import dataclass, field

from app import mt5_feed
from app.demo_data import DemoTenant, seed_demo
from app.mt5_simulator import Market
from app.runtime import Runtime


@dataclass(frozen=True)
class DemoOptions:
    tenant: str
    url: str  # where the server listens, for the hint
    symbols: list[str]
    rate: float  # ticks per second, all symbols together
    prices: dict[str, float] = field(default_factory=dict)
    seed: int | None = None


async def run_demo(options: DemoOptions, show: Callable[[str], None], runtime: Runtime) -> None:
    """Seed (idempotent), ``show`` how to sign in (the CLI prints it), then feed ticks until
    the server stops."""
    demo = await seed_demo(runtime.services, options.tenant)
    show(instructions(demo, options))
    market = Market(options.symbols, options.seed, options.prices)
    deliver = mt5_feed.ingest_delivery(runtime.services, demo.tenant_id)
    await mt5_feed.simulate(market.ticks(), deliver, options.rate, None)


def instructions(demo: DemoTenant, options: DemoOptions) -> str:
    symbols = json.dumps(options.symbols[:3])
    return "\n".join(
        [
            "",
            f"*** Demo tenant '{demo.slug}' is ready. New passwords for this run:",
            f"      ADMIN     {demo.admin.email}  {demo.admin.password}",
            f"      INVESTOR  {demo.investor.email}  {demo.investor.password}",
            f"    Open {options.url}/graphql and sign in:",
            f'      mutation {{ login(tenant: "{demo.slug}", email: "{demo.investor.email}",'
            ' password: "…") { accessToken } }',
            '    then put {"Authorization": "Bearer <accessToken>"} in the Headers tab and try:',
            "      { myPortfolios { name totalValue holdings { symbol quantity marketValue } } }",
            f"      subscription {{ ticks(symbols: {symbols}) {{ symbol bid ask }} }}",
            f'      subscription {{ portfolioUpdated(portfolioId: "{demo.portfolio_id}")'
            " { totalValue marketValue reason } }",
            f"    Simulated ticks: {', '.join(options.symbols)} at {options.rate:g}/s."
            " Ctrl+C stops the server.",
            "",
        ]
    )
