"""Users: the User type, the users/user/me queries and user administration mutations."""

from datetime import datetime
from typing import Annotated, Any

import strawberry
from strawberry.permission import PermissionExtension

from models import users as user_models
from models.permissions import Can
from resolvers.core.pagination import DEFAULT_PAGE_SIZE
from resolvers.users import people as use_cases
from schema.core.context import Info
from schema.core.domains import Domain
from schema.core.loaders import loaders
from schema.core.permissions import Allowed, IsAuthenticated, SeesPrivateUserFields
from schema.core.relay import Connection, to_connection

Role = user_models.Role
KycStatus = user_models.KycStatus
strawberry.enum(Role)
strawberry.enum(KycStatus)


def _private(*, nullable: bool = False) -> Any:
    """A field an INVESTOR sees only on themself: null on others where it may be null,
    else FORBIDDEN (schema.core.permissions.SeesPrivateUserFields)."""
    return strawberry.field(
        extensions=[
            PermissionExtension(
                [SeesPrivateUserFields()], use_directives=False, fail_silently=nullable
            )
        ]
    )


@strawberry.type
class User:
    id: strawberry.ID
    email: str
    full_name: str
    role: Role
    kyc_status: KycStatus = _private()
    created_at: datetime = _private()
    phone: str | None = _private(nullable=True)
    base_currency: str = _private()
    mfa_enabled: bool = _private()

    @classmethod
    def from_model(cls, user: user_models.User) -> "User":
        return cls(
            id=strawberry.ID(str(user.id)),
            email=user.email,
            full_name=user.full_name,
            role=user.role,
            kyc_status=user.kyc_status,
            created_at=user.created_at,
            phone=user.phone,
            base_currency=user.base_currency,
            mfa_enabled=user.mfa_enabled,
        )


async def load_user(info: Info, user_id: str) -> User:
    """A user another object names (its author, owner, assignee): users are never deleted."""
    doc = await loaders(info).users.load(user_id)
    assert doc is not None
    return User.from_model(doc)


@strawberry.input
class CreateUserInput:
    email: str
    full_name: str
    role: Role
    password: str | None = strawberry.field(
        default=None, description="Omit to send a single-use invitation instead."
    )


@strawberry.input
class UpdateProfileInput:
    full_name: str | None = None
    phone: str | None = None
    base_currency: str | None = None


@strawberry.type
class UserQueries:
    @strawberry.field(permission_classes=[IsAuthenticated])
    def me(self, info: Info) -> User:
        return User.from_model(info.context.require_principal().user)

    @strawberry.field(permission_classes=[IsAuthenticated])
    async def user(self, info: Info, id: strawberry.ID) -> User | None:
        return User.from_model(await use_cases.get_user(info.context, id))

    @strawberry.field(permission_classes=[Allowed(Can.READ_TENANT)])
    async def users(
        self,
        info: Info,
        first: int | None = DEFAULT_PAGE_SIZE,
        after: str | None = None,
        role: Role | None = None,
        search: Annotated[str | None, strawberry.argument(description="Name/email prefix")] = None,
    ) -> Connection[User]:
        page = await use_cases.list_users(info.context, first, after, role, search)
        return to_connection(page, User.from_model)


@strawberry.type
class UserMutations:
    @strawberry.mutation(permission_classes=[Allowed(Can.CREATE_USERS)])
    async def create_user(self, info: Info, input: CreateUserInput) -> User:
        new = use_cases.NewUser(
            email=input.email,
            full_name=input.full_name,
            role=input.role,
            password=input.password,
        )
        return User.from_model(await use_cases.create_user(info.context, new))

    @strawberry.mutation(permission_classes=[IsAuthenticated])
    async def update_profile(self, info: Info, input: UpdateProfileInput) -> User:
        changes = use_cases.ProfileChanges(
            full_name=input.full_name, phone=input.phone, base_currency=input.base_currency
        )
        return User.from_model(await use_cases.update_profile(info.context, changes))

    @strawberry.mutation(
        permission_classes=[Allowed(Can.REVIEW_KYC)], description="ADMIN/MANAGER, audited"
    )
    async def review_kyc(
        self, info: Info, user_id: strawberry.ID, status: KycStatus, reason: str | None = None
    ) -> User:
        return User.from_model(await use_cases.review_kyc(info.context, user_id, status, reason))


DOMAIN = Domain(queries=UserQueries, mutations=UserMutations)
