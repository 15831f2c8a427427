"""The fuzz campaign's settings (FIDUS_FUZZ_EXAMPLES per test) and hypothesis strategies
for what a hostile client can put on the wire: any JSON value, JSON nested past any
parser's comfort, request-shaped objects whose members have the wrong types, GraphQL
documents good and bad, multipart parts, WebSocket frames."""

import json
import os
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from tests.support.documents import UPLOAD

EXAMPLES = int(os.environ.get("FIDUS_FUZZ_EXAMPLES", "60"))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    database=None,
)
# text in an answer that means internals leaked
LEAKS = ("Traceback", 'File "', "pymongo", "beanie", "redis.", "Exception(")

JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=40),
    lambda inner: (
        st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=12), inner, max_size=6)
    ),
    max_leaves=30,
)

DOCUMENTS = st.sampled_from(
    [
        "{ __typename }",
        "query { me { id email role } }",
        "query Named { me { id } }",
        "query A { __typename } query B { __typename }",
        "query ($id: ID!) { portfolio(id: $id) { id } }",
        "mutation { __typename }",
        'subscription { ticks(symbols: ["EURUSD"]) { symbol bid } }',
        "subscription { opportunityPublished { id } }",
        "subscription { nope }",
        "{ me { id ",
        "}{",
        "query { me { ...F } } fragment F on User { ...F }",
        "{ a: __typename b: __typename c: __typename }",
        "",
        " ",
        "#",
    ]
)
QUERY = DOCUMENTS | st.text(max_size=60)


def deeply_nested(depth: int, opener: str) -> str:
    """JSON text nested ``depth`` levels deep (arrays or objects)."""
    if opener == "[":
        return "[" * depth + "]" * depth
    return '{"a":' * depth + "1" + "}" * depth


DEEP = st.builds(deeply_nested, st.integers(1, 20_000), st.sampled_from(["[", "{"]))

REQUEST = st.fixed_dictionaries(
    {},
    optional={
        "query": QUERY | JSON,
        "variables": JSON,
        "operationName": st.text(max_size=10) | JSON,
        "extensions": JSON,
    },
)


def as_json(value: Any) -> bytes:
    return json.dumps(value).encode()


BODIES = st.one_of(
    REQUEST.map(as_json),
    JSON.map(as_json),
    DEEP.map(str.encode),
    DEEP.map(lambda deep: ('{"query": "{ __typename }", "variables": ' + deep + "}").encode()),
    st.binary(max_size=200),
    st.text(max_size=200).map(str.encode),
)
CONTENT_TYPES = st.sampled_from(
    [
        "application/json",
        "application/json; charset=utf-8",
        "application/graphql-response+json",
        "application/graphql",
        "text/plain",
        "application/x-www-form-urlencoded",
        "multipart/form-data",
        "",
    ]
)
ACCEPTS = st.sampled_from(
    [
        None,
        "application/json",
        "application/graphql-response+json",
        "application/graphql-response+json, application/json;q=0.9",
        "text/html",
        "*/*",
        "image/png",
    ]
)
QUERY_PARAMS = st.dictionaries(
    st.sampled_from(["query", "variables", "operationName", "extensions", "x"]),
    QUERY | JSON.map(json.dumps),
    max_size=4,
)

# --- multipart (the GraphQL multipart request spec) ---------------------------------

MAP_PATHS = st.lists(
    st.sampled_from(["variables.file", "variables.files.0", "variables", "0", "variables.x.y", ""])
    | st.text(max_size=20),
    max_size=3,
)
MAPS = st.one_of(
    st.dictionaries(st.sampled_from(["0", "1", "x"]) | st.text(max_size=4), MAP_PATHS, max_size=3),
    JSON,
).map(json.dumps) | st.text(max_size=40)
OPERATIONS = st.one_of(
    REQUEST,
    st.fixed_dictionaries(
        {
            "query": st.just(UPLOAD),
            "variables": st.fixed_dictionaries(
                {"file": st.none() | JSON, "input": st.just({"category": "OTHER"}) | JSON}
            )
            | JSON,
        }
    ),
    st.lists(REQUEST, max_size=3),
    JSON,
).map(json.dumps) | st.text(max_size=40)


@st.composite
def multipart_parts(draw: st.DrawFn) -> list[tuple[str, str | None, bytes]]:
    """(field name, filename or None, content) in the order they are sent."""
    parts: list[tuple[str, str | None, bytes]] = []
    if draw(st.booleans()):
        parts.append(("operations", None, draw(OPERATIONS).encode()))
    if draw(st.booleans()):
        parts.append(("map", None, draw(MAPS).encode()))
    for _ in range(draw(st.integers(0, 3))):
        name = draw(st.sampled_from(["0", "1", "x", "operations"]) | st.text(max_size=4))
        filename = draw(st.none() | st.text(max_size=20))
        parts.append((name, filename, draw(st.binary(max_size=64))))
    return draw(st.permutations(parts)) if draw(st.booleans()) else parts


# --- WebSocket frames ----------------------------------------------------------------

MESSAGE_TYPES = (
    st.sampled_from(
        [
            "connection_init",
            "subscribe",
            "complete",
            "ping",
            "pong",
            "start",
            "stop",
            "connection_terminate",
            "connection_ack",
            "next",
            "data",
            "error",
            "ka",
        ]
    )
    | st.text(max_size=10)
    | JSON
)
PAYLOADS = REQUEST | JSON
MESSAGES = st.fixed_dictionaries(
    {},
    optional={
        "type": MESSAGE_TYPES,
        "id": st.sampled_from(["1", "2", ""]) | st.integers() | JSON,
        "payload": PAYLOADS,
    },
)
# A frame: ("text", str) or ("binary", bytes).
FRAMES = st.one_of(
    MESSAGES.map(lambda message: ("text", json.dumps(message))),
    JSON.map(lambda value: ("text", json.dumps(value))),
    DEEP.map(lambda deep: ("text", deep)),
    st.text(max_size=80).map(lambda text: ("text", text)),
    st.binary(max_size=80).map(lambda data: ("binary", data)),
)
