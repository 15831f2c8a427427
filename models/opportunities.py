"""Private-deal opportunities and investors' expressions of interest."""

from datetime import datetime
from enum import StrEnum

from beanie import DecimalAnnotation, PydanticObjectId

from models.base import TenantDocument, tenant_index
from models.money import ZERO


class OpportunityStatus(StrEnum):
    DRAFT = "DRAFT"
    OPEN = "OPEN"
    CLOSED = "CLOSED"
    FUNDED = "FUNDED"


class Opportunity(TenantDocument):
    name: str
    description: str
    sector: str | None = None
    sector_key: str | None = None  # normalized for filtering
    status: OpportunityStatus = OpportunityStatus.DRAFT
    target_raise: DecimalAnnotation
    minimum_investment: DecimalAnnotation
    raised_amount: DecimalAnnotation = ZERO
    closes_at: datetime | None = None
    created_by: PydanticObjectId

    class Settings:
        name = "opportunities"
        indexes = [
            tenant_index("status", "_id"),
            tenant_index("sector_key", "_id"),
        ]


class Interest(TenantDocument):
    opportunity_id: PydanticObjectId
    investor_id: PydanticObjectId

    class Settings:
        name = "interests"
        indexes = [tenant_index("opportunity_id", "investor_id", unique=True)]
