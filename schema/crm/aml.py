"""A prospect's AML checks: automatic screens and results recorded by staff."""

from datetime import datetime

import strawberry

from models import crm as models
from schema.core.context import Info
from schema.users import User, load_user

AmlResult = models.AmlResult
strawberry.enum(AmlResult)


@strawberry.type
class AmlCheck:
    result: AmlResult
    automatic: bool
    at: datetime
    note: str | None
    matched_entry_id: str | None
    matched_name: str | None
    score: float | None = strawberry.field(description="0-100, best over names and aliases")
    list_source: str | None
    by_id: strawberry.Private[str]

    @classmethod
    def from_model(cls, check: models.AmlCheck) -> "AmlCheck":
        return cls(
            result=check.result,
            automatic=check.automatic,
            at=check.at,
            note=check.note,
            matched_entry_id=check.matched_entry_id,
            matched_name=check.matched_name,
            score=check.score,
            list_source=check.list_source,
            by_id=str(check.by),
        )

    @strawberry.field
    async def by(self, info: Info) -> User:
        return await load_user(info, self.by_id)
