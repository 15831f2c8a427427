"""Structured JSON logs carry the request id and the GraphQL operation name."""

import json
import logging

from app.logs import JsonFormatter, request_id_var
from schema.observability import operation_name_var


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
