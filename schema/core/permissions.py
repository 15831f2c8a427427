"""Strawberry permission classes. They raise the contract's coded errors directly, so the
client sees UNAUTHENTICATED (with the reason) or FORBIDDEN. Role rules are the ones named
in models.permissions (``Allowed(Can.MANAGE_EVENTS)``)."""

from functools import cache
from typing import Any

from strawberry.permission import BasePermission

from models.errors import Forbidden, Unauthenticated
from models.permissions import Rule
from models.users import Role
from resolvers.core.context import RequestContext


class IsAuthenticated(BasePermission):
    message = "Authentication required"

    def has_permission(self, source: Any, info: Any, **kwargs: Any) -> bool:
        context: RequestContext = info.context
        if context.principal is None:
            raise Unauthenticated(context.auth_error or self.message)
        return True


class _RulePermission(IsAuthenticated):
    rule: Rule

    def has_permission(self, source: Any, info: Any, **kwargs: Any) -> bool:
        super().has_permission(source, info, **kwargs)
        if not self.rule.allows(info.context.principal.role):
            raise Forbidden(self.rule.message)
        return True


@cache
def Allowed(rule: Rule) -> type[BasePermission]:  # a class factory, named like the classes
    """The permission class of ``rule`` (Strawberry takes classes): signed in, and a role
    that has the capability. One class per rule."""
    name = "Can" + rule.name.title().replace("_", "")  # Can.READ_TENANT: CanReadTenant
    return type(name, (_RulePermission,), {"rule": rule, "__module__": __name__})


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
