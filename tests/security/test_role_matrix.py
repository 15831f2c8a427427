"""Role × operation × tenant matrix. Every operation of the API is listed here with the
roles that may call it; later domains add their rows to OPERATIONS.

For each row: every role is tried (allowed → data, else the listed denial code), an
anonymous call is UNAUTHENTICATED, and ids from the other tenant are NOT_FOUND."""

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest

from tests.conftest import World

ROLES = ("admin", "manager", "analyst", "investor")
ALL = frozenset(ROLES)
READERS = frozenset({"admin", "manager", "analyst"})
STAFF = frozenset({"admin", "manager"})
ADMIN = frozenset({"admin"})


@dataclass(frozen=True)
class Op:
    name: str
    document: str
    allowed: frozenset[str]
    variables: Callable[[World, str], dict[str, Any]] = lambda world, tenant: {}
    denied_code: str = "FORBIDDEN"
    cross_tenant: bool = False  # variables name an object: the other tenant's is NOT_FOUND
    tags: tuple[str, ...] = field(default=())


def _investor2(world: World, tenant: str) -> dict[str, Any]:
    return {"id": world(tenant, "investor2").id}


def _new_email(world: World, tenant: str) -> dict[str, Any]:
    return {"e": f"new-{uuid.uuid4().hex[:10]}@{tenant}.test"}


OPERATIONS: list[Op] = [
    Op("me", "{ me { id } }", ALL),
    Op("sessions", "{ sessions { id } }", ALL),
    Op(
        "user(other)",
        "query($id: ID!) { user(id: $id) { id } }",
        READERS,
        _investor2,
        denied_code="NOT_FOUND",
        cross_tenant=True,
    ),
    Op("users", "{ users { edges { node { id } } } }", READERS),
    Op("serviceTokens", "{ serviceTokens { id } }", ADMIN),
    Op(
        "createUser(INVESTOR)",
        "mutation($e: String!) { createUser(input: "
        '{email: $e, fullName: "N", role: INVESTOR}) { id } }',
        STAFF,
        _new_email,
    ),
    Op(
        "createUser(ANALYST)",
        "mutation($e: String!) { createUser(input: "
        '{email: $e, fullName: "N", role: ANALYST}) { id } }',
        ADMIN,
        _new_email,
    ),
    Op("updateProfile", 'mutation { updateProfile(input: {phone: "+41791234567"}) { id } }', ALL),
    Op(
        "reviewKyc",
        "mutation($id: ID!) { reviewKyc(userId: $id, status: PENDING) { id } }",
        STAFF,
        _investor2,
        cross_tenant=True,
    ),
    Op(
        "createServiceToken",
        'mutation { createServiceToken(name: "b", scopes: ["mt5:ingest"]) { id } }',
        ADMIN,
    ),
    Op("enrollMfa", "mutation { enrollMfa { secret } }", ALL),
]


@pytest.mark.parametrize("op", OPERATIONS, ids=lambda op: op.name)
async def test_role_matrix(api, world, op: Op) -> None:
    for role in ROLES:
        caller = world("acme", role)
        result = await api.gql(op.document, op.variables(world, "acme"), token=caller.token)
        if role in op.allowed:
            assert not result.errors, (role, result.errors)
        else:
            assert result.code == op.denied_code, (role, result.body)


@pytest.mark.parametrize("op", OPERATIONS, ids=lambda op: op.name)
async def test_anonymous_calls_are_unauthenticated(api, world, op: Op) -> None:
    result = await api.gql(op.document, op.variables(world, "acme"))
    assert result.code == "UNAUTHENTICATED"


@pytest.mark.parametrize("op", [op for op in OPERATIONS if op.cross_tenant], ids=lambda op: op.name)
async def test_ids_of_another_tenant_are_not_found(api, world, op: Op) -> None:
    for role in op.allowed:
        caller = world("acme", role)
        result = await api.gql(op.document, op.variables(world, "globex"), token=caller.token)
        assert result.code == "NOT_FOUND", (role, result.body)


async def test_investor_sees_only_themself(api, world) -> None:
    investor = world("acme", "investor")
    own = await api.gql(
        "query($id: ID!) { user(id: $id) { email } }", {"id": investor.id}, token=investor.token
    )
    assert own.ok()["user"]["email"] == investor.email
