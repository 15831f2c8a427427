"""Monthly statement PDFs, generated on demand and stored as STATEMENT documents owned by
the portfolio's investor (so the investor sees them with their other documents)."""

import calendar
import hashlib
import re
from datetime import date

from models.documents.records import DocumentCategory, DocumentRecord
from models.errors import BadUserInput, Forbidden
from models.tenants import Tenant
from models.users import STAFF_ROLES, User
from resolvers.audit import trail as audit
from resolvers.core.context import RequestContext
from resolvers.documents import files as document_files
from resolvers.portfolios.ledger import get_portfolio
from resolvers.portfolios.performance import period_figures
from resolvers.portfolios.statement_pdf import StatementHeader, render

_MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")


def month_bounds(month: str, today: date) -> tuple[date, date]:
    """First and last day of a YYYY-MM month that has started (the current month ends
    today)."""
    found = _MONTH.fullmatch(month.strip()) if len(month) <= 10 else None
    if found is None:
        raise BadUserInput("month must be YYYY-MM", field="month")
    year, number = int(found.group(1)), int(found.group(2))
    start = date(year, number, 1)
    if start > today or year < 1970:
        raise BadUserInput("That month has not started", field="month")
    end = start.replace(day=calendar.monthrange(year, number)[1])
    return start, min(end, today)


async def generate(ctx: RequestContext, raw_portfolio_id: str, month: str) -> DocumentRecord:
    """The portfolio's owner or ADMIN/MANAGER; each call stores a new document (figures
    can change with back-dated ledger entries; earlier statements stay as they were)."""
    principal = ctx.require_principal()
    portfolio = await get_portfolio(ctx, raw_portfolio_id, field="portfolioId")
    if principal.role not in STAFF_ROLES and portfolio.owner_id != principal.user_id:
        raise Forbidden("Only the investor or ADMIN/MANAGER generate statements")
    now = ctx.now()
    start, end = month_bounds(month, now.date())
    figures = await period_figures(ctx, portfolio, start, end)
    owner = await User.find_one({"_id": portfolio.owner_id, "tenant_id": portfolio.tenant_id})
    tenant = await Tenant.get(portfolio.tenant_id)
    assert owner is not None and owner.id is not None
    header = StatementHeader(
        tenant=tenant.name if tenant is not None else "",
        investor=owner.full_name,
        portfolio=portfolio.name,
        currency=portfolio.base_currency,
        month=month.strip(),
        generated_at=now,
    )
    data = render(header, figures)
    filename = f"statement-{header.month}.pdf"
    doc = DocumentRecord(
        tenant_id=portfolio.tenant_id,
        owner_id=owner.id,
        category=DocumentCategory.STATEMENT,
        filename=filename,
        content_type="application/pdf",
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        file_id=await document_files.put_bytes(data, filename, portfolio.tenant_id),
        uploaded_by=principal.user_id,
    )
    await doc.insert()
    await audit.record(
        ctx, "statement.generate", "Document", doc.id, portfolio=str(portfolio.id), month=month
    )
    return doc
