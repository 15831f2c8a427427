"""Service tokens: hashed at rest, scoped, revocable, tenant-bound."""

import pytest

from models.errors import Forbidden, Unauthenticated
from models.identity import ServiceToken
from resolvers.core.context import RequestContext
from resolvers.identity import service_tokens

CREATE = """mutation($n: String!, $s: [String!]!) { createServiceToken(name: $n, scopes: $s) {
  id name scopes token } }"""
LIST = "{ serviceTokens { id name scopes token } }"
REVOKE = "mutation($id: ID!) { revokeServiceToken(id: $id) }"


async def test_token_is_shown_once_stored_hashed_and_authenticates(api, world, runtime):
    admin = world("acme", "admin")
    created = (
        await api.gql(CREATE, {"n": "MT5 bridge", "s": ["mt5:ingest"]}, token=admin.token)
    ).ok()["createServiceToken"]
    secret = created["token"]
    assert secret.startswith("fst_") and len(secret) > 40
    listed = (await api.gql(LIST, token=admin.token)).ok()["serviceTokens"]
    assert listed == [
        {"id": created["id"], "name": "MT5 bridge", "scopes": ["mt5:ingest"], "token": None}
    ]
    stored = await ServiceToken.get(created["id"])
    assert secret not in str(stored.model_dump())

    ctx = RequestContext(services=runtime.services)
    caller = await service_tokens.authenticate(secret, "mt5:ingest", ctx)
    assert str(caller.tenant_id) == str(stored.tenant_id)
    with pytest.raises(Forbidden):
        await service_tokens.authenticate(secret, "admin:everything", ctx)

    assert (await api.gql(REVOKE, {"id": created["id"]}, token=admin.token)).ok()
    with pytest.raises(Unauthenticated):
        await service_tokens.authenticate(secret, "mt5:ingest", ctx)
    assert (await api.gql(REVOKE, {"id": created["id"]}, token=admin.token)).code == "CONFLICT"
    assert (await api.gql(LIST, token=admin.token)).ok()["serviceTokens"] == []


async def test_service_token_input_is_validated(api, world):
    admin = world("acme", "admin")
    for name, scopes, field in [
        ("", ["mt5:ingest"], "name"),
        ("x" * 101, ["mt5:ingest"], "name"),
        ("ok", [], "scopes"),
        ("ok", ["root"], "scopes"),
    ]:
        result = await api.gql(CREATE, {"n": name, "s": scopes}, token=admin.token)
        assert (result.code, result.errors[0]["extensions"]["field"]) == ("BAD_USER_INPUT", field)


async def test_a_token_of_another_tenant_cannot_be_revoked(api, world):
    theirs = (
        await api.gql(
            CREATE, {"n": "theirs", "s": ["mt5:ingest"]}, token=world("globex", "admin").token
        )
    ).ok()["createServiceToken"]
    result = await api.gql(REVOKE, {"id": theirs["id"]}, token=world("acme", "admin").token)
    assert result.code == "NOT_FOUND"
    assert (await ServiceToken.get(theirs["id"])).revoked_at is None


async def test_access_tokens_are_not_service_tokens(world, runtime):
    ctx = RequestContext(services=runtime.services)
    with pytest.raises(Unauthenticated):
        await service_tokens.authenticate(world("acme", "admin").token, "mt5:ingest", ctx)
