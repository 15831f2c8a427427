"""Client JSON over the live server: no nesting reaches a RecursionError."""

import pytest

from tests.mt5.test_ingest import post

DEEP = 100_000


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


@pytest.mark.parametrize("route", ["/mt5/ticks", "/mt5/accounts"])
@pytest.mark.parametrize("body", [nested(DEEP), '{"ticks": [1, NaN, ' + nested(DEEP) + "]}"])
async def test_deeply_nested_mt5_bodies_are_400(api, ingest_token, route, body) -> None:
    """Also when a NaN literal sends the body to the lenient decoder first."""
    response = await api.client.post(
        f"{api.base_url}{route}",
        content=body.encode(),
        headers={"authorization": f"Bearer {ingest_token}", "content-type": "application/json"},
    )
    assert response.status_code == 400
    assert response.json() == {
        "error": "body is nested deeper than 64 levels",
        "code": "BAD_USER_INPUT",
    }


async def test_nan_ticks_are_still_decoded_and_rejected_one_by_one(api, ingest_token) -> None:
    response = await post(api, ingest_token, None, raw=b'{"ticks": [{"bid": NaN}]}')
    assert response.status_code == 200 and response.json()["accepted"] == 0
