"""Persisted queries (Apollo's automatic persisted queries protocol) over real HTTP and a
real WebSocket: lookup by hash, registration by signed-in clients, hash checks, the
enforced mode that refuses unregistered operations on both transports, and manifests
loaded with `fidus persisted-queries register`."""

import asyncio
import json
import os
import sys

import pytest
from gql import Client, gql
from gql.transport.exceptions import TransportQueryError

from models.persisted_queries import PersistedQuery
from resolvers.persisted_queries import sha256_of
from tests.transport.test_websocket import transport

ME = "query Me { me { email } }"


async def post(api, body, token=None):
    headers = {"authorization": f"Bearer {token}"} if token else {}
    response = await api.client.post(f"{api.base_url}/graphql", json=body, headers=headers)
    return response.json()


def by_hash(query: str, with_text: bool = False, sha: str | None = None) -> dict:
    body: dict = {
        "extensions": {"persistedQuery": {"version": 1, "sha256Hash": sha or sha256_of(query)}}
    }
    if with_text:
        body["query"] = query
    return body


async def test_automatic_persisted_queries(api, world):
    investor = world("acme", "investor")
    unknown = await post(api, by_hash(ME), investor.token)
    assert unknown["errors"][0]["message"] == "PersistedQueryNotFound"
    assert unknown["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    first = await post(api, by_hash(ME, with_text=True), investor.token)
    assert first["data"] == {"me": {"email": investor.email}}
    again = await post(api, by_hash(ME), investor.token)
    assert again["data"] == {"me": {"email": investor.email}}
    wrong = await post(api, by_hash(ME, with_text=True, sha="0" * 64), investor.token)
    assert wrong["errors"][0]["message"] == "provided sha256Hash does not match the query"
    malformed = await post(api, by_hash(ME, sha="XYZ"), investor.token)
    assert malformed["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


async def test_anonymous_callers_do_not_fill_the_registry(api):
    query = "query Anonymous { __typename }"
    ran = await post(api, by_hash(query, with_text=True))
    assert ran["data"] == {"__typename": "Query"}
    assert await PersistedQuery.find({"sha256": sha256_of(query)}).count() == 0


@pytest.fixture
def enforced(runtime, monkeypatch):
    monkeypatch.setattr(runtime.services, "persisted_queries", "only")


async def test_only_registered_operations_run_when_enforced(api, world, base_url, enforced):
    investor = world("acme", "investor")
    raw = await post(api, {"query": ME}, investor.token)
    assert raw["errors"][0]["message"] == "Only registered (persisted) queries are accepted"
    offered = await post(api, by_hash(ME, with_text=True), investor.token)
    assert offered["errors"][0]["message"] == "PersistedQueryNotFound"  # no registration
    await PersistedQuery(sha256=sha256_of(ME), query=ME, source="manifest").insert()
    assert (await post(api, by_hash(ME), investor.token))["data"]["me"]
    assert (await post(api, {"query": ME}, investor.token))["data"]["me"]  # registered text

    ticks = 'subscription { ticks(symbols: ["PQ"]) { bid } }'
    async with Client(transport=transport(base_url, investor.token)) as session:
        with pytest.raises(TransportQueryError) as refused:
            async for _ in session.subscribe(gql(ticks)):
                raise AssertionError("an unregistered subscription streamed")
    assert refused.value.errors[0]["message"] == "Only registered (persisted) queries are accepted"


async def test_manifests_are_registered_from_the_command_line(api, world, settings, tmp_path):
    other = "query Funds { funds { code } }"
    manifest = tmp_path / "manifest.json"
    manifest.write_text(
        json.dumps(
            {
                "format": "apollo-persisted-query-manifest",
                "version": 1,
                "operations": [
                    {"id": sha256_of(ME), "name": "Me", "type": "query", "body": ME},
                    {"id": sha256_of(other), "name": "Funds", "type": "query", "body": other},
                ],
            }
        )
    )
    env = {
        **os.environ,
        "MONGODB_URL": settings.mongodb_url,
        "FIDUS_DB_NAME": settings.db_name,
        "FIDUS_WORKER": "false",
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "app.cli",
        "persisted-queries",
        "register",
        str(manifest),
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode == 0, output
    assert b"Registered 2 persisted queries" in output
    names = {q.name for q in await PersistedQuery.find_all().to_list()}
    assert names == {"Me", "Funds"}

    tampered = tmp_path / "bad.json"
    tampered.write_text(json.dumps({"0" * 64: ME}))
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "app.cli",
        "persisted-queries",
        "register",
        str(tampered),
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode == 2 and b"does not hash to its query" in output
