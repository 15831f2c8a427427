"""The GraphQL multipart request spec (https://github.com/jaydenseric/graphql-multipart-request-spec):
an ``operations`` field (the JSON request, with null where the files go), a ``map`` field
(file part name → the object paths in ``operations`` it fills), then the file parts.
Anything malformed is a 400 saying what is wrong; files only go into ``variables``.
Before the body is read: a CSRF-preventing header is required, and the length bounded."""

import re
from collections.abc import Mapping
from typing import Any

from cross_web import HTTPException
from starlette.datastructures import UploadFile
from starlette.responses import Response
from starlette.types import Scope

from app import graphql_http, json_input

OVERHEAD = 64 * 1024  # operations, map and part headers around the file bytes
PREFLIGHT_HEADERS = ("apollo-require-preflight", "x-apollo-operation-name", "graphql-preflight")
_INDEX = re.compile(r"[0-9]{1,9}")
_SHOWN = 80  # characters of a client's path quoted back in an error


def is_multipart(scope: Scope) -> bool:
    for name, value in scope.get("headers", []):
        if name == b"content-type":
            return bool(value.split(b";", 1)[0].strip().lower() == b"multipart/form-data")
    return False


def has_preflight_header(scope: Scope) -> bool:
    """A browser sends a custom header cross-site only after a CORS preflight, so a
    request that carries one cannot be a forged 'simple' form post (CSRF)."""
    names = {name.decode("latin-1").lower(): value for name, value in scope.get("headers", [])}
    return any(names.get(header, b"").strip() for header in PREFLIGHT_HEADERS)


def declared_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", []):
        if name == b"content-length" and value.isdigit():
            return int(value)
    return None


def refusal(scope: Scope, file_limit: int, media_type: str) -> Response | None:
    """400 without a CSRF-preventing header; 413 when the declared length is too large."""
    if not has_preflight_header(scope):
        message = (
            "Multipart requests need the header 'apollo-require-preflight: true' (CSRF prevention)"
        )
        return graphql_http.error_response(400, message, media_type)
    declared = declared_length(scope)
    if declared is not None and declared > file_limit + OVERHEAD:
        return too_large(file_limit, media_type)
    return None


def too_large(file_limit: int, media_type: str) -> Response:
    message = f"The upload is larger than {file_limit} bytes"
    return graphql_http.error_response(413, message, media_type)


def operations_with_files(form: Mapping[str, Any]) -> dict[str, Any]:
    """``operations`` with every mapped path replaced by its uploaded file."""
    operations = _json_field(form, "operations")
    files_map = _json_field(form, "map")
    if not isinstance(operations, dict):
        raise HTTPException(
            400, "`operations` must be a JSON object (batched operations are not supported)"
        )
    if not isinstance(files_map, dict):
        raise HTTPException(
            400, "`map` must be a JSON object from file part names to lists of paths"
        )
    placements: list[tuple[str, UploadFile]] = []
    for name, paths in files_map.items():
        if not isinstance(paths, list) or not all(isinstance(path, str) for path in paths):
            raise HTTPException(
                400, f"`map` entry {_shown(name)} must be a list of paths (strings)"
            )
        file = form.get(name)
        if not isinstance(file, UploadFile):
            raise HTTPException(
                400, f"`map` names the file part {_shown(name)}, which the request does not have"
            )
        placements += [(path, file) for path in paths]
    for path, file in placements:
        _place(operations, path, file)
    return operations


def _json_field(form: Mapping[str, Any], name: str) -> Any:
    value = form.get(name)
    if not isinstance(value, str):
        raise HTTPException(400, f"Multipart requests need the `{name}` field (JSON text)")
    try:
        return json_input.loads(value)
    except json_input.InvalidJson as exc:
        raise HTTPException(400, f"The multipart field `{name}` {exc.reason}") from None


def _place(operations: dict[str, Any], path: str, file: UploadFile) -> None:
    """Put ``file`` where ``path`` (dot-separated keys and list indexes) leads; every
    step must exist in ``operations``."""
    keys = path.split(".")
    if len(keys) < 2 or keys[0] != "variables":
        raise HTTPException(400, f"`map` path {_shown(path)} must point into `variables`")
    container: Any = operations
    for position, key in enumerate(keys):
        slot = _slot(container, key)
        if slot is None:
            raise HTTPException(
                400,
                f"`map` path {_shown(path)} does not lead to a value in `operations` "
                f"(at {_shown(key)})",
            )
        if position == len(keys) - 1:
            container[slot] = file
        else:
            container = container[slot]


def _slot(container: Any, key: str) -> str | int | None:
    """The key or list index that ``key`` names in ``container``, if it is there."""
    if isinstance(container, dict):
        return key if key in container else None
    if isinstance(container, list) and _INDEX.fullmatch(key) and int(key) < len(container):
        return int(key)
    return None


def _shown(text: str) -> str:
    return repr(text if len(text) <= _SHOWN else text[:_SHOWN] + "…")
