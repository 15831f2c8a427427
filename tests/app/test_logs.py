"""Logs carry the request id and the GraphQL operation name: JSON lines off a terminal,
one readable line per record on one (FIDUS_LOG_FORMAT), and no access line per request
unless FIDUS_ACCESS_LOG asks for them."""

import contextlib
import json
import logging
import os
import pty
import re
import subprocess
import sys
import threading
import uuid
from pathlib import Path

import httpx

from app.embedded import free_port
from app.logs import JsonFormatter, TextFormatter, formatter_for, request_id_var
from app.settings import Settings
from schema.core.observability import operation_name_var
from tests.conftest import INGEST_TOKEN_MUTATION
from tests.support.api import LOGIN
from tests.support.api_process import ADMIN_PASSWORD, ApiProcess, gql_post, serve_env
from tests.support.mt5 import tick


def test_json_log_lines_carry_request_and_operation() -> None:
    record = logging.LogRecord("fidus.test", logging.INFO, __file__, 1, "hello %s", ("x",), None)
    record.tenant = "acme"
    request_token = request_id_var.set("req-123456789")
    operation_token = operation_name_var.set("Login")
    try:
        line = json.loads(JsonFormatter().format(record))
    finally:
        request_id_var.reset(request_token)
        operation_name_var.reset(operation_token)
    assert line["message"] == "hello x"
    assert line["request_id"] == "req-123456789"
    assert line["operation"] == "Login"
    assert line["tenant"] == "acme"
    assert line["level"] == "INFO"
    assert line["time"].endswith("+00:00")


async def test_operations_are_logged_with_their_name(api, world, caplog) -> None:
    caplog.set_level(logging.INFO, logger="fidus.graphql")
    await api.gql("query WhoAmI { me { id } }", token=world("acme", "admin").token)
    entries = [r for r in caplog.records if getattr(r, "operation", None) == "WhoAmI"]
    assert entries
    assert entries[0].error_codes == []


def _record(message: str = "hello %s", args: tuple = ("x",), **extra: object) -> logging.LogRecord:
    record = logging.LogRecord("fidus.test", logging.INFO, __file__, 1, message, args, None)
    record.__dict__.update(extra)
    return record


def test_text_lines_carry_request_operation_and_fields() -> None:
    record = _record(tenant="acme", why="two words", error_codes=[], duration_ms=3.5)
    try:
        raise ValueError("boom")
    except ValueError:
        record.exc_info = sys.exc_info()
    request_token = request_id_var.set("req-123456789")
    operation_token = operation_name_var.set("Login")
    try:
        text = TextFormatter().format(record)
    finally:
        request_id_var.reset(request_token)
        operation_name_var.reset(operation_token)
    first, *traceback = text.splitlines()
    assert re.fullmatch(
        r"\d\d:\d\d:\d\d\.\d{3} INFO    fidus\.test: hello x  req=req-123456789 op=Login "
        r'tenant=acme why="two words" error_codes=\[\] duration_ms=3\.5',
        first,
    ), first
    assert traceback[0] == "Traceback (most recent call last):"
    assert traceback[-1] == "ValueError: boom"


def test_text_lines_escape_control_characters() -> None:
    """A terminal must not act on what a client sent (an escape sequence in a name)."""
    text = TextFormatter().format(_record("unknown %s", ("\x1b[2Jx\ny",), field="a\x1bb"))
    assert "\x1b" not in text and "\n" not in text
    assert "unknown \\x1b[2Jx\\ny" in text and 'field="a\\u001bb"' in text


def test_auto_is_text_on_a_terminal_and_json_otherwise() -> None:
    main, secondary = pty.openpty()
    read_end, write_end = os.pipe()
    with (
        os.fdopen(secondary, "w") as terminal,
        os.fdopen(write_end, "w") as pipe,
        os.fdopen(main),
        os.fdopen(read_end),
    ):
        assert isinstance(formatter_for("auto", terminal), TextFormatter)
        assert isinstance(formatter_for("auto", pipe), JsonFormatter)
        assert isinstance(formatter_for("json", terminal), JsonFormatter)
        assert isinstance(formatter_for("text", pipe), TextFormatter)


def test_log_format_setting_and_the_earlier_log_json() -> None:
    assert Settings().log_format == "auto"
    assert Settings(log_json=False).log_format == "text"  # FIDUS_LOG_JSON=false as before
    assert Settings(log_json=True).log_format == "json"
    assert Settings(log_json=False, log_format="json").log_format == "json"
    assert Settings().access_log is False


class TerminalApi(ApiProcess):
    """`fidus serve` with stdout and stderr on a pseudo-terminal, as in a developer's shell;
    what it writes is copied to ``log``."""

    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = log
        main, secondary = pty.openpty()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "app.cli", "serve", "--port", str(self.port)],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=secondary,
            stderr=secondary,
        )
        os.close(secondary)
        self._copy = threading.Thread(target=self._drain, args=(main,), daemon=True)
        self._copy.start()

    def _drain(self, main: int) -> None:
        with self.log.open("ab") as out, contextlib.suppress(OSError):  # EIO: the child exited
            while chunk := os.read(main, 65536):
                out.write(chunk)
                out.flush()
        os.close(main)

    def stop(self) -> None:
        super().stop()
        self._copy.join(10)


async def _requests_of_a_session(url: str) -> None:
    """What a developer's server sees: sign-in, a service token, tick batches, probes."""
    async with httpx.AsyncClient(timeout=30) as client:
        token = (await gql_post(client, url, LOGIN, LOGIN_AS_ADMIN))["login"]["accessToken"]
        ingest = (await gql_post(client, url, INGEST_TOKEN_MUTATION, INGEST, token))[
            "createServiceToken"
        ]["token"]
        for _ in range(5):
            response = await client.post(
                f"{url}/mt5/ticks",
                json={"ticks": [tick()]},
                headers={"authorization": f"Bearer {ingest}"},
            )
            assert response.json()["accepted"] == 1
        assert (await client.get(f"{url}/health")).status_code == 200


LOGIN_AS_ADMIN = {"tenant": "scale", "email": "admin@scale.test", "password": ADMIN_PASSWORD}
INGEST = {"s": ["mt5:ingest"]}


async def test_a_terminal_gets_readable_lines_and_no_access_lines(mongo_url, redis_url, tmp_path):
    env = serve_env(mongo_url, redis_url, f"fidus_logs_{uuid.uuid4().hex[:8]}")
    env["FIDUS_LOG_LEVEL"] = "INFO"
    api = TerminalApi(env, tmp_path / "terminal.log")
    try:
        await api.wait_ready()
        await _requests_of_a_session(api.url)
    finally:
        api.stop()
    lines = api.log.read_text().splitlines()
    assert any(
        re.fullmatch(
            r"\d\d:\d\d:\d\d\.\d{3} INFO    app\.factory: fidus ready  embedded=false .*", line
        )
        for line in lines
    ), lines
    login = next(line for line in lines if "graphql operation" in line)
    assert re.search(r" req=[0-9a-f]{32} op=Login operation_type=mutation ", login), login
    assert not [line for line in lines if "color_message" in line or "\x1b" in line]
    assert not [line for line in lines if line.startswith("{")], "JSON on a terminal"
    assert not [line for line in lines if "HTTP/1.1" in line], "access lines by default"


async def test_access_lines_when_asked_for_as_json_off_a_terminal(mongo_url, redis_url, tmp_path):
    env = serve_env(mongo_url, redis_url, f"fidus_logs_{uuid.uuid4().hex[:8]}")
    env.update(FIDUS_LOG_LEVEL="INFO", FIDUS_ACCESS_LOG="true")
    api = ApiProcess(env, tmp_path / "file.log")  # stdout and stderr to a file
    try:
        await api.wait_ready()
        await _requests_of_a_session(api.url)
    finally:
        api.stop()
    entries = [
        json.loads(line) for line in api.log.read_text().splitlines() if line.startswith("{")
    ]
    access = [e for e in entries if e["logger"] == "uvicorn.access"]
    ticks = [e for e in access if '"POST /mt5/ticks HTTP/1.1" 200' in e["message"]]
    assert len(ticks) == 5
    assert all(len(e.get("request_id", "")) == 32 for e in ticks)
