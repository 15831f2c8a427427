"""A thin GraphQL-over-HTTP client for tests (real HTTP through httpx), and what its answers
must look like: error codes and fields, request errors without Python text."""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx


@dataclass
class GraphQLResult:
    status: int
    body: dict[str, Any]

    @property
    def data(self) -> Any:
        return self.body.get("data")

    @property
    def errors(self) -> list[dict[str, Any]]:
        return list(self.body.get("errors") or [])

    @property
    def codes(self) -> list[str]:
        return [e.get("extensions", {}).get("code") for e in self.errors]

    @property
    def code(self) -> str | None:
        return self.codes[0] if self.errors else None

    def ok(self) -> Any:
        assert not self.errors, self.errors
        return self.data


class Api:
    """``settle``: awaited after every operation, so a test sees what it started after
    answering (resolvers.core.background) — the server's answer comes first all the same."""

    def __init__(
        self,
        base_url: str,
        client: httpx.AsyncClient,
        settle: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        self.base_url = base_url
        self.client = client
        self.settle = settle

    async def gql(
        self,
        query: str,
        variables: dict[str, Any] | None = None,
        token: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> GraphQLResult:
        all_headers = {"content-type": "application/json", **(headers or {})}
        if token:
            all_headers["authorization"] = f"Bearer {token}"
        response = await self.client.post(
            f"{self.base_url}/graphql",
            json={"query": query, "variables": variables or {}},
            headers=all_headers,
        )
        if self.settle is not None:
            await self.settle()
        return GraphQLResult(response.status_code, response.json())

    async def login(
        self, tenant: str, email: str, password: str, otp: str | None = None
    ) -> dict[str, Any]:
        result = await self.gql(
            LOGIN, {"tenant": tenant, "email": email, "password": password, "otp": otp}
        )
        payload: dict[str, Any] = result.ok()["login"]
        return payload


LOGIN = """
mutation Login($tenant: String!, $email: String!, $password: String!, $otp: String) {
  login(tenant: $tenant, email: $email, password: $password, otp: $otp) {
    accessToken refreshToken expiresAt user { id email role }
  }
}
"""


def errors_of(body: dict[str, Any]) -> list[tuple[str, str | None]]:
    """(code, field) of each error in a GraphQL response body."""
    return [(e["extensions"]["code"], e["extensions"].get("field")) for e in body.get("errors", [])]


PYTHON_TEXT = ("Traceback", "has no attribute", "got '", "bytes-like", "NoneType", "'int'")


def refused(response: httpx.Response, status: int = 400) -> str:
    """The message of a request error (status, one coded error, no data, no Python text)."""
    assert response.status_code == status, response.text
    body = response.json()
    assert "data" not in body
    [error] = body["errors"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert not any(text in error["message"] for text in PYTHON_TEXT), error["message"]
    return str(error["message"])
