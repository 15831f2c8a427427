"""Where a webhook may point, spelt any way: numeric spellings of IP addresses a resolver
would still accept are refused at registration; a delivery refused at send time, or one
whose connection fails, records what kind of failure it was and never what the host
resolved to."""

import dataclasses
import re

from app.embedded import free_port
from models.webhooks import WebhookEndpoint
from resolvers.webhooks.targets import DESTINATION_NOT_ALLOWED
from tests.webhooks.conftest import CREATE, register, send_test, settled

NON_CANONICAL = [
    "https://2130706433/hook",  # 127.0.0.1 as one decimal number
    "https://134744072/hook",  # 8.8.8.8: refused for its form, not its class
    "https://127.1/hook",
    "https://10.1/hook",
    "https://0x7f000001/hook",
    "https://0x7f.0.0.1/hook",
    "https://0177.0.0.1/hook",  # octal
    "https://127.000.000.001/hook",
    "https://partner.example.123/hook",  # a numeric last label is an IPv4 address
    "https://[::ffff:127.0.0.1]/hook",  # IPv4-mapped IPv6
    "https://[::ffff:7f00:1]/hook",
    "https://[::ffff:8.8.8.8]/hook",
    "https://[::127.0.0.1]/hook",  # IPv4-compatible
    "https://[64:ff9b::7f00:1]/hook",  # NAT64
    "https://[2002:7f00:1::1]/hook",  # 6to4
    "https://\uff11\uff12\uff17\uff0e\uff10\uff0e\uff10\uff0e\uff11/hook",  # full-width digits
    "https://127\u30020\u30020\u30021/hook",  # ideographic full stops
    "https://\uff11\uff13\uff14\uff17\uff14\uff14\uff10\uff17\uff12/hook",  # full-width 134744072
    "https://" + "a" * 64 + ".example.com/hook",  # not a valid DNS name (label > 63)
]
IP_ADDRESS = re.compile(r"\b\d{1,3}(\.\d{1,3}){3}\b|::")


async def create(api, admin, url):
    variables = {"i": {"url": url, "eventTypes": ["INVESTMENT_CREATED"]}}
    return await api.gql(CREATE, variables, token=admin.token)


async def test_non_canonical_ip_forms_are_refused(api, world, runtime, monkeypatch):
    admin = world("acme", "admin")
    everything = dataclasses.replace(
        runtime.services.webhooks, allow_loopback=True, allow_private_networks=True
    )
    monkeypatch.setattr(runtime.services, "webhooks", everything)
    for url in NON_CANONICAL:
        result = await create(api, admin, url)
        assert result.code == "BAD_USER_INPUT", (url, result.body)
        assert result.errors[0]["extensions"]["field"] == "url"
    assert await WebhookEndpoint.find_all().count() == 0
    # the canonical spellings are classified as usual, and names are stored as DNS sees them
    assert (await create(api, admin, "https://127.0.0.1/hook")).ok()
    assert (await create(api, admin, "https://[::1]/hook")).ok()
    idn = (await create(api, admin, "https://B\u00fccher.example/hook")).ok()
    assert idn["createWebhook"]["url"] == "https://xn--bcher-kva.example/hook"


async def test_full_width_names_are_checked_as_what_they_spell(api, world):
    refused = await create(
        api,
        world("acme", "admin"),
        "https://\uff4c\uff4f\uff43\uff41\uff4c\uff48\uff4f\uff53\uff54/hook",
    )
    assert refused.code == "BAD_USER_INPUT"  # "localhost": loopback, not allowed by default
    assert "loopback" in refused.errors[0]["message"]


async def test_a_refused_destination_does_not_say_what_the_host_resolved_to(
    api, world, hooks, runtime, monkeypatch, receiver
):
    admin = world("acme", "admin")
    port = receiver.url.rsplit(":", 1)[1]
    webhook = await register(api, admin, receiver)  # a loopback receiver, allowed ...
    named = (await create(api, admin, f"http://localhost:{port}/named")).ok()["createWebhook"]
    monkeypatch.setattr(
        runtime.services, "webhooks", dataclasses.replace(hooks, allow_loopback=False)
    )  # ... until loopback is no longer allowed
    for endpoint in (webhook, named):
        await send_test(api, admin, endpoint["id"])
        [delivery] = await settled(api, admin, endpoint["id"])
        assert delivery["status"] == "FAILED" and delivery["lastStatusCode"] is None
        errors = {delivery["lastError"], *(a["error"] for a in delivery["attempts"])}
        assert errors == {DESTINATION_NOT_ALLOWED}
        assert not IP_ADDRESS.search(delivery["lastError"])
        assert "localhost" not in delivery["lastError"]
    assert receiver.received == []


async def test_connection_failures_record_their_kind_only(api, world, hooks, receiver):
    admin = world("acme", "admin")
    plain_port = receiver.url.rsplit(":", 1)[1]
    cases = {
        f"http://127.0.0.1:{free_port()}/closed": "could not connect",
        f"https://localhost:{plain_port}/tls": "could not connect: the TLS handshake failed",
    }
    for url, expected in cases.items():
        webhook = (await create(api, admin, url)).ok()["createWebhook"]
        await send_test(api, admin, webhook["id"])
        [delivery] = await settled(api, admin, webhook["id"])
        assert delivery["lastError"] == expected, delivery
        assert all(a["error"] == expected for a in delivery["attempts"])
