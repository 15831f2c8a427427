"""Persisted queries (Apollo's automatic persisted queries protocol) over real HTTP and a
real WebSocket: lookup by hash, registration by signed-in clients, hash checks, the
enforced mode that refuses unregistered operations on both transports, and manifests
loaded with `fidus persisted-queries register`. What clients register is bounded: only
documents that validate, at most so long, so many a minute per user, and expiring."""

import asyncio
import dataclasses
import json
import os
import sys
from datetime import timedelta

import pytest
from gql import Client, gql
from gql.transport.exceptions import TransportQueryError

from models.base import utc_now
from models.persisted_queries import PersistedQuery
from resolvers.core import persisted_queries
from resolvers.core.persisted_queries import sha256_of
from tests.support.ws import transport

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


async def stored(query: str) -> bool:
    return await PersistedQuery.find({"sha256": sha256_of(query)}).count() == 1


@pytest.mark.parametrize(
    "query",
    ["query Broken { me { email ", "query Unknown { me { nickname } }", "query { __typename } x"],
)
async def test_only_documents_that_validate_are_registered(api, world, query):
    investor = world("acme", "investor")
    refused = await post(api, by_hash(query, with_text=True), investor.token)
    assert refused["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert not await stored(query)
    again = await post(api, by_hash(query), investor.token)
    assert again["errors"][0]["message"] == "PersistedQueryNotFound"


@pytest.fixture
def pq_limits(runtime, monkeypatch):
    def set_limits(**changes: object) -> None:
        limits = dataclasses.replace(runtime.services.persisted_query_limits, **changes)
        monkeypatch.setattr(runtime.services, "persisted_query_limits", limits)

    return set_limits


async def test_operations_above_the_size_limit_run_unstored(api, world, pq_limits):
    pq_limits(max_chars=len(ME) - 1)
    investor = world("acme", "investor")
    ran = await post(api, by_hash(ME, with_text=True), investor.token)
    assert ran["data"] == {"me": {"email": investor.email}}
    assert not await stored(ME)


async def test_registrations_per_user_are_limited(api, world, pq_limits):
    pq_limits(registrations_per_minute=2)
    investor, other = world("acme", "investor"), world("acme", "investor2")
    queries = [f"query N{i} {{ me {{ email }} }}" for i in range(3)]
    for query in queries:  # all of them run; the third is not remembered
        ran = await post(api, by_hash(query, with_text=True), investor.token)
        assert ran["data"] == {"me": {"email": investor.email}}
    assert [await stored(q) for q in queries] == [True, True, False]
    assert (await post(api, by_hash(queries[2], with_text=True), other.token))["data"]
    assert await stored(queries[2])  # another user has their own budget


async def test_registrations_expire(api, world, runtime, pq_limits):
    investor = world("acme", "investor")
    ttl = runtime.services.persisted_query_limits.ttl
    assert (await post(api, by_hash(ME, with_text=True), investor.token))["data"]
    entry = await PersistedQuery.find_one({"sha256": sha256_of(ME)})
    assert entry is not None and entry.source == "automatic" and entry.expires_at
    assert abs(entry.expires_at - (utc_now() + ttl)) < timedelta(minutes=1)
    indexes = await PersistedQuery.get_pymongo_collection().index_information()
    assert any(i.get("expireAfterSeconds") == 0 for i in indexes.values())  # Mongo removes

    other = "query Other { me { id } }"
    pq_limits(ttl=timedelta(seconds=-1))  # registered already expired
    assert (await post(api, by_hash(other, with_text=True), investor.token))["data"]
    assert await stored(other)
    for _ in range(2):  # from the process cache, then from the database
        gone = await post(api, by_hash(other), investor.token)
        assert gone["errors"][0]["message"] == "PersistedQueryNotFound"
        persisted_queries.forget_cached()
    pq_limits(ttl=ttl)  # offered again: registered again, over the expired entry
    assert (await post(api, by_hash(other, with_text=True), investor.token))["data"]
    assert (await post(api, by_hash(other), investor.token))["data"]["me"]


async def test_manifest_entries_do_not_expire(api, runtime, monkeypatch, enforced):
    query = "query Typename { __typename }"
    limits = runtime.services.persisted_query_limits
    await persisted_queries.register_manifest_entry(query, "Typename", limits)
    later = utc_now() + limits.ttl * 10
    monkeypatch.setattr(runtime.services, "clock", lambda: later)
    persisted_queries.forget_cached()
    assert (await post(api, by_hash(query)))["data"] == {"__typename": "Query"}


async def run_cli(settings, *argv: str) -> tuple[int | None, bytes]:
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
        *argv,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await asyncio.wait_for(process.communicate(), 60)
    return process.returncode, output


async def test_a_manifest_with_an_invalid_operation_is_refused_whole(settings, tmp_path):
    invalid = "query Nick { me { nickname } }"
    manifest = tmp_path / "manifest.json"
    manifest.write_text(json.dumps({sha256_of(ME): ME, sha256_of(invalid): invalid}))
    code, output = await run_cli(settings, "persisted-queries", "register", str(manifest))
    assert code == 2 and b"Cannot query field 'nickname' on type 'User'" in output, output
    assert await PersistedQuery.find_all().count() == 0


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
    code, output = await run_cli(settings, "persisted-queries", "register", str(manifest))
    assert code == 0, output
    assert b"Registered 2 persisted queries" in output
    names = {q.name for q in await PersistedQuery.find_all().to_list()}
    assert names == {"Me", "Funds"}

    tampered = tmp_path / "bad.json"
    tampered.write_text(json.dumps({"0" * 64: ME}))
    code, output = await run_cli(settings, "persisted-queries", "register", str(tampered))
    assert code == 2 and b"does not hash to its query" in output
