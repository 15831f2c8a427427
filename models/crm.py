"""The advisors' CRM: prospects moving through a sales pipeline, their activity timeline,
follow-up tasks and AML screening results, plus the pure stage-transition rules."""

from datetime import date, datetime
from enum import StrEnum

from beanie import DecimalAnnotation, PydanticObjectId
from pydantic import BaseModel, Field

from models.base import TenantDocument, tenant_index


class ProspectStage(StrEnum):
    LEAD = "LEAD"
    QUALIFIED = "QUALIFIED"
    PROPOSAL = "PROPOSAL"
    NEGOTIATION = "NEGOTIATION"
    WON = "WON"
    LOST = "LOST"


FUNNEL = (
    ProspectStage.LEAD,
    ProspectStage.QUALIFIED,
    ProspectStage.PROPOSAL,
    ProspectStage.NEGOTIATION,
    ProspectStage.WON,
)
OPEN_STAGES = frozenset(FUNNEL[:-1])


def move_allowed(source: ProspectStage, target: ProspectStage) -> bool:
    """Forward one funnel step at a time; LOST from any open stage; LOST re-opens to LEAD."""
    if source in OPEN_STAGES and target is ProspectStage.LOST:
        return True
    if source is ProspectStage.LOST:
        return target is ProspectStage.LEAD
    if source in OPEN_STAGES:
        return FUNNEL.index(target) == FUNNEL.index(source) + 1 if target in FUNNEL else False
    return False  # WON is final


class AmlResult(StrEnum):
    CLEAR = "CLEAR"
    HIT = "HIT"
    MANUAL_REVIEW = "MANUAL_REVIEW"
    APPROVED = "APPROVED"
    REJECTED = "REJECTED"


CONVERTIBLE_AML = frozenset({AmlResult.CLEAR, AmlResult.APPROVED})


class StageChange(BaseModel):
    """One entry of a prospect's stage history; ``from_stage`` is None at creation."""

    from_stage: ProspectStage | None
    to_stage: ProspectStage
    at: datetime
    by: PydanticObjectId


class AmlCheck(BaseModel):
    """One screening: automatic (against the sanctions list) or manual (by a person)."""

    result: AmlResult
    automatic: bool
    at: datetime
    by: PydanticObjectId
    note: str | None = None
    matched_entry_id: str | None = None
    matched_name: str | None = None
    score: float | None = None
    list_source: str | None = None


class Prospect(TenantDocument):
    full_name: str
    email: str
    expected_amount: DecimalAnnotation | None = None
    stage: ProspectStage = ProspectStage.LEAD
    owner_id: PydanticObjectId
    created_by: PydanticObjectId
    aml_result: AmlResult | None = None  # None: not screened yet
    aml_checks: list[AmlCheck] = Field(default_factory=list)
    stage_history: list[StageChange] = Field(default_factory=list)
    converted_user_id: PydanticObjectId | None = None
    converting: bool = False  # claimed by one convertProspect call

    class Settings:
        name = "prospects"
        indexes = [
            tenant_index("stage", "_id"),
            tenant_index("owner_id", "_id"),
            tenant_index("email", unique=True),
        ]


class ActivityKind(StrEnum):
    CALL = "CALL"
    EMAIL = "EMAIL"
    MEETING = "MEETING"
    NOTE = "NOTE"


class Activity(TenantDocument):
    prospect_id: PydanticObjectId
    kind: ActivityKind
    text: str
    author_id: PydanticObjectId
    occurred_at: datetime

    class Settings:
        name = "prospect_activities"
        indexes = [tenant_index("prospect_id", "_id")]


class ProspectTask(TenantDocument):
    prospect_id: PydanticObjectId
    title: str
    due_date: date
    assignee_id: PydanticObjectId
    created_by: PydanticObjectId
    done: bool = False
    done_at: datetime | None = None
    done_by: PydanticObjectId | None = None

    class Settings:
        name = "prospect_tasks"
        indexes = [tenant_index("prospect_id", "_id"), tenant_index("assignee_id", "done")]
