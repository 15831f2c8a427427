"""Rendering a monthly statement as a PDF (fpdf2; core fonts, uncompressed so the text
stays searchable and testable)."""

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from fpdf import FPDF

from resolvers.portfolios.performance import PeriodFigures


@dataclass(frozen=True)
class StatementHeader:
    tenant: str
    investor: str
    portfolio: str
    currency: str
    month: str
    generated_at: datetime


def _latin1(text: str) -> str:
    """Core PDF fonts cover Latin-1; anything else is shown as '?'."""
    return text.encode("latin-1", "replace").decode("latin-1")


def _money(value: Decimal) -> str:
    return f"{value:,.2f}"


def render(header: StatementHeader, figures: PeriodFigures) -> bytes:
    pdf = FPDF(format="A4")
    pdf.set_compression(False)
    pdf.set_creation_date(header.generated_at)
    pdf.set_title(_latin1(f"Statement {header.month} - {header.portfolio}"))
    pdf.set_author(_latin1(header.tenant))
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 16)
    pdf.cell(0, 10, _latin1(f"Monthly statement {header.month}"), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", size=10)
    for line in (
        f"Investor: {header.investor}",
        f"Portfolio: {header.portfolio} ({header.currency})",
        f"Period: {figures.start.isoformat()} to {figures.end.isoformat()}",
        f"Generated: {header.generated_at.strftime('%Y-%m-%d %H:%M UTC')}",
    ):
        pdf.cell(0, 6, _latin1(line), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    pdf.set_font("Helvetica", "B", 12)
    pdf.cell(0, 8, "Summary", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", size=10)
    with pdf.table(col_widths=(60, 40), text_align=("LEFT", "RIGHT")) as table:
        for label, value in (
            ("Opening value", figures.opening_value),
            ("Deposits", figures.deposits),
            ("Withdrawals", figures.withdrawals),
            ("Income", figures.income),
            ("Fees", figures.fees),
            ("Closing value", figures.closing_value),
        ):
            row = table.row()
            row.cell(label)
            row.cell(_money(value))
    pdf.ln(4)
    pdf.set_font("Helvetica", "B", 12)
    pdf.cell(0, 8, "Holdings at the end of the period", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", size=10)
    positions = sorted(figures.holdings.positions.items())
    if not positions:
        pdf.cell(0, 6, "No holdings.", new_x="LMARGIN", new_y="NEXT")
    else:
        with pdf.table(col_widths=(40, 40, 40), text_align=("LEFT", "RIGHT", "RIGHT")) as table:
            heading = table.row()
            for title in ("Symbol", "Quantity", "Cost basis"):
                heading.cell(title)
            for symbol, position in positions:
                row = table.row()
                row.cell(_latin1(symbol))
                row.cell(f"{position.quantity:,}")
                row.cell(_money(position.cost))
    pdf.ln(2)
    pdf.cell(0, 6, f"Cash: {_money(figures.holdings.cash)}", new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())
