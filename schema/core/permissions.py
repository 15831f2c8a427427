"""Strawberry permission classes. They raise the contract's coded errors directly, so the
client sees UNAUTHENTICATED (with the reason) or FORBIDDEN."""

from typing import Any

from strawberry.permission import BasePermission

from models.errors import Forbidden, Unauthenticated
from models.users import STAFF_ROLES, TENANT_READERS, Role
from resolvers.core.context import RequestContext


class IsAuthenticated(BasePermission):
    message = "Authentication required"

    def has_permission(self, source: Any, info: Any, **kwargs: Any) -> bool:
        context: RequestContext = info.context
        if context.principal is None:
            raise Unauthenticated(context.auth_error or self.message)
        return True


class _RolePermission(IsAuthenticated):
    roles: frozenset[Role] = frozenset()

    def has_permission(self, source: Any, info: Any, **kwargs: Any) -> bool:
        super().has_permission(source, info, **kwargs)
        principal = info.context.principal
        if principal.role not in self.roles:
            raise Forbidden("Your role does not allow this operation")
        return True


class IsAdmin(_RolePermission):
    roles = frozenset({Role.ADMIN})


class IsStaff(_RolePermission):
    """ADMIN or MANAGER: may change tenant data."""

    roles = STAFF_ROLES


class CanReadTenant(_RolePermission):
    """ADMIN, MANAGER or ANALYST: may read across the tenant."""

    roles = TENANT_READERS


class SeesPrivateUserFields(BasePermission):
    """The private fields of a User (KYC, MFA, phone, ...): an INVESTOR sees them only on
    themself; of anyone else (their advisor, a message's sender, a co-signer) only the
    public ones (id, name, role, email). Staff and analysts see them across their tenant,
    and a user being signed in (no principal yet) is the caller themself."""

    message = "Only the user themself and staff may see this field"

    def has_permission(self, source: Any, info: Any, **kwargs: Any) -> bool:
        principal = info.context.principal
        if principal is None or principal.role is not Role.INVESTOR:
            return True
        return str(source.id) == str(principal.user_id)

    def on_unauthorized(self) -> None:
        raise Forbidden(self.message)


class CanChangeSharing(_RolePermission):
    """ADMIN or MANAGER, or an INVESTOR for what they own: not ANALYST, who only reads
    (even a document of their own)."""

    roles = STAFF_ROLES | {Role.INVESTOR}
