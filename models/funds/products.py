"""Fund products (seeded per tenant, editable by an ADMIN) and invitations to
invitation-only products."""

from decimal import Decimal

from beanie import DecimalAnnotation, PydanticObjectId

from models.base import TenantDocument, tenant_index
from models.funds.payouts import INCUBATION_MONTHS, TERM_MONTHS, Terms


class FundProduct(TenantDocument):
    code: str
    name: str
    minimum_investment: DecimalAnnotation
    monthly_rate: DecimalAnnotation | None
    payout_every_months: int | None
    incubation_months: int = INCUBATION_MONTHS
    term_months: int = TERM_MONTHS
    invitation_only: bool = False

    class Settings:
        name = "fund_products"
        indexes = [tenant_index("code", unique=True)]

    @property
    def terms(self) -> Terms:
        return Terms(
            monthly_rate=self.monthly_rate,
            payout_every_months=self.payout_every_months,
            incubation_months=self.incubation_months,
            term_months=self.term_months,
        )


def default_products(tenant_id: PydanticObjectId) -> list[FundProduct]:
    """The four products of fund-rules.md."""
    rows = [
        ("CORE", "Fidus Core", "10000.00", "0.015", 1, False),
        ("BALANCE", "Fidus Balance", "50000.00", "0.025", 3, False),
        ("DYNAMIC", "Fidus Dynamic", "250000.00", "0.035", 6, True),
        ("UNLIMITED", "Fidus Unlimited", "250000.00", None, None, False),
    ]
    return [
        FundProduct(
            tenant_id=tenant_id,
            code=code,
            name=name,
            minimum_investment=Decimal(minimum),
            monthly_rate=Decimal(rate) if rate else None,
            payout_every_months=every,
            invitation_only=invitation_only,
        )
        for code, name, minimum, rate, every, invitation_only in rows
    ]


class FundInvitation(TenantDocument):
    investor_id: PydanticObjectId
    fund_code: str
    invited_by: PydanticObjectId

    class Settings:
        name = "fund_invitations"
        indexes = [tenant_index("investor_id", "fund_code", unique=True)]
