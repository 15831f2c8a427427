"""Fuzzing the live server: hypothesis-graphql draws valid queries and mutations from the
schema itself (and invalid ones in NEGATIVE mode), sent by an ADMIN over real HTTP; plus
random JSON bodies for POST /mt5/ticks. No response may be a 500, an error without a
code from the contract's closed set, an unexpected (masked) internal error, or leak
internals; the server stays up.

The suite runs a small sample; `scripts/fuzz` runs the dedicated, larger campaign
(FIDUS_FUZZ_EXAMPLES, default 10,000 per test)."""

from datetime import UTC
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis_graphql import Mode, from_schema, mutations, nodes

from models.errors import ERROR_CODES
from schema import build_schema
from tests.fuzz.strategies import FUZZ, JSON, LEAKS
from tests.support.mt5 import post

SDL = build_schema().as_str()
CUSTOM_SCALARS = {
    "DateTime": st.datetimes(timezones=st.just(UTC)).map(lambda d: nodes.String(d.isoformat())),
    "Date": st.dates().map(lambda d: nodes.String(d.isoformat())),
    "Decimal": st.decimals(allow_nan=False, allow_infinity=False, places=2).map(
        lambda d: nodes.String(str(d))
    ),
    "Upload": st.just(nodes.Null),
    "JSON": st.just(nodes.String("{}")),
}


def check(status: int, body: Any, sent: object) -> None:
    assert status != 500 or body.get("errors"), (status, body, sent)
    for error in body.get("errors") or ():
        code = (error.get("extensions") or {}).get("code")
        assert code in ERROR_CODES, (error, sent)
        assert code != "INTERNAL_SERVER_ERROR", (error, sent)  # an unexpected exception
        assert not any(leak in error.get("message", "") for leak in LEAKS), (error, sent)


async def send(api, world, document: object) -> None:
    response = await api.client.post(
        f"{api.base_url}/graphql",
        json={"query": document},
        headers={"authorization": f"Bearer {world('acme', 'admin').token}"},
    )
    assert response.headers["content-type"].startswith("application/json"), response.text
    check(response.status_code, response.json(), document)


@pytest.mark.parametrize("mode", [Mode.POSITIVE, Mode.NEGATIVE])
@FUZZ
@given(data=st.data())
async def test_queries_from_the_schema(api, world, mode, data) -> None:
    document = data.draw(from_schema(SDL, custom_scalars=CUSTOM_SCALARS, mode=mode))
    await send(api, world, document)


@FUZZ
@given(data=st.data())
async def test_mutations_from_the_schema(api, world, data) -> None:
    document = data.draw(mutations(SDL, custom_scalars=CUSTOM_SCALARS))
    await send(api, world, document)
    health = await api.client.get(f"{api.base_url}/health")
    assert health.status_code == 200


TICK = st.fixed_dictionaries(
    {},
    optional={
        "symbol": st.text(max_size=40) | st.sampled_from(["XAUUSD", "EURUSD.m", ""]),
        "time_msc": st.integers()
        | st.floats(allow_nan=False, allow_infinity=False)
        | st.text(max_size=5),
        "time": st.integers(),
        "bid": st.floats(allow_nan=False, allow_infinity=False)
        | st.integers()
        | st.text(max_size=5),
        "ask": st.floats(allow_nan=False, allow_infinity=False) | st.integers(),
        "last": st.floats(allow_nan=False, allow_infinity=False),
        "volume": st.floats(allow_nan=False, allow_infinity=False) | st.integers(),
        "volume_real": st.floats(allow_nan=False, allow_infinity=False),
        "flags": st.integers() | st.booleans(),
    },
)


@FUZZ
@given(body=st.one_of(JSON, st.fixed_dictionaries({"ticks": st.lists(TICK | JSON, max_size=20)})))
async def test_tick_ingest_bodies(api, ingest_token, body) -> None:
    response = await post(api, ingest_token, body)
    assert response.status_code in (200, 400, 413), response.text
    payload = response.json()
    if response.status_code == 200:
        assert payload["accepted"] + len(payload["rejected"]) == len(body["ticks"])
    else:
        assert payload["code"] in ERROR_CODES and payload["error"]
