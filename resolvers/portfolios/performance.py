"""Returns over a period (simple and time-weighted) and monthly statement figures, from
the ledger. Holdings are marked at the last trade price known at each moment; at 'now'
the latest tick is used where one exists."""

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from models.errors import BadUserInput
from models.money import ZERO, round_half_up
from models.portfolios.ledger import INCOME, Entry, LedgerState, TransactionType, apply
from models.portfolios.records import Portfolio, Transaction
from resolvers.core.context import RequestContext
from subscriptions.ticks import TickPayload

RATIO_PLACES = Decimal("0.000001")


def day_start(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


@dataclass
class _Book:
    """Replays the ledger in time order, remembering the last trade price per symbol."""

    state: LedgerState = field(default_factory=LedgerState)
    marks: dict[str, Decimal] = field(default_factory=dict)

    def apply(self, tx: Transaction) -> None:
        if tx.investment_id is not None:
            return  # a fund payout: not portfolio cash
        self.state = apply(self.state, Entry(tx.type, tx.amount, tx.symbol, tx.quantity, tx.price))
        if tx.symbol is not None and tx.price is not None:
            self.marks[tx.symbol] = tx.price

    def value(self, live: dict[str, TickPayload] | None = None) -> Decimal:
        total = self.state.cash
        for symbol, position in self.state.positions.items():
            tick = (live or {}).get(symbol)
            price = (
                Decimal(repr(tick.bid)) if tick else self.marks.get(symbol, position.average_cost)
            )
            total += round_half_up(position.quantity * price)
        return total


def _external_flow(tx: Transaction) -> Decimal:
    if tx.investment_id is not None:
        return ZERO
    if tx.type is TransactionType.DEPOSIT:
        return tx.amount
    if tx.type is TransactionType.WITHDRAWAL:
        return -tx.amount
    return ZERO


@dataclass(frozen=True)
class PeriodFigures:
    start: date
    end: date
    opening_value: Decimal
    closing_value: Decimal
    deposits: Decimal
    withdrawals: Decimal
    income: Decimal
    fees: Decimal
    simple_return: Decimal | None
    time_weighted_return: Decimal | None
    holdings: LedgerState


def check_period(start: date, end: date) -> None:
    if end < start:
        raise BadUserInput("The period ends before it starts", field="to")
    if (end - start).days > 366 * 50:
        raise BadUserInput("The period is too long", field="from")


async def period_figures(
    ctx: RequestContext, portfolio: Portfolio, start: date, end: date
) -> PeriodFigures:
    """One ledger read; ``end`` is inclusive."""
    check_period(start, end)
    start_at, end_at = day_start(start), day_start(end + timedelta(days=1))
    ledger = (
        await Transaction.find(
            {
                "tenant_id": portfolio.tenant_id,
                "portfolio_id": portfolio.id,
                "occurred_at": {"$lt": end_at},
            }
        )
        .sort("+occurred_at", "+_id")
        .to_list()
    )
    book = _Book()
    before = [tx for tx in ledger if tx.occurred_at < start_at]
    during = [tx for tx in ledger if tx.occurred_at >= start_at]
    for tx in before:
        book.apply(tx)
    opening = book.value()
    deposits = withdrawals = income = fees = ZERO
    growth, base = Decimal(1), opening
    for tx in during:
        flow = _external_flow(tx)
        if flow:
            if base > 0:
                growth *= book.value() / base
            book.apply(tx)
            base = book.value()
        else:
            book.apply(tx)
        if tx.investment_id is None:
            deposits += tx.amount if tx.type is TransactionType.DEPOSIT else ZERO
            withdrawals += tx.amount if tx.type is TransactionType.WITHDRAWAL else ZERO
            income += tx.amount if tx.type in INCOME else ZERO
            fees += tx.amount if tx.type is TransactionType.FEE else ZERO
    live = None
    if end_at >= ctx.now():
        live = await ctx.services.broker.prices.get_many(
            str(portfolio.tenant_id), list(book.state.positions)
        )
    closing = book.value(live)
    if base > 0:
        growth *= closing / base
    invested = opening + deposits
    gain = closing - opening - (deposits - withdrawals)
    simple = (gain / invested).quantize(RATIO_PLACES) if invested > 0 else None
    twr = (growth - 1).quantize(RATIO_PLACES) if opening > 0 or deposits > 0 else None
    return PeriodFigures(
        start=start,
        end=end,
        opening_value=opening,
        closing_value=closing,
        deposits=deposits,
        withdrawals=withdrawals,
        income=income,
        fees=fees,
        simple_return=simple,
        time_weighted_return=twr,
        holdings=book.state,
    )
