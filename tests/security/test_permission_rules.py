"""Role rules are named once (models.permissions.Can) and the schema's root fields use only
them: a field is open to every signed-in user (IsAuthenticated), guarded by a rule
(Allowed(Can.X)), or open to anyone (sign-in, password reset). What each role gets from
each operation is proven end to end by test_role_matrix.py."""

from strawberry.types.base import get_object_definition

from models.permissions import Can, Rule
from schema import DOMAINS
from schema.core.domains import roots
from schema.core.permissions import Allowed, IsAuthenticated

RULES = {name: rule for name, rule in vars(Can).items() if isinstance(rule, Rule)}


def test_every_rule_knows_its_name_and_has_roles():
    assert RULES
    for name, rule in RULES.items():
        assert rule.name == name
        assert rule.roles, name


def test_a_rule_has_one_permission_class():
    assert Allowed(Can.MANAGE_EVENTS) is Allowed(Can.MANAGE_EVENTS)
    assert Allowed(Can.MANAGE_EVENTS) is not Allowed(Can.MANAGE_OPPORTUNITIES)
    assert Allowed(Can.READ_TENANT).__name__ == "CanReadTenant"


def test_root_fields_check_roles_only_through_named_rules():
    by_rule = {Allowed(rule): rule for rule in RULES.values()}
    guarded = set()
    for root in ("queries", "mutations", "subscriptions"):
        for cls in roots(DOMAINS, root):
            for field in get_object_definition(cls, strict=True).fields:
                for permission in field.permission_classes:
                    assert permission is IsAuthenticated or permission in by_rule, (
                        f"{cls.__name__}.{field.python_name}: {permission.__name__}"
                    )
                    guarded.update([by_rule[permission]] if permission in by_rule else [])
    unused = {rule.name for rule in RULES.values()} - {rule.name for rule in guarded}
    # rules the use cases hold themselves (their fields are open to every signed-in user)
    assert unused == {
        "CONVERSE",
        "CREATE_INVESTMENTS",
        "INVEST_IN_OPPORTUNITIES",
        "REQUEST_REDEMPTIONS",
        "UPLOAD_DOCUMENTS",
    }
