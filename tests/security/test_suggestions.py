"""With introspection off, error messages name nothing of the schema that the client did
not write ("Did you mean ...?" from validation and from variable coercion); with it on
(the suite's server, as in development) they still help."""

import dataclasses
from collections.abc import AsyncIterator

import httpx
import pytest
from starlette.applications import Starlette
from starlette.routing import Route

from app.graphql_view import FidusGraphQL
from schema import build_schema
from tests.support.api import Api
from tests.support.servers import live_server

UPDATE_PROFILE = "mutation($i: UpdateProfileInput!) { updateProfile(input: $i) { id } }"
MISTAKES = [  # (document, variables): each one a typo of a name in the schema
    ("{ mee { id } }", None),  # field
    ("{ me { fulName } }", None),  # field of a type
    ("{ users(rol: ADMIN) { edges { cursor } } }", None),  # argument
    ("{ users(role: ADMN) { edges { cursor } } }", None),  # enum value, literal
    ("query($r: Role) { users(role: $r) { edges { cursor } } }", {"r": "ADMN"}),  # variable
    ("query($r: Rol) { users(role: $r) { edges { cursor } } }", {"r": "ADMIN"}),  # type
    (UPDATE_PROFILE, {"i": {"fulName": "x"}}),  # input field, variable
    ('mutation { updateProfile(input: {fulName: "x"}) { id } }', None),  # input field, literal
]


@pytest.fixture
async def closed_api(runtime, base_url) -> AsyncIterator[Api]:
    """The session's app services behind a second GraphQL endpoint whose schema has
    introspection off (as in production)."""
    limits = dataclasses.replace(runtime.settings.schema_limits(), introspection=False)
    view = FidusGraphQL(
        build_schema(limits),
        lambda: runtime,
        graphiql=False,
        max_subscriptions_per_connection=runtime.settings.max_subscriptions_per_connection,
        keepalive_seconds=runtime.settings.ws_keepalive_seconds,
    )
    app = Starlette(routes=[Route("/graphql", view, methods=["GET", "POST"])])
    app.state.runtime = runtime  # as create_app does: the client address reads its settings
    async with live_server(app) as url, httpx.AsyncClient(timeout=30) as client:
        yield Api(url, client)


@pytest.mark.parametrize(("document", "variables"), MISTAKES)
async def test_no_suggestions_with_introspection_off(closed_api, api, world, document, variables):
    token = world("acme", "admin").token
    closed = await closed_api.gql(document, variables, token=token)
    assert closed.code == "BAD_USER_INPUT" and closed.data is None
    assert "did you mean" not in str(closed.errors).lower(), closed.errors
    open_ = await api.gql(document, variables, token=token)  # introspection on: they help
    assert "Did you mean" in str(open_.errors), open_.errors
