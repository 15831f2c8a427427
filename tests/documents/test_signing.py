"""E-signature: typed name and consent, one signature per signer (atomic), the hash bound
to the stored bytes, verification, and the investment readiness gate end to end."""

import asyncio
import hashlib

from beanie import PydanticObjectId

from models.audit import AuditEntry
from models.documents.records import DocumentCategory, DocumentRecord
from resolvers.documents import files as document_files
from tests.support.documents import PDF_BYTES, SIGN, make_document, upload
from tests.support.domain import invest_in_fund, make_ready

VERIFY = """query($id: ID!) { verifyDocument(id: $id) {
  valid contentIntact signaturesIntact computedSha256 document { sha256 } } }"""
SHARE = "mutation($id: ID!, $u: [ID!]!) { shareDocument(id: $id, userIds: $u) { id } }"


async def _sign(api, member, doc, name="Investor Acme", consent=True):
    return await api.gql(SIGN, {"id": doc, "name": name, "consent": consent}, token=member.token)


async def test_the_owner_signs_with_typed_name_and_consent(api, world) -> None:
    investor = world("acme", "investor")
    doc = await make_document(investor, DocumentCategory.AGREEMENT)
    result = await _sign(api, investor, doc, name="  investor   ACME ", consent=True)
    signed = result.ok()["signDocument"]
    digest = hashlib.sha256(PDF_BYTES).hexdigest()
    [signature] = signed["signatures"]
    assert signature["signer"]["id"] == investor.id
    assert signature["documentSha256"] == digest == signed["sha256"]
    assert signature["fullName"] == "investor ACME"
    stored = await DocumentRecord.get(PydanticObjectId(doc))
    record = stored.signatures[0]
    assert record.client_ip == "127.0.0.1"
    assert record.user_agent and "python-httpx" in record.user_agent
    entry = await AuditEntry.find_one({"action": "document.sign"})
    assert entry is not None and entry.detail["sha256"] == digest
    assert entry.actor_id == PydanticObjectId(investor.id)


async def test_name_mismatch_and_missing_consent_are_bad_input(api, world) -> None:
    investor = world("acme", "investor")
    doc = await make_document(investor)
    for name, consent, field in [
        ("Investor Globex", True, "fullName"),
        ("", True, "fullName"),
        ("Investor Acme", False, "consent"),
        ("I" * 100_000, True, "fullName"),
    ]:
        result = await _sign(api, investor, doc, name=name, consent=consent)
        assert result.code == "BAD_USER_INPUT", result.body
        assert result.errors[0]["extensions"]["field"] == field
    stored = await DocumentRecord.get(PydanticObjectId(doc))
    assert stored.signatures == []


async def test_signing_twice_is_a_conflict_even_concurrently(api, world) -> None:
    investor = world("acme", "investor")
    doc = await make_document(investor)
    _sign_ok = (await _sign(api, investor, doc)).ok()
    assert len(_sign_ok["signDocument"]["signatures"]) == 1
    assert (await _sign(api, investor, doc)).code == "CONFLICT"
    fresh = await make_document(investor)
    results = await asyncio.gather(*(_sign(api, investor, fresh) for _ in range(4)))
    assert sorted(r.code or "OK" for r in results) == ["CONFLICT", "CONFLICT", "CONFLICT", "OK"]
    stored = await DocumentRecord.get(PydanticObjectId(fresh))
    assert len(stored.signatures) == 1


async def test_who_may_sign(api, world) -> None:
    """The owner and users it is shared with (co-signers); staff only read."""
    investor, investor2 = world("acme", "investor"), world("acme", "investor2")
    doc = await make_document(investor)
    assert (await _sign(api, investor2, doc, "Investor2 Acme")).code == "NOT_FOUND"
    for staff in ("admin", "manager", "analyst"):
        name = f"{staff.title()} Acme" if staff != "admin" else "x"
        assert (await _sign(api, world("acme", staff), doc, name)).code == "FORBIDDEN"
    assert (await _sign(api, world("globex", "investor"), doc, "Investor Globex")).code == (
        "NOT_FOUND"
    )
    (await api.gql(SHARE, {"id": doc, "u": [investor2.id]}, token=investor.token)).ok()
    co_signed = (await _sign(api, investor2, doc, "Investor2 Acme")).ok()["signDocument"]
    assert [s["signer"]["id"] for s in co_signed["signatures"]] == [investor2.id]


async def _tamper(doc_id: str) -> None:
    """Overwrite the stored bytes directly in GridFS (same length)."""
    stored = await DocumentRecord.get(PydanticObjectId(doc_id))
    database = DocumentRecord.get_pymongo_collection().database
    chunks = database[f"{document_files.BUCKET}.chunks"]
    original = await chunks.find_one({"files_id": stored.file_id, "n": 0})
    forged = bytes(original["data"]).replace(b"Catalog", b"Hacked!")
    assert forged != original["data"]
    await chunks.update_one({"_id": original["_id"]}, {"$set": {"data": forged}})


async def test_verification_recomputes_the_hash_and_detects_tampering(api, world) -> None:
    investor = world("acme", "investor")
    doc = await make_document(investor, DocumentCategory.AGREEMENT)
    (await _sign(api, investor, doc)).ok()
    check = (await api.gql(VERIFY, {"id": doc}, token=investor.token)).ok()["verifyDocument"]
    digest = hashlib.sha256(PDF_BYTES).hexdigest()
    assert check == {
        "valid": True,
        "contentIntact": True,
        "signaturesIntact": True,
        "computedSha256": digest,
        "document": {"sha256": digest},
    }
    await _tamper(doc)
    analyst = world("acme", "analyst")
    check = (await api.gql(VERIFY, {"id": doc}, token=analyst.token)).ok()["verifyDocument"]
    assert check["valid"] is False
    assert check["contentIntact"] is False and check["signaturesIntact"] is False
    assert check["computedSha256"] != digest


async def test_tampered_bytes_cannot_be_signed(api, world) -> None:
    investor = world("acme", "investor")
    doc = await make_document(investor, DocumentCategory.AGREEMENT)
    await _tamper(doc)
    assert (await _sign(api, investor, doc)).code == "CONFLICT"
    stored = await DocumentRecord.get(PydanticObjectId(doc))
    assert stored.signatures == []


async def test_verification_of_an_unsigned_document_and_visibility(api, world) -> None:
    investor = world("acme", "investor")
    doc = await make_document(investor)
    check = (await api.gql(VERIFY, {"id": doc}, token=investor.token)).ok()["verifyDocument"]
    assert check["valid"] is True and check["signaturesIntact"] is True
    other = await api.gql(VERIFY, {"id": doc}, token=world("acme", "investor2").token)
    assert other.code == "NOT_FOUND"


async def test_a_signed_agreement_satisfies_the_readiness_gate(api, world) -> None:
    """End to end: staff issue the agreement over multipart, the investor signs it, and
    only then can an investment be created for them."""
    admin, investor = world("acme", "admin"), world("acme", "investor")
    await make_ready(investor, agreement=False)  # KYC approved, no agreement yet
    blocked = await invest_in_fund(api, admin, investor, key="k1")
    assert blocked["errors"][0]["extensions"]["code"] == "CONFLICT"
    assert "AGREEMENT" in blocked["errors"][0]["message"]
    issued = await upload(api, admin.token, PDF_BYTES, category="AGREEMENT", owner=investor.id)
    doc = issued.ok()["uploadDocument"]["id"]
    still_blocked = await invest_in_fund(api, admin, investor, key="k2")
    assert still_blocked["errors"][0]["extensions"]["code"] == "CONFLICT"
    (await _sign(api, investor, doc)).ok()
    done = await invest_in_fund(api, admin, investor, key="k3")
    assert "errors" not in done, done
    assert done["data"]["createInvestment"]["investor"]["id"] == investor.id


async def test_another_users_signature_does_not_make_the_investor_ready(api, world) -> None:
    admin, investor, investor2 = (
        world("acme", "admin"),
        world("acme", "investor"),
        world("acme", "investor2"),
    )
    await make_ready(investor, agreement=False)
    issued = await upload(api, admin.token, PDF_BYTES, category="AGREEMENT", owner=investor.id)
    doc = issued.ok()["uploadDocument"]["id"]
    (await api.gql(SHARE, {"id": doc, "u": [investor2.id]}, token=admin.token)).ok()
    (await _sign(api, investor2, doc, "Investor2 Acme")).ok()
    blocked = await invest_in_fund(api, admin, investor, key="k")
    assert blocked["errors"][0]["extensions"]["code"] == "CONFLICT"
