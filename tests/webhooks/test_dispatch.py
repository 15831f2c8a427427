"""The dispatcher against a real receiver: retries with backoff, timeouts, giving up, 410
Gone, per-attempt logs without the secret, exactly-once claims across dispatchers, and
taking over a delivery whose sender died."""

import asyncio
import contextlib
import dataclasses
import logging
from collections import Counter
from datetime import timedelta

import orjson
from beanie import PydanticObjectId

from app.embedded import free_port
from app.logs import JsonFormatter
from models.audit import AuditEntry
from models.webhooks import DeliveryStatus, WebhookDelivery, WebhookEndpoint, WebhookEventType
from resolvers.webhooks.dispatcher import Dispatcher
from resolvers.webhooks.endpoints import WAKE_TOPIC, emit_for_tenant
from resolvers.webhooks.secrets import verify
from tests.support.domain import invest_in_fund, make_ready, tenant_of
from tests.webhooks.conftest import (
    CREATE,
    SEND_TEST,
    delivery_log,
    eventually,
    register,
    send_test,
    settled,
)

UPDATE = """mutation($id: ID!, $i: UpdateWebhookInput!) { updateWebhook(id: $id, input: $i) {
  id url eventTypes description enabled disabledReason } }"""
ROTATE = "mutation($id: ID!) { rotateWebhookSecret(id: $id) { id secret secretRotatedAt } }"
LIST = "{ webhooks { id enabled disabledReason secret } }"


def attempt_records(caplog, delivery_id):
    return [
        r
        for r in caplog.records
        if r.getMessage() == "webhook attempt" and getattr(r, "delivery_id", None) == delivery_id
    ]


async def test_a_failing_receiver_gets_it_on_the_third_attempt(api, world, hooks, receiver, caplog):
    caplog.set_level(logging.INFO, logger="resolvers.webhooks.dispatcher")
    admin = world("acme", "admin")
    webhook = await register(api, admin, receiver)
    receiver.scripts["/hook"] = [500, 500]
    queued = await send_test(api, admin, webhook["id"])
    assert queued["eventType"] == "TEST" and queued["status"] == "PENDING"

    [delivery] = await settled(api, admin, webhook["id"])
    assert delivery["id"] == queued["id"]
    assert delivery["status"] == "DELIVERED" and delivery["attemptCount"] == 3
    assert [a["number"] for a in delivery["attempts"]] == [1, 2, 3]
    assert [a["statusCode"] for a in delivery["attempts"]] == [500, 500, 200]
    assert delivery["lastStatusCode"] == 200 and delivery["lastError"] is None
    requests = receiver.at("/hook")
    assert len(requests) == 3 and all(r.verified for r in requests)
    assert {r.headers["x-fidus-delivery"] for r in requests} == {delivery["id"]}
    assert len({r.body for r in requests}) == 1  # every retry sends the same bytes

    records = attempt_records(caplog, delivery["id"])
    assert [(r.attempt, r.status_code, r.outcome) for r in records] == [
        (1, 500, "PENDING"),
        (2, 500, "PENDING"),
        (3, 200, "DELIVERED"),
    ]
    line = orjson.loads(JsonFormatter().format(records[-1]))
    assert line["message"] == "webhook attempt"
    assert line["delivery_id"] == delivery["id"] and line["webhook_id"] == webhook["id"]
    assert line["status_code"] == 200 and line["duration_ms"] >= 0
    everything = caplog.text + "".join(JsonFormatter().format(r) for r in caplog.records)
    assert webhook["secret"] not in everything


async def test_a_stalled_receiver_times_out_and_is_retried(api, world, hooks, receiver):
    admin = world("acme", "admin")
    webhook = await register(api, admin, receiver)
    receiver.scripts["/hook"] = [(hooks.timeout * 4, 200)]
    await send_test(api, admin, webhook["id"])
    [delivery] = await settled(api, admin, webhook["id"])
    first, second = delivery["attempts"]
    assert first["statusCode"] is None and first["error"] == f"timed out after {hooks.timeout:g} s"
    assert second["statusCode"] == 200
    assert delivery["status"] == "DELIVERED" and delivery["attemptCount"] == 2


async def test_gives_up_after_the_last_attempt(api, world, hooks, receiver):
    admin = world("acme", "admin")
    webhook = await register(api, admin, receiver)
    receiver.scripts["/hook"] = [503] * 10
    await send_test(api, admin, webhook["id"])
    [delivery] = await settled(api, admin, webhook["id"])
    assert delivery["status"] == "FAILED"
    assert delivery["attemptCount"] == hooks.max_attempts == len(receiver.at("/hook"))
    assert delivery["lastStatusCode"] == 503 and delivery["nextAttemptAt"] is None


async def test_an_unreachable_receiver_records_the_connection_error(api, world, hooks):
    admin = world("acme", "admin")
    url = f"http://127.0.0.1:{free_port()}/nobody-listens"
    created = await api.gql(
        CREATE, {"i": {"url": url, "eventTypes": ["INVESTMENT_CREATED"]}}, token=admin.token
    )
    webhook = created.ok()["createWebhook"]
    await send_test(api, admin, webhook["id"])
    [delivery] = await settled(api, admin, webhook["id"])
    assert delivery["status"] == "FAILED" and delivery["lastStatusCode"] is None
    assert delivery["lastError"] == "could not connect"


async def test_410_gone_disables_the_endpoint(api, world, hooks, receiver):
    admin = world("acme", "admin")
    webhook = await register(api, admin, receiver, types=("INVESTMENT_CREATED",))
    receiver.scripts["/hook"] = [410]
    await send_test(api, admin, webhook["id"])
    [delivery] = await settled(api, admin, webhook["id"])
    assert delivery["status"] == "FAILED" and delivery["attemptCount"] == 1

    async def disabled():  # the delivery's outcome is recorded just before the endpoint's
        [listed] = (await api.gql(LIST, token=admin.token)).ok()["webhooks"]
        return listed if listed["enabled"] is False else None

    listed = await eventually(disabled)
    assert "410 Gone" in listed["disabledReason"]
    assert listed["secret"] is None
    assert await AuditEntry.find_one({"action": "webhook.disabled"}) is not None
    # a disabled endpoint gets no events and no tests ...
    investor = world("acme", "investor")
    await make_ready(investor)
    await invest_in_fund(api, admin, investor, key="after-gone")
    assert len(await delivery_log(api, admin, webhook["id"])) == 1
    refused = await api.gql(SEND_TEST, {"id": webhook["id"]}, token=admin.token)
    assert refused.code == "CONFLICT"
    # ... until an ADMIN enables it again
    enabled = await api.gql(
        UPDATE, {"id": webhook["id"], "i": {"enabled": True}}, token=admin.token
    )
    assert enabled.ok()["updateWebhook"]["disabledReason"] is None
    await send_test(api, admin, webhook["id"])
    log = await settled(api, admin, webhook["id"], 2)
    assert log[-1]["status"] == "DELIVERED"


async def test_disabling_cancels_waiting_retries(api, world, hooks, receiver, runtime, monkeypatch):
    monkeypatch.setattr(
        runtime.services, "webhooks", dataclasses.replace(hooks, retry_base=600, retry_max=600)
    )
    admin = world("acme", "admin")
    webhook = await register(api, admin, receiver)
    receiver.scripts["/hook"] = [500]
    await send_test(api, admin, webhook["id"])

    async def waiting_for_retry():
        log = await delivery_log(api, admin, webhook["id"])
        return log[0] if log[0]["attemptCount"] == 1 and log[0]["status"] == "PENDING" else None

    waiting = await eventually(waiting_for_retry)
    assert waiting["nextAttemptAt"] is not None
    await api.gql(UPDATE, {"id": webhook["id"], "i": {"enabled": False}}, token=admin.token)
    [cancelled] = await delivery_log(api, admin, webhook["id"])
    assert cancelled["status"] == "CANCELLED" and cancelled["nextAttemptAt"] is None


async def test_a_rotated_secret_signs_from_then_on(api, world, hooks, receiver):
    admin = world("acme", "admin")
    webhook = await register(api, admin, receiver)
    rotated = (await api.gql(ROTATE, {"id": webhook["id"]}, token=admin.token)).ok()
    new_secret = rotated["rotateWebhookSecret"]["secret"]
    assert new_secret.startswith("whsec_") and new_secret != webhook["secret"]
    assert rotated["rotateWebhookSecret"]["secretRotatedAt"] is not None
    receiver.secrets["/hook"] = new_secret
    await send_test(api, admin, webhook["id"])
    await settled(api, admin, webhook["id"])
    [received] = receiver.at("/hook")
    stamp, header = received.headers["x-fidus-timestamp"], received.headers["x-fidus-signature"]
    assert verify(new_secret, stamp, received.body, header)
    assert not verify(webhook["secret"], stamp, received.body, header)
    stored = await WebhookEndpoint.get(PydanticObjectId(webhook["id"]))
    assert new_secret not in stored.model_dump_json() and webhook["secret"] not in stored.secret_box


async def test_two_dispatchers_send_each_delivery_once(
    api, world, hooks, receiver, runtime, monkeypatch
):
    monkeypatch.setattr(runtime.services, "webhooks", dataclasses.replace(hooks, concurrency=2))
    admin = world("acme", "admin")
    hooks_ids = [
        (await register(api, admin, receiver, path, ("INVESTMENT_CREATED",)))["id"]
        for path in ("/a", "/b")
    ]
    for path in ("/a", "/b"):
        receiver.scripts[path] = [(0.02, 200)] * 20
    first, second = Dispatcher(runtime.services, "d1"), Dispatcher(runtime.services, "d2")
    tasks = [asyncio.create_task(d.run()) for d in (first, second)]  # + the app's own
    try:
        tenant = PydanticObjectId(await tenant_of(admin))
        for n in range(20):
            queued = await emit_for_tenant(
                runtime.services, tenant, WebhookEventType.INVESTMENT_CREATED, {"n": n}
            )
            assert queued == 2
        logs = [await settled(api, admin, hook_id, 20) for hook_id in hooks_ids]
    finally:
        for task in tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
    deliveries = [d for log in logs for d in log]
    assert len(deliveries) == 40
    assert all(d["status"] == "DELIVERED" and d["attemptCount"] == 1 for d in deliveries)
    sent = Counter(r.headers["x-fidus-delivery"] for r in receiver.received)
    assert set(sent) == {d["id"] for d in deliveries} and set(sent.values()) == {1}
    assert first.claimed and second.claimed  # both took part ...
    assert not set(first.claimed) & set(second.claimed)  # ... and never claimed the same row


async def test_a_delivery_whose_sender_died_is_taken_over(api, world, hooks, receiver, runtime):
    admin = world("acme", "admin")
    webhook = await register(api, admin, receiver)
    endpoint_id = PydanticObjectId(webhook["id"])
    tenant = PydanticObjectId(await tenant_of(admin))
    now = runtime.services.clock()

    def claimed_row(owner: str, lease_until):
        return WebhookDelivery(
            id=PydanticObjectId(),
            tenant_id=tenant,
            endpoint_id=endpoint_id,
            event_id=owner,
            event_type=WebhookEventType.TEST,
            body=orjson.dumps({"id": owner}).decode(),
            status=DeliveryStatus.SENDING,
            attempt_count=1,
            lease_owner=owner,
            lease_until=lease_until,
        )

    crashed = claimed_row("crashed", now - timedelta(seconds=1))
    alive = claimed_row("alive", now + timedelta(hours=1))
    await WebhookDelivery.insert_many([crashed, alive])
    await runtime.services.broker.publish(WAKE_TOPIC, "look now")  # as any emit would

    async def taken_over():
        row = await WebhookDelivery.get(crashed.id)
        return row if row.status is DeliveryStatus.DELIVERED else None

    row = await eventually(taken_over)
    assert row.attempt_count == 2
    lost, retried = row.attempts
    assert lost.number == 1 and "no outcome recorded" in lost.error
    assert retried.number == 2 and retried.status_code == 200
    still = await WebhookDelivery.get(alive.id)
    assert still.status is DeliveryStatus.SENDING and still.lease_owner == "alive"
    assert [r.headers["x-fidus-delivery"] for r in receiver.received] == [str(crashed.id)]
