"""The portfolio ledger's pure rules: applying one transaction to cash and positions."""

from dataclasses import dataclass, field, replace
from decimal import Decimal
from enum import StrEnum

from models.money import ZERO, round_half_up

QUANTITY_PLACES = Decimal("0.00000001")


class TransactionType(StrEnum):
    DEPOSIT = "DEPOSIT"
    WITHDRAWAL = "WITHDRAWAL"
    BUY = "BUY"
    SELL = "SELL"
    FEE = "FEE"
    INTEREST = "INTEREST"
    DISTRIBUTION = "DISTRIBUTION"


TRADES = frozenset({TransactionType.BUY, TransactionType.SELL})
INFLOWS = frozenset({TransactionType.DEPOSIT})
OUTFLOWS = frozenset({TransactionType.WITHDRAWAL})
INCOME = frozenset({TransactionType.INTEREST, TransactionType.DISTRIBUTION})


class LedgerConflict(Exception):
    """The transaction is well formed but the current state forbids it."""


@dataclass(frozen=True)
class Entry:
    type: TransactionType
    amount: Decimal
    symbol: str | None = None
    quantity: Decimal | None = None
    price: Decimal | None = None


@dataclass(frozen=True)
class Position:
    quantity: Decimal
    cost: Decimal  # total cost basis

    @property
    def average_cost(self) -> Decimal:
        return (self.cost / self.quantity).quantize(QUANTITY_PLACES) if self.quantity else ZERO


@dataclass(frozen=True)
class LedgerState:
    cash: Decimal = ZERO
    positions: dict[str, Position] = field(default_factory=dict)


def trade_amount(quantity: Decimal, price: Decimal) -> Decimal:
    return round_half_up(quantity * price)


def apply(state: LedgerState, entry: Entry) -> LedgerState:
    """The state after ``entry``; LedgerConflict when it would overdraw or oversell."""
    kind, amount = entry.type, entry.amount
    if kind in INFLOWS or kind in INCOME:
        return replace(state, cash=state.cash + amount)
    if kind in OUTFLOWS or kind is TransactionType.FEE:
        if amount > state.cash:
            raise LedgerConflict(f"Only {state.cash} cash is available")
        return replace(state, cash=state.cash - amount)
    assert entry.symbol is not None and entry.quantity is not None
    positions = dict(state.positions)
    held = positions.get(entry.symbol, Position(Decimal(0), ZERO))
    if kind is TransactionType.BUY:
        if amount > state.cash:
            raise LedgerConflict(f"Only {state.cash} cash is available for this purchase")
        positions[entry.symbol] = Position(held.quantity + entry.quantity, held.cost + amount)
        return LedgerState(cash=state.cash - amount, positions=positions)
    if entry.quantity > held.quantity:
        raise LedgerConflict(f"Only {held.quantity} {entry.symbol} is held")
    remaining = held.quantity - entry.quantity
    if remaining == 0:
        positions.pop(entry.symbol, None)
    else:
        positions[entry.symbol] = Position(remaining, held.cost * remaining / held.quantity)
    return LedgerState(cash=state.cash + amount, positions=positions)


def replay(entries: list[Entry]) -> LedgerState:
    state = LedgerState()
    for entry in entries:
        state = apply(state, entry)
    return state
