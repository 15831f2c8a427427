"""GraphQL over real HTTP: a real GraphQL client, health routes, GraphiQL, request ids,
masked errors."""

import pytest
from gql import Client, gql
from gql.transport.exceptions import TransportQueryError
from gql.transport.httpx import HTTPXAsyncTransport

import resolvers.users.people


async def test_real_graphql_client_runs_query_and_mutation(base_url, world):
    admin = world("acme", "admin")
    transport = HTTPXAsyncTransport(
        url=f"{base_url}/graphql", headers={"authorization": f"Bearer {admin.token}"}
    )
    async with Client(transport=transport, fetch_schema_from_transport=True) as session:
        me = await session.execute(gql("{ me { email role kycStatus } }"))
        assert me["me"] == {"email": "admin@acme.test", "role": "ADMIN", "kycStatus": "NOT_STARTED"}
        created = await session.execute(
            gql("mutation($i: CreateUserInput!) { createUser(input: $i) { email role } }"),
            variable_values={
                "i": {"email": "New@Acme.test", "fullName": "New Person", "role": "INVESTOR"}
            },
        )
        assert created["createUser"] == {"email": "new@acme.test", "role": "INVESTOR"}
        with pytest.raises(TransportQueryError) as info:
            await session.execute(gql('{ user(id: "000000000000000000000000") { id } }'))
        assert info.value.errors[0]["extensions"]["code"] == "NOT_FOUND"


async def test_health_routes(api):
    live = await api.client.get(f"{api.base_url}/health")
    assert (live.status_code, live.json()) == (200, {"status": "ok"})
    ready = await api.client.get(f"{api.base_url}/health/ready")
    assert ready.status_code == 200
    assert ready.json()["checks"] == {"mongodb": "ok", "broker": "ok", "worker": "active"}


async def test_graphiql_is_served_when_enabled(api):
    page = await api.client.get(f"{api.base_url}/graphql", headers={"accept": "text/html"})
    assert page.status_code == 200
    assert "graphiql" in page.text.lower()


async def test_request_id_is_echoed_or_assigned(api):
    mine = await api.client.get(f"{api.base_url}/health", headers={"x-request-id": "abc-12345678"})
    assert mine.headers["x-request-id"] == "abc-12345678"
    forged = await api.client.get(f"{api.base_url}/health", headers={"x-request-id": "<script>"})
    assert forged.headers["x-request-id"] != "<script>"
    assert len(forged.headers["x-request-id"]) == 32


async def test_unexpected_errors_are_masked_and_carry_the_request_id(api, world, monkeypatch):
    async def broken(*_args, **_kwargs):
        raise RuntimeError("db password is hunter2")

    monkeypatch.setattr(resolvers.users.people, "get_user", broken)
    admin = world("acme", "admin")
    result = await api.gql(
        '{ user(id: "000000000000000000000000") { id } }',
        token=admin.token,
        headers={"x-request-id": "req-0123456789"},
    )
    assert result.code == "INTERNAL_SERVER_ERROR"
    assert "hunter2" not in str(result.body)
    assert result.errors[0]["extensions"]["requestId"] == "req-0123456789"


async def test_malformed_http_bodies_are_rejected(api):
    url = f"{api.base_url}/graphql"
    not_json = await api.client.post(
        url, content=b"{nope", headers={"content-type": "application/json"}
    )
    assert not_json.status_code == 400
    no_query = await api.client.post(url, json={"variables": {}})
    assert no_query.status_code == 400
