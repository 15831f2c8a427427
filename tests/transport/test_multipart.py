"""The GraphQL multipart request spec over the live server: every malformed ``operations``
or ``map`` is a 400 with a coded error saying what is wrong, never a 500; nothing is
stored. Well-formed uploads are covered in tests/documents/test_uploads.py."""

import json
from typing import Any

import pytest

from tests.support.api import refused
from tests.support.documents import PDF_BYTES, PREFLIGHT, UPLOAD, stored_documents

VARIABLES: dict[str, Any] = {"file": None, "input": {"category": "OTHER"}}
OPERATIONS = {"query": UPLOAD, "variables": VARIABLES}


def operations(**variables: Any) -> str:
    return json.dumps({"query": UPLOAD, "variables": {**VARIABLES, **variables}})


# (operations field, map field, file part names, what the message says)
CASES: dict[str, tuple[str | None, str | None, list[str], str]] = {
    "path into null": (
        operations(),
        json.dumps({"0": ["variables.file.inner"]}),
        ["0"],
        "does not lead to a value in `operations` (at 'inner')",
    ),
    "non-numeric index into a string": (
        operations(file="text"),
        json.dumps({"0": ["variables.file.x"]}),
        ["0"],
        "(at 'x')",
    ),
    "non-numeric index into a list": (
        operations(file=[None]),
        json.dumps({"0": ["variables.file.first"]}),
        ["0"],
        "(at 'first')",
    ),
    "index past the end of a list": (
        operations(file=[None]),
        json.dumps({"0": ["variables.file.3"]}),
        ["0"],
        "(at '3')",
    ),
    "missing key": (
        operations(),
        json.dumps({"0": ["variables.nothing"]}),
        ["0"],
        "(at 'nothing')",
    ),
    "path outside variables": (
        operations(),
        json.dumps({"0": ["query"]}),
        ["0"],
        "must point into `variables`",
    ),
    "numeric path": (operations(), json.dumps({"0": [1]}), ["0"], "list of paths"),
    "map value is a string": (
        operations(),
        json.dumps({"0": "variables.file"}),
        ["0"],
        "list of paths",
    ),
    "map value is a list of non-strings": (
        operations(),
        json.dumps({"0": [None, {"a": 1}]}),
        ["0"],
        "list of paths",
    ),
    "map is an array": (
        operations(),
        json.dumps([["variables.file"]]),
        ["0"],
        "`map` must be a JSON object",
    ),
    "map is not JSON": (operations(), "{", ["0"], "`map` is not valid JSON"),
    "map nested too deeply": (
        operations(),
        "[" * 100_000,
        ["0"],
        "`map` is nested deeper than 64 levels",
    ),
    "operations is a number": (
        "1",
        json.dumps({"0": ["variables.file"]}),
        ["0"],
        "`operations` must be a JSON object",
    ),
    "operations is an array (batch)": (
        json.dumps([OPERATIONS]),
        json.dumps({"0": ["0.variables.file"]}),
        ["0"],
        "`operations` must be a JSON object",
    ),
    "operations nested too deeply": (
        '{"query": "{ __typename }", "variables": {"v": ' + "[" * 100_000 + "}}",
        json.dumps({"0": ["variables.v"]}),
        ["0"],
        "`operations` is nested deeper than 64 levels",
    ),
    "referenced file is missing": (
        operations(),
        json.dumps({"0": ["variables.file"]}),
        [],
        "names the file part '0', which the request does not have",
    ),
    "map keys do not match the parts": (
        operations(),
        json.dumps({"file": ["variables.file"]}),
        ["0"],
        "names the file part 'file'",
    ),
    "map names a text field": (
        operations(),
        json.dumps({"operations": ["variables.file"]}),
        ["0"],
        "names the file part 'operations'",
    ),
    "no operations field": (
        None,
        json.dumps({"0": ["variables.file"]}),
        ["0"],
        "need the `operations` field",
    ),
    "no map field": (operations(), None, ["0"], "need the `map` field"),
}


@pytest.mark.parametrize("case", sorted(CASES))
async def test_a_malformed_multipart_request_is_400(api, world, case) -> None:
    operations_field, map_field, parts, expected = CASES[case]
    fields = {
        name: value
        for name, value in (("operations", operations_field), ("map", map_field))
        if value is not None
    }
    response = await api.client.post(
        f"{api.base_url}/graphql",
        data=fields,
        files={name: ("statement.pdf", PDF_BYTES, "application/pdf") for name in parts}
        or {"unrelated": ("x.txt", b"x", "text/plain")},
        headers={**PREFLIGHT, "authorization": f"Bearer {world('acme', 'investor').token}"},
    )
    assert expected in refused(response)
    assert await stored_documents() == (0, 0)


async def test_a_malformed_multipart_body_is_400(api, world) -> None:
    response = await api.client.post(
        f"{api.base_url}/graphql",
        content=b"--not-the-boundary\r\nnonsense",
        headers={**PREFLIGHT, "content-type": "multipart/form-data"},
    )
    assert "multipart body is malformed" in refused(response)


async def test_a_path_through_a_list_index_reaches_graphql(api, world) -> None:
    """Numeric segments index lists: the file is placed, and the operation (not the
    multipart layer) says that a list of files is not the file it wants."""
    response = await api.client.post(
        f"{api.base_url}/graphql",
        data={
            "operations": operations(file=[None]),
            "map": json.dumps({"0": ["variables.file.0"]}),
        },
        files={"0": ("statement.pdf", PDF_BYTES, "application/pdf")},
        headers={**PREFLIGHT, "authorization": f"Bearer {world('acme', 'investor').token}"},
    )
    assert response.status_code == 200
    [error] = response.json()["errors"]
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": "file"}
