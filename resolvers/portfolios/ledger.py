"""Portfolios: visibility, creating more, the ledger write path."""

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from beanie import PydanticObjectId
from beanie.odm.utils.encoder import Encoder
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.errors import DuplicateKeyError

from models.errors import BadUserInput, Conflict, Forbidden, NotFound
from models.money import amount_problem, decimal_places
from models.permissions import Can
from models.portfolios.ledger import (
    TRADES,
    Entry,
    LedgerConflict,
    TransactionType,
    apply,
    trade_amount,
)
from models.portfolios.records import Portfolio, Transaction
from models.users import STAFF_ROLES, TENANT_READERS, Role, User
from resolvers.core.atomic import in_transaction
from resolvers.core.context import Principal, RequestContext
from resolvers.core.pagination import Page, page_of
from resolvers.core.post_commit import revalue_after_commit
from resolvers.core.scope import clean_idempotency_key, get_in_tenant, tenant_filter
from subscriptions.portfolios import PortfolioUpdatePayload, portfolio_update_stream
from subscriptions.ticks import SYMBOL_PATTERN

_ATTEMPTS = 8
BUSY = "The portfolio is busy with another change; retry shortly"


class _StaleSnapshot(Exception):
    """The portfolio snapshot changed between read and write."""


MAX_QUANTITY = Decimal("1000000000000")


def can_see_owner(principal: Principal, owner_id: PydanticObjectId) -> bool:
    return principal.role in TENANT_READERS or owner_id == principal.user_id


async def get_portfolio(ctx: RequestContext, raw_id: str, *, field: str = "id") -> Portfolio:
    principal = ctx.require_principal()
    portfolio = await get_in_tenant(Portfolio, principal, raw_id, field=field, what="Portfolio")
    if not can_see_owner(principal, portfolio.owner_id):
        raise NotFound("Portfolio not found")
    return portfolio


async def my_portfolios(ctx: RequestContext) -> list[Portfolio]:
    """The caller's own portfolios, oldest first; a read, it creates nothing (an investor's
    default portfolio comes with the investor: resolvers.portfolios.defaults)."""
    principal = ctx.require_principal()
    return (
        await Portfolio.find(tenant_filter(principal, owner_id=principal.user_id))
        .sort("_id")
        .to_list()
    )


async def create_portfolio(
    ctx: RequestContext, name: str, base_currency: str | None, raw_owner_id: str | None
) -> Portfolio:
    principal = ctx.require_principal()
    owner = principal.user
    if raw_owner_id is not None and raw_owner_id != str(principal.user_id):
        if principal.role not in STAFF_ROLES:
            raise NotFound("User not found")
        owner = await get_in_tenant(User, principal, raw_owner_id, field="ownerId", what="User")
    if principal.role is Role.ANALYST:
        raise Forbidden("Analysts are read-only")
    name = name.strip()
    if not name or len(name) > 100:
        raise BadUserInput("Name must be 1-100 characters", field="name")
    currency = (base_currency or owner.base_currency).strip().upper()
    if len(currency) != 3 or not currency.isalpha():
        raise BadUserInput("Base currency must be an ISO 4217 code", field="baseCurrency")
    assert owner.id is not None
    portfolio = Portfolio(
        tenant_id=principal.tenant_id, owner_id=owner.id, name=name, base_currency=currency
    )
    await portfolio.insert()
    return portfolio


@dataclass(frozen=True)
class NewTransaction:
    portfolio_id: str
    type: TransactionType
    idempotency_key: str
    amount: Decimal | None = None
    symbol: str | None = None
    quantity: Decimal | None = None
    price: Decimal | None = None
    occurred_at: datetime | None = None


def _entry(new: NewTransaction) -> Entry:
    """Validate the shape of a transaction (BAD_USER_INPUT naming the field)."""
    if new.type in TRADES:
        if new.symbol is None or not SYMBOL_PATTERN.fullmatch(new.symbol):
            raise BadUserInput("A trade needs a well-formed symbol", field="symbol")
        for name, value in (("quantity", new.quantity), ("price", new.price)):
            if value is None or not value.is_finite() or value <= 0:
                raise BadUserInput(f"A trade needs a positive {name}", field=name)
        assert new.quantity is not None and new.price is not None
        if new.quantity > MAX_QUANTITY or decimal_places(new.quantity) > 8:
            raise BadUserInput("Quantity is too large or too precise", field="quantity")
        amount = new.amount if new.amount is not None else trade_amount(new.quantity, new.price)
        problem = amount_problem(amount)
        if problem:
            raise BadUserInput(problem, field="amount")
        return Entry(new.type, amount, new.symbol, new.quantity, new.price)
    extras: dict[str, object] = {"symbol": new.symbol, "quantity": new.quantity, "price": new.price}
    for name, extra in extras.items():
        if extra is not None:
            raise BadUserInput(f"{new.type.value} takes no {name}", field=name)
    if new.amount is None:
        raise BadUserInput(f"{new.type.value} needs an amount", field="amount")
    problem = amount_problem(new.amount)
    if problem:
        raise BadUserInput(problem, field="amount")
    return Entry(new.type, new.amount)


async def record_transaction(ctx: RequestContext, new: NewTransaction) -> Transaction:
    """ADMIN/MANAGER. Appends to the ledger and updates the snapshot in one DB transaction;
    the same idempotency key returns the first transaction."""
    principal = ctx.require(Can.RECORD_TRANSACTIONS)
    key = clean_idempotency_key(new.idempotency_key)
    portfolio = await get_portfolio(ctx, new.portfolio_id, field="portfolioId")
    entry = _entry(new)
    assert portfolio.id is not None
    candidate = Transaction(
        tenant_id=principal.tenant_id,
        portfolio_id=portfolio.id,
        type=entry.type,
        amount=entry.amount,
        symbol=entry.symbol,
        quantity=entry.quantity,
        price=entry.price,
        occurred_at=new.occurred_at or ctx.now(),
        idempotency_key=key,
        recorded_by=principal.user_id,
    )
    replay = await _replayed(candidate)
    if replay is not None:
        return replay

    async def write(session: AsyncClientSession) -> Transaction:
        current = await Portfolio.get(portfolio.id, session=session)
        assert current is not None
        try:
            state = apply(current.ledger_state, entry)
        except LedgerConflict as exc:
            raise Conflict(str(exc)) from exc
        await candidate.insert(session=session)
        updated = await Portfolio.get_pymongo_collection().update_one(
            {"_id": current.id, "version": current.version},
            {
                "$set": Encoder().encode(
                    {
                        "cash": state.cash,
                        "positions": current.stored_positions(state),
                        "version": current.version + 1,
                    }
                )
            },
            session=session,
        )
        if updated.modified_count != 1:
            raise _StaleSnapshot
        return candidate

    for _attempt in range(_ATTEMPTS):
        try:
            transaction = await in_transaction(ctx.services.transactions, write, busy=BUSY)
            break
        except _StaleSnapshot:
            continue  # another transaction of this portfolio committed first: re-read
        except DuplicateKeyError:
            replay = await _replayed(candidate)
            if replay is None:
                raise
            return replay
    else:
        raise Conflict(BUSY, retryable=True)
    await revalue_after_commit(ctx.services, portfolio.tenant_id, portfolio.id, "TRANSACTION")
    return transaction


async def _replayed(candidate: Transaction) -> Transaction | None:
    existing = await Transaction.find_one(
        {
            "tenant_id": candidate.tenant_id,
            "portfolio_id": candidate.portfolio_id,
            "idempotency_key": candidate.idempotency_key,
        }
    )
    if existing is not None and not existing.same_request(candidate):
        raise Conflict(
            "This idempotency key was used for a different transaction", field="idempotencyKey"
        )
    return existing


async def transactions_page(
    ctx: RequestContext, portfolio: Portfolio, first: int | None, after: str | None
) -> Page[Transaction]:
    return await page_of(
        Transaction,
        {"tenant_id": portfolio.tenant_id, "portfolio_id": portfolio.id},
        ctx,
        list_name=f"transactions:{portfolio.id}",
        first=first,
        after=after,
    )


async def portfolio_updates(
    ctx: RequestContext, raw_id: str
) -> AsyncIterator[PortfolioUpdatePayload]:
    """Owner, or ADMIN/MANAGER/ANALYST of the tenant; else NOT_FOUND before streaming."""
    portfolio = await get_portfolio(ctx, raw_id, field="portfolioId")
    assert portfolio.id is not None
    return portfolio_update_stream(ctx.services.broker, portfolio.tenant_id, portfolio.id)
