"""MT5 account mapping (ADMIN)."""

from decimal import Decimal

import strawberry

from models.permissions import Can
from resolvers.mt5 import accounts as use_cases
from schema.core.context import Info
from schema.core.permissions import Allowed


@strawberry.type
class Mt5Account:
    id: strawberry.ID
    login: int
    server: str
    currency: str
    equity: Decimal
    fund_code: str | None
    initial_allocation: Decimal | None
    portfolio_id: strawberry.ID | None


@strawberry.type
class Mt5Mutations:
    @strawberry.mutation(
        permission_classes=[Allowed(Can.MAP_MT5_ACCOUNTS)],
        description="Map an account to a fund (and a portfolio); audited",
    )
    async def map_mt5_account(
        self,
        info: Info,
        login: int,
        server: str,
        fund_code: str,
        initial_allocation: Decimal,
        portfolio_id: strawberry.ID | None = None,
    ) -> Mt5Account:
        doc = await use_cases.map_account(
            info.context, login, server, fund_code, initial_allocation, portfolio_id
        )
        return Mt5Account(
            id=strawberry.ID(str(doc.id)),
            login=doc.login,
            server=doc.server,
            currency=doc.currency,
            equity=doc.equity,
            fund_code=doc.fund_code,
            initial_allocation=doc.initial_allocation,
            portfolio_id=strawberry.ID(str(doc.portfolio_id)) if doc.portfolio_id else None,
        )
