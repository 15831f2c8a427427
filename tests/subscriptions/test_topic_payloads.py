"""The typed payloads of the live topics survive encode → decode unchanged, on the JSON
wire format the previous dict payloads used (mixed-version processes understand each other)."""

from datetime import UTC, datetime
from decimal import Decimal

import orjson

from subscriptions.messaging import MessagePayload
from subscriptions.payloads import DocumentRef
from subscriptions.portfolios import PortfolioUpdatePayload, ValuationMark

NOW = datetime(2026, 1, 2, 3, 4, 5, 678000, tzinfo=UTC)


def test_portfolio_update_round_trips_with_exact_decimals():
    update = PortfolioUpdatePayload(
        "p1", NOW, Decimal("10.10"), Decimal("0.00"), Decimal("10.1"), "TICK"
    )
    assert PortfolioUpdatePayload.decode(update.encode()) == update
    assert orjson.loads(update.encode()) == {
        "portfolioId": "p1",
        "asOf": NOW.isoformat(),
        "totalValue": "10.10",
        "marketValue": "0.00",
        "cash": "10.1",
        "reason": "TICK",
    }


def test_valuation_marks_name_a_portfolio_or_symbols():
    one = ValuationMark("t1", "TRANSACTION", portfolio_id="p1")
    prices = ValuationMark("t1", "TICK", symbols=("EURUSD", "XAUUSD"))
    assert ValuationMark.decode(one.encode()) == one
    assert ValuationMark.decode(prices.encode()) == prices
    assert orjson.loads(one.encode()) == {
        "tenant": "t1",
        "portfolio": "p1",
        "reason": "TRANSACTION",
    }
    assert orjson.loads(prices.encode())["symbols"] == ["EURUSD", "XAUUSD"]


def test_message_and_id_payloads_round_trip():
    message = MessagePayload("m1", "c1", "u1", "Hello — ünïcode", NOW)
    assert MessagePayload.decode(message.encode()) == message
    assert set(orjson.loads(message.encode())) == {
        "id",
        "conversationId",
        "senderId",
        "body",
        "sentAt",
    }
    named = DocumentRef("o1")
    assert DocumentRef.decode(named.encode()) == named
    assert orjson.loads(named.encode()) == {"id": "o1"}
