"""Who may upload for whom, who sees which documents, sharing and unsharing."""

import asyncio

from beanie import PydanticObjectId

from models.documents.records import DocumentCategory, DocumentRecord
from tests.support.documents import PDF_BYTES, make_document, stored_documents, upload

DOCUMENT = "query($id: ID!) { document(id: $id) { id downloadUrl owner { id } } }"
LIST = """query($owner: ID, $category: DocumentCategory, $after: String, $first: Int) {
  documents(ownerId: $owner, category: $category, after: $after, first: $first) {
    edges { node { id category owner { id } } } pageInfo { hasNextPage endCursor } } }"""
SHARE = "mutation($id: ID!, $u: [ID!]!) { shareDocument(id: $id, userIds: $u) { id } }"
UNSHARE = "mutation($id: ID!, $u: [ID!]!) { unshareDocument(id: $id, userIds: $u) { id } }"


async def _ids(api, member, **variables) -> list[str]:
    result = await api.gql(LIST, variables, token=member.token)
    return [e["node"]["id"] for e in result.ok()["documents"]["edges"]]


async def test_staff_upload_for_any_user_of_their_tenant(api, world) -> None:
    investor = world("acme", "investor")
    for staff in ("admin", "manager"):
        result = await upload(
            api, world("acme", staff).token, PDF_BYTES, category="AGREEMENT", owner=investor.id
        )
        assert result.ok()["uploadDocument"]["owner"]["id"] == investor.id
    own = await upload(api, world("acme", "manager").token, PDF_BYTES)
    assert own.ok()["uploadDocument"]["owner"]["id"] == world("acme", "manager").id


async def test_upload_refusals(api, world) -> None:
    investor = world("acme", "investor")
    cases = [
        (world("acme", "analyst").token, {}, "FORBIDDEN"),
        (investor.token, {"owner": world("acme", "investor2").id}, "NOT_FOUND"),
        (investor.token, {"category": "AGREEMENT"}, "FORBIDDEN"),  # issued by staff
        (investor.token, {"category": "STATEMENT"}, "FORBIDDEN"),
        (world("acme", "admin").token, {"owner": world("globex", "investor").id}, "NOT_FOUND"),
        (world("acme", "admin").token, {"owner": "not-an-id"}, "BAD_USER_INPUT"),
    ]
    for token, kwargs, code in cases:
        result = await upload(api, token, PDF_BYTES, **kwargs)
        assert result.code == code, (kwargs, result.body)
    assert await stored_documents() == (0, 0)
    own = await upload(api, investor.token, PDF_BYTES, owner=investor.id, category="TAX")
    assert own.ok()["uploadDocument"]["category"] == "TAX"


async def test_visibility_owner_readers_and_no_one_else(api, world) -> None:
    doc = await make_document(world("acme", "investor"))
    for who in ("investor", "admin", "manager", "analyst"):
        result = await api.gql(DOCUMENT, {"id": doc}, token=world("acme", who).token)
        assert result.ok()["document"]["id"] == doc, who
    for tenant, who in (("acme", "investor2"), ("globex", "admin"), ("globex", "investor")):
        result = await api.gql(DOCUMENT, {"id": doc}, token=world(tenant, who).token)
        assert result.code == "NOT_FOUND", (tenant, who)


async def test_list_filters_by_owner_and_category_within_visibility(api, world) -> None:
    investor, investor2 = world("acme", "investor"), world("acme", "investor2")
    own_tax = await make_document(investor, category=DocumentCategory.TAX)
    own_other = await make_document(investor)
    theirs = await make_document(investor2)
    await make_document(world("globex", "investor"))
    assert await _ids(api, investor) == [own_tax, own_other]
    assert await _ids(api, investor, category="TAX") == [own_tax]
    assert await _ids(api, investor, owner=investor2.id) == []
    analyst = world("acme", "analyst")
    assert await _ids(api, analyst) == [own_tax, own_other, theirs]
    assert await _ids(api, analyst, owner=investor2.id) == [theirs]
    first = (await api.gql(LIST, {"first": 2}, token=analyst.token)).ok()["documents"]
    assert first["pageInfo"]["hasNextPage"]
    rest = await _ids(api, analyst, after=first["pageInfo"]["endCursor"])
    assert rest == [theirs]


async def test_share_then_download_then_unshare(api, world) -> None:
    investor, investor2 = world("acme", "investor"), world("acme", "investor2")
    doc = (await upload(api, investor.token, PDF_BYTES)).ok()["uploadDocument"]["id"]
    assert (await api.gql(DOCUMENT, {"id": doc}, token=investor2.token)).code == "NOT_FOUND"
    for _ in range(2):  # idempotent
        (await api.gql(SHARE, {"id": doc, "u": [investor2.id]}, token=investor.token)).ok()
    stored = await DocumentRecord.get(PydanticObjectId(doc))
    assert stored.shared_with == [PydanticObjectId(investor2.id)]
    assert await _ids(api, investor2) == [doc]
    seen = (await api.gql(DOCUMENT, {"id": doc}, token=investor2.token)).ok()["document"]
    link = seen["downloadUrl"]
    response = await api.client.get(f"{api.base_url}{link}")
    assert response.status_code == 200 and response.content == PDF_BYTES
    (await api.gql(UNSHARE, {"id": doc, "u": [investor2.id]}, token=investor.token)).ok()
    assert (await api.client.get(f"{api.base_url}{link}")).status_code == 404
    assert await _ids(api, investor2) == []


async def test_share_rules(api, world) -> None:
    investor, investor2 = world("acme", "investor"), world("acme", "investor2")
    doc = await make_document(investor)
    cases = [
        (investor.token, [world("globex", "investor").id], "NOT_FOUND"),
        (investor.token, ["bad"], "BAD_USER_INPUT"),
        (investor.token, [], "BAD_USER_INPUT"),
        (investor2.token, [investor2.id], "NOT_FOUND"),  # cannot see it
        (world("acme", "analyst").token, [investor2.id], "FORBIDDEN"),  # read-only
        (world("globex", "admin").token, [world("globex", "investor").id], "NOT_FOUND"),
    ]
    for token, users, code in cases:
        result = await api.gql(SHARE, {"id": doc, "u": users}, token=token)
        assert result.code == code, (users, result.body)
    (await api.gql(SHARE, {"id": doc, "u": [investor2.id]}, token=investor.token)).ok()
    reshare = await api.gql(
        SHARE, {"id": doc, "u": [world("acme", "analyst").id]}, token=investor2.token
    )
    assert reshare.code == "FORBIDDEN"  # only the owner or staff share
    by_staff = await api.gql(
        SHARE, {"id": doc, "u": [investor.id, investor2.id]}, token=world("acme", "manager").token
    )
    by_staff.ok()
    stored = await DocumentRecord.get(PydanticObjectId(doc))
    assert stored.shared_with == [PydanticObjectId(investor2.id)]  # the owner is not added


async def test_concurrent_shares_of_the_same_user_add_them_once(api, world) -> None:
    investor, investor2 = world("acme", "investor"), world("acme", "investor2")
    doc = await make_document(investor)
    results = await asyncio.gather(
        *(api.gql(SHARE, {"id": doc, "u": [investor2.id]}, token=investor.token) for _ in range(5))
    )
    assert all(not r.errors for r in results)
    stored = await DocumentRecord.get(PydanticObjectId(doc))
    assert stored.shared_with == [PydanticObjectId(investor2.id)]
