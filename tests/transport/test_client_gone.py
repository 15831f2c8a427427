"""A client that goes away in the middle of sending its body (a killed feed, a dropped
mobile connection) is nothing to log as an error: the request is simply over."""

import asyncio
from urllib.parse import urlsplit

import httpx
import pytest

from tests.support.servers import server_errors

ROUTES = [
    ("/mt5/ticks", "application/json"),
    ("/mt5/accounts", "application/json"),
    ("/graphql", "application/json"),
    ("/graphql", "multipart/form-data; boundary=x"),
]


async def send_half_a_body(base_url: str, path: str, content_type: str, token: str) -> None:
    address = urlsplit(base_url)
    _reader, writer = await asyncio.open_connection(address.hostname, address.port)
    head = (
        f"POST {path} HTTP/1.1\r\nHost: {address.netloc}\r\n"
        f"Authorization: Bearer {token}\r\nContent-Type: {content_type}\r\n"
        "apollo-require-preflight: true\r\nContent-Length: 5000\r\n\r\n"
    )
    writer.write(head.encode() + b'{"ticks": [{"symbol": "EURUSD", "bid": 1.08')
    await writer.drain()
    await asyncio.sleep(0.2)  # the server is reading the body now
    writer.close()
    await writer.wait_closed()


@pytest.mark.parametrize(("path", "content_type"), ROUTES)
async def test_a_body_cut_short_is_no_server_error(
    base_url, world, ingest_token, caplog, path, content_type
):
    token = ingest_token if path.startswith("/mt5") else world("acme", "admin").token
    await send_half_a_body(base_url, path, content_type, token)
    await asyncio.sleep(0.3)
    assert server_errors(caplog) == []
    async with httpx.AsyncClient() as client:
        assert (await client.get(f"{base_url}/health/ready")).status_code == 200
