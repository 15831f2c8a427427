"""Registering, changing and removing endpoints: URL rules (SSRF), event types, duplicates,
the secret shown once and sealed at rest, the delivery log's pages."""

import asyncio
import dataclasses

from beanie import PydanticObjectId

from models.webhooks import WebhookDelivery, WebhookEndpoint
from tests.webhooks.conftest import CREATE, register, settled

UPDATE = """mutation($id: ID!, $i: UpdateWebhookInput!) { updateWebhook(id: $id, input: $i) {
  id url eventTypes description enabled disabledReason } }"""
DELETE = "mutation($id: ID!) { deleteWebhook(id: $id) }"
LIST = "{ webhooks { id url eventTypes description enabled secret createdAt } }"
SEND_TEST = "mutation($id: ID!) { sendTestWebhook(id: $id) { id } }"
PAGE = """query($id: ID!, $first: Int, $after: String) {
  webhookDeliveries(webhookId: $id, first: $first, after: $after) {
    edges { node { id } } pageInfo { hasNextPage endCursor } } }"""


async def create(api, admin, url, types=("INVESTMENT_CREATED",), description="d"):
    variables = {"i": {"url": url, "eventTypes": list(types), "description": description}}
    return await api.gql(CREATE, variables, token=admin.token)


BAD_URLS = [
    "ftp://partner.example.com/hook",
    "http://partner.example.com/hook",  # plain http to the internet
    "https://127.0.0.1/hook",  # loopback, not allowed by default
    "http://localhost:8080/hook",
    "https://[::1]/hook",
    "https://10.0.0.5/hook",  # private network
    "https://192.168.1.20/hook",
    "https://169.254.169.254/latest/meta-data",  # link-local: cloud metadata
    "https://[fe80::1]/hook",
    "https://0.0.0.0/hook",
    "https://user:pw@partner.example.com/hook",  # credentials in the URL
    "https://partner.example.com/hook#frag",
    "https://partner.example.com:99999/hook",
    "not a url",
    "",
    "https://" + "a" * 2000 + ".com/",
]


async def test_bad_urls_are_refused(api, world):
    admin = world("acme", "admin")
    for url in BAD_URLS:
        result = await create(api, admin, url)
        assert result.code == "BAD_USER_INPUT", (url, result.body)
        assert result.errors[0]["extensions"]["field"] == "url"
    assert await WebhookEndpoint.find_all().count() == 0


async def test_loopback_and_private_networks_only_when_allowed(api, world, runtime, monkeypatch):
    admin = world("acme", "admin")
    config = runtime.services.webhooks
    monkeypatch.setattr(
        runtime.services, "webhooks", dataclasses.replace(config, allow_loopback=True)
    )
    assert (await create(api, admin, "http://127.0.0.1:9/hook")).ok()
    assert (await create(api, admin, "http://localhost:9/hook")).ok()
    assert (await create(api, admin, "https://10.0.0.5/hook")).code == "BAD_USER_INPUT"
    monkeypatch.setattr(
        runtime.services, "webhooks", dataclasses.replace(config, allow_private_networks=True)
    )
    assert (await create(api, admin, "https://10.0.0.5/hook")).ok()
    assert (await create(api, admin, "http://10.0.0.6/hook")).code == "BAD_USER_INPUT"  # https only
    metadata = await create(api, admin, "https://169.254.169.254/")  # never
    assert metadata.code == "BAD_USER_INPUT"


async def test_created_once_with_its_secret_then_never_shown(api, world):
    admin = world("acme", "admin")
    result = await create(
        api, admin, "https://Partner.Example.com/hooks/fidus?x=1", description=" Ledger "
    )
    webhook = result.ok()["createWebhook"]
    assert webhook["url"] == "https://partner.example.com/hooks/fidus?x=1"
    assert webhook["description"] == "Ledger" and webhook["eventTypes"] == ["INVESTMENT_CREATED"]
    secret = webhook["secret"]
    assert secret.startswith("whsec_") and len(secret) > 40
    [listed] = (await api.gql(LIST, token=admin.token)).ok()["webhooks"]
    assert listed["id"] == webhook["id"] and listed["secret"] is None
    stored = await WebhookEndpoint.get_pymongo_collection().find_one()
    assert secret not in str(stored) and secret[6:] not in str(stored)  # sealed, not plain


async def test_registering_the_same_url_twice_is_a_conflict(api, world):
    admin = world("acme", "admin")
    url = "https://partner.example.com/hook"
    assert (await create(api, admin, url)).ok()
    again = await create(api, admin, "https://PARTNER.example.com/hook", ("REDEMPTION_DECIDED",))
    assert again.code == "CONFLICT" and again.errors[0]["extensions"]["field"] == "url"
    assert (await create(api, world("globex", "admin"), url)).ok()  # another tenant may


async def test_concurrent_registrations_of_one_url_make_one_endpoint(api, world):
    admin = world("acme", "admin")
    results = await asyncio.gather(
        *(create(api, admin, "https://partner.example.com/race") for _ in range(5))
    )
    assert sorted(str(r.code) for r in results) == ["CONFLICT"] * 4 + ["None"]
    assert await WebhookEndpoint.find_all().count() == 1


async def test_event_types_and_description_are_checked(api, world):
    admin = world("acme", "admin")
    for types, description, field in [
        ([], "d", "eventTypes"),
        (["TEST"], "d", "eventTypes"),
        (["INVESTMENT_CREATED", "TEST"], "d", "eventTypes"),
        (["INVESTMENT_CREATED"], "x" * 501, "description"),
    ]:
        result = await create(api, admin, "https://p.example.com/", types, description)
        assert result.code == "BAD_USER_INPUT", result.body
        assert result.errors[0]["extensions"]["field"] == field


async def test_update_changes_only_what_is_given(api, world):
    admin = world("acme", "admin")
    webhook = (await create(api, admin, "https://one.example.com/")).ok()["createWebhook"]
    other = (await create(api, admin, "https://two.example.com/")).ok()["createWebhook"]
    changed = await api.gql(
        UPDATE,
        {"id": webhook["id"], "i": {"eventTypes": ["REDEMPTION_DECIDED", "DOCUMENT_SIGNED"]}},
        token=admin.token,
    )
    updated = changed.ok()["updateWebhook"]
    assert updated["eventTypes"] == ["DOCUMENT_SIGNED", "REDEMPTION_DECIDED"]
    assert updated["url"] == "https://one.example.com/" and updated["description"] == "d"
    moved = await api.gql(
        UPDATE,
        {"id": webhook["id"], "i": {"url": "https://three.example.com/x"}},
        token=admin.token,
    )
    assert moved.ok()["updateWebhook"]["url"] == "https://three.example.com/x"
    for bad, code in [
        ({"url": other["url"]}, "CONFLICT"),
        ({"url": "ftp://x.example.com/"}, "BAD_USER_INPUT"),
        ({"eventTypes": []}, "BAD_USER_INPUT"),
        ({"description": "x" * 501}, "BAD_USER_INPUT"),
    ]:
        result = await api.gql(UPDATE, {"id": webhook["id"], "i": bad}, token=admin.token)
        assert result.code == code, (bad, result.body)
    stored = await WebhookEndpoint.get(PydanticObjectId(webhook["id"]))
    assert stored.url == "https://three.example.com/x"  # the refused changes left it alone
    disabled = await api.gql(
        UPDATE, {"id": webhook["id"], "i": {"enabled": False}}, token=admin.token
    )
    assert disabled.ok()["updateWebhook"]["disabledReason"] == "disabled by an administrator"


async def test_delete_removes_the_endpoint_and_its_log(api, world, hooks, receiver):
    admin = world("acme", "admin")
    webhook = await register(api, admin, receiver)
    await api.gql(SEND_TEST, {"id": webhook["id"]}, token=admin.token)
    await settled(api, admin, webhook["id"])
    assert (await api.gql(DELETE, {"id": webhook["id"]}, token=admin.token)).ok()["deleteWebhook"]
    assert (await api.gql(LIST, token=admin.token)).ok()["webhooks"] == []
    assert await WebhookDelivery.find_all().count() == 0
    gone = await api.gql(PAGE, {"id": webhook["id"]}, token=admin.token)
    assert gone.code == "NOT_FOUND"
    assert (await api.gql(DELETE, {"id": webhook["id"]}, token=admin.token)).code == "NOT_FOUND"


async def test_the_delivery_log_pages_with_cursors(api, world, hooks, receiver):
    admin = world("acme", "admin")
    webhook = await register(api, admin, receiver)
    queued = [
        (await api.gql(SEND_TEST, {"id": webhook["id"]}, token=admin.token)).ok()[
            "sendTestWebhook"
        ]["id"]
        for _ in range(3)
    ]
    first = (await api.gql(PAGE, {"id": webhook["id"], "first": 2}, token=admin.token)).ok()
    page = first["webhookDeliveries"]
    assert [e["node"]["id"] for e in page["edges"]] == queued[:2] and page["pageInfo"][
        "hasNextPage"
    ]
    rest = await api.gql(
        PAGE,
        {"id": webhook["id"], "first": 2, "after": page["pageInfo"]["endCursor"]},
        token=admin.token,
    )
    assert [e["node"]["id"] for e in rest.ok()["webhookDeliveries"]["edges"]] == queued[2:]
    other = (await register(api, admin, receiver, "/other"))["id"]
    foreign = await api.gql(
        PAGE, {"id": other, "first": 2, "after": page["pageInfo"]["endCursor"]}, token=admin.token
    )
    assert foreign.code == "BAD_USER_INPUT"  # a cursor of another endpoint's log
    for first_value in (0, 1000):
        bad = await api.gql(PAGE, {"id": webhook["id"], "first": first_value}, token=admin.token)
        assert bad.code == "BAD_USER_INPUT"


async def test_admins_only_and_each_tenant_sees_its_own(api, world):
    admin = world("acme", "admin")
    webhook = (await create(api, admin, "https://acme.partner.invalid/")).ok()["createWebhook"]
    for who in ("manager", "analyst", "investor"):
        member = world("acme", who)
        assert (await create(api, member, "https://x.partner.invalid/")).code == "FORBIDDEN"
        assert (await api.gql(LIST, token=member.token)).code == "FORBIDDEN"
    stranger = world("globex", "admin")
    assert (await api.gql(LIST, token=stranger.token)).ok()["webhooks"] == []
    for document in (DELETE, SEND_TEST, PAGE):
        result = await api.gql(document, {"id": webhook["id"]}, token=stranger.token)
        assert result.code == "NOT_FOUND", result.body
    moved = await api.gql(
        UPDATE, {"id": webhook["id"], "i": {"enabled": False}}, token=stranger.token
    )
    assert moved.code == "NOT_FOUND"
    assert (await WebhookEndpoint.get(PydanticObjectId(webhook["id"]))).enabled
