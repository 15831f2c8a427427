"""A service token with scope mt5:ingest for the acme tenant."""

import pytest

CREATE_TOKEN = 'mutation($s: [String!]!) { createServiceToken(name: "b", scopes: $s) { token } }'


@pytest.fixture
async def ingest_token(api, world):
    result = await api.gql(CREATE_TOKEN, {"s": ["mt5:ingest"]}, token=world("acme", "admin").token)
    return result.ok()["createServiceToken"]["token"]
