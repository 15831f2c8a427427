"""GDPR/POPIA subject rights: export everything about a user, erase a user. Both are
mutations: an export is audited (and rate-limited like writes), an erasure changes data."""

from typing import Annotated, cast

import strawberry
from strawberry.scalars import JSON

from models.permissions import Can
from resolvers.privacy import erasure as privacy_erase
from resolvers.privacy import export as privacy_export
from schema.core.context import Info
from schema.core.domains import Domain
from schema.core.permissions import Allowed, IsAuthenticated
from schema.users import User


@strawberry.type
class PrivacyMutations:
    @strawberry.mutation(
        permission_classes=[IsAuthenticated],
        description="All personal data of a user as one JSON document (no secrets). ADMIN: "
        "anyone of the tenant; everyone: themself (pass your own id). Audited.",
    )
    async def export_user_data(self, info: Info, user_id: strawberry.ID) -> JSON:
        export = await privacy_export.export_user_data(info.context, str(user_id))
        return cast(JSON, export)

    @strawberry.mutation(
        permission_classes=[Allowed(Can.ERASE_USERS)],
        description="ADMIN: erase a user's personal data (the ledger and the audit log are "
        "kept under a pseudonym). Resumable: call again to finish an interrupted erasure.",
    )
    async def erase_user(
        self,
        info: Info,
        user_id: strawberry.ID,
        confirm: Annotated[str, strawberry.argument(description="The user's email address")],
    ) -> User:
        erased = await privacy_erase.erase_user(info.context, str(user_id), confirm)
        return User.from_model(erased)


DOMAIN = Domain(mutations=PrivacyMutations)
