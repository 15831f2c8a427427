"""MetaTrader 5 accounts (latest snapshot, mapping to a fund and portfolio) and deals, and
the profit-share rule of the UNLIMITED product (fund-rules.md)."""

from decimal import Decimal
from typing import Any

from beanie import DecimalAnnotation, PydanticObjectId
from pydantic import Field

from models.base import TenantDocument, tenant_index
from models.money import ZERO, round_half_up

# MT5's enumerations in their numeric order (ENUM_POSITION_TYPE, ENUM_DEAL_TYPE,
# ENUM_DEAL_ENTRY), named as a snapshot carries them
POSITION_TYPES = ("BUY", "SELL")
DEAL_TYPES = (
    "BUY",
    "SELL",
    "BALANCE",
    "CREDIT",
    "CHARGE",
    "CORRECTION",
    "BONUS",
    "COMMISSION",
    "COMMISSION_DAILY",
    "COMMISSION_MONTHLY",
    "COMMISSION_AGENT_DAILY",
    "COMMISSION_AGENT_MONTHLY",
    "INTEREST",
    "BUY_CANCELED",
    "SELL_CANCELED",
    "DIVIDEND",
    "DIVIDEND_FRANKED",
    "TAX",
)
TRADE_DEAL_TYPES = frozenset({"BUY", "SELL", "BUY_CANCELED", "SELL_CANCELED"})
DEAL_ENTRIES = ("IN", "OUT", "INOUT", "OUT_BY")


class Mt5Account(TenantDocument):
    login: int
    server: str
    currency: str
    leverage: int = 0
    balance: DecimalAnnotation = ZERO
    equity: DecimalAnnotation = ZERO
    margin: DecimalAnnotation = ZERO
    profit: DecimalAnnotation = ZERO
    time_msc: int = 0
    positions: list[dict[str, Any]] = Field(default_factory=list)
    fund_code: str | None = None
    initial_allocation: DecimalAnnotation | None = None
    portfolio_id: PydanticObjectId | None = None

    class Settings:
        name = "mt5_accounts"
        indexes = [tenant_index("login", "server", unique=True), tenant_index("fund_code")]


class Mt5Deal(TenantDocument):
    account_id: PydanticObjectId
    ticket: int
    symbol: str
    type: str
    entry: str
    volume: DecimalAnnotation
    price: DecimalAnnotation
    profit: DecimalAnnotation
    commission: DecimalAnnotation = ZERO
    swap: DecimalAnnotation = ZERO
    time_msc: int

    class Settings:
        name = "mt5_deals"
        indexes = [tenant_index("account_id", "ticket", unique=True)]


def profit_share_value(
    amount: Decimal, fund_equity: Decimal, fund_allocation: Decimal, invested_total: Decimal
) -> Decimal:
    """Value of an UNLIMITED investment: amount + its share of the fund's profit, 50% of a
    gain, all of a loss. Share = amount ÷ all UNLIMITED investments."""
    if invested_total <= 0 or fund_allocation <= 0:
        return amount
    profit = fund_equity - fund_allocation
    split = profit / 2 if profit > 0 else profit
    return round_half_up(amount + amount / invested_total * split)
