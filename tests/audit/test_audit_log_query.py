"""auditLog: ADMIN only, tenant-scoped, newest first, keyset pages, filters; and no
operation of the API can change or delete an audit entry."""

from datetime import timedelta

from graphql import get_named_type

from models.audit import AuditEntry
from models.base import utc_now
from schema import build_schema
from tests.support.domain import tenant_id_of

AUDIT_LOG = """query($first: Int, $after: String, $action: String, $actor: ID, $target: ID,
  $since: DateTime) {
  auditLog(first: $first, after: $after, action: $action, actorId: $actor, targetId: $target,
           since: $since) {
    edges { cursor node { id action actor { id email } targetType targetId clientIp userAgent
      requestId detail createdAt } }
    pageInfo { hasNextPage endCursor } } }"""


async def audit_log(api, member, **variables):
    return await api.gql(AUDIT_LOG, variables, token=member.token)


async def every_entry(api, member, first=4, **filters):
    nodes, after = [], None
    while True:
        page = (await audit_log(api, member, first=first, after=after, **filters)).ok()["auditLog"]
        nodes += [edge["node"] for edge in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            return nodes
        after = page["pageInfo"]["endCursor"]


async def test_only_admins_read_the_log(api, world):
    for role in ("manager", "analyst", "investor"):
        assert (await audit_log(api, world("acme", role))).code == "FORBIDDEN"
    assert (await api.gql(AUDIT_LOG)).code == "UNAUTHENTICATED"


async def test_the_log_is_tenant_scoped_newest_first_and_pages(api, world):
    admin = world("acme", "admin")
    for _ in range(3):
        await api.gql(
            "mutation($id: ID!) { reviewKyc(userId: $id, status: PENDING) { id } }",
            {"id": world("acme", "investor").id},
            token=admin.token,
        )
    nodes = await every_entry(api, admin, first=4)
    acme = await AuditEntry.find({"tenant_id": await tenant_id_of(admin)}).count()
    assert len(nodes) == acme and len({n["id"] for n in nodes}) == acme
    assert [n["id"] for n in nodes] == sorted((n["id"] for n in nodes), reverse=True)
    assert nodes[0]["action"] == "kyc.review"
    assert nodes[0]["actor"] == {"id": admin.id, "email": admin.email}
    assert nodes[0]["detail"] == {"previous": "PENDING", "status": "PENDING", "reason": None}
    assert nodes[0]["clientIp"] == "127.0.0.1" and nodes[0]["targetType"] == "User"
    globex = await every_entry(api, world("globex", "admin"), first=50)
    assert globex and not {n["id"] for n in globex} & {n["id"] for n in nodes}
    foreign = await audit_log(api, world("globex", "admin"), after=nodes[0]["id"])
    assert foreign.code == "BAD_USER_INPUT"


async def test_filters(api, world):
    admin, investor = world("acme", "admin"), world("acme", "investor")
    await api.gql(
        "mutation($id: ID!) { reviewKyc(userId: $id, status: PENDING) { id } }",
        {"id": investor.id},
        token=admin.token,
    )
    logins = await every_entry(api, admin, action="auth.login")
    assert len(logins) == 5 and {n["action"] for n in logins} == {"auth.login"}
    mine = await every_entry(api, admin, actor=investor.id)
    assert [n["action"] for n in mine] == ["auth.login"]
    about = await every_entry(api, admin, target=investor.id)
    assert [n["action"] for n in about] == ["kyc.review", "auth.login"]
    future = await every_entry(api, admin, since=(utc_now() + timedelta(hours=1)).isoformat())
    assert future == []
    for bad in ({"actor": "nope"}, {"target": "x" * 30}, {"action": " "}, {"first": 0}):
        assert (await audit_log(api, admin, **bad)).code == "BAD_USER_INPUT", bad


def test_no_operation_changes_or_deletes_audit_entries() -> None:
    schema = build_schema()._schema
    mutation = schema.mutation_type
    assert mutation is not None
    for name, field in mutation.fields.items():
        assert "audit" not in name.lower(), name
        assert get_named_type(field.type).name != "AuditEntry", name
    subscription = schema.subscription_type
    assert subscription is not None
    assert all("audit" not in name.lower() for name in subscription.fields)
