"""KYC review of identity and proof-of-address documents drives the owner's kycStatus."""

import asyncio

from beanie import PydanticObjectId

from models.audit import AuditEntry
from models.users import KycStatus, User
from tests.support.documents import PDF_BYTES, make_document, upload

REVIEW = """mutation($id: ID!, $d: DocumentDecision!, $r: String) {
  reviewDocument(id: $id, decision: $d, reason: $r) {
    id reviewStatus reviewReason owner { kycStatus } } }"""


async def _kyc(member) -> KycStatus:
    user = await User.get(PydanticObjectId(member.id))
    return user.kyc_status


async def _upload(api, member, category) -> str:
    result = await upload(api, member.token, PDF_BYTES, category=category)
    doc = result.ok()["uploadDocument"]
    assert doc["reviewStatus"] == "PENDING"
    return str(doc["id"])


async def _review(api, staff, doc, decision, reason=None):
    return await api.gql(REVIEW, {"id": doc, "d": decision, "r": reason}, token=staff.token)


async def test_the_full_flow_from_not_started_to_approved(api, world) -> None:
    investor, manager = world("acme", "investor"), world("acme", "manager")
    assert await _kyc(investor) is KycStatus.NOT_STARTED
    id_doc = await _upload(api, investor, "KYC_ID")
    assert await _kyc(investor) is KycStatus.PENDING
    approved = (await _review(api, manager, id_doc, "APPROVED")).ok()["reviewDocument"]
    assert approved["reviewStatus"] == "APPROVED"
    assert approved["owner"]["kycStatus"] == "PENDING"  # still needs a proof of address
    address = await _upload(api, investor, "PROOF_OF_ADDRESS")
    result = (await _review(api, manager, address, "APPROVED")).ok()["reviewDocument"]
    assert result["owner"]["kycStatus"] == "APPROVED"
    decisions = await AuditEntry.find({"action": "document.review"}).count()
    kyc_changes = await AuditEntry.find({"action": "kyc.review"}).to_list()
    assert decisions == 2
    assert [(e.detail["previous"], e.detail["status"]) for e in kyc_changes] == [
        ("NOT_STARTED", "PENDING"),
        ("PENDING", "APPROVED"),
    ]


async def test_a_rejection_needs_a_reason_and_rejects_kyc_until_resubmitted(api, world) -> None:
    investor, admin = world("acme", "investor"), world("acme", "admin")
    id_doc = await _upload(api, investor, "KYC_ID")
    no_reason = await _review(api, admin, id_doc, "REJECTED", "   ")
    assert no_reason.code == "BAD_USER_INPUT"
    assert no_reason.errors[0]["extensions"]["field"] == "reason"
    rejected = (await _review(api, admin, id_doc, "REJECTED", "blurred")).ok()["reviewDocument"]
    assert (rejected["reviewStatus"], rejected["reviewReason"]) == ("REJECTED", "blurred")
    assert await _kyc(investor) is KycStatus.REJECTED
    again = await _upload(api, investor, "KYC_ID")  # resubmission: back to review
    assert await _kyc(investor) is KycStatus.PENDING
    (await _review(api, admin, again, "APPROVED")).ok()
    address = await _upload(api, investor, "PROOF_OF_ADDRESS")
    (await _review(api, admin, address, "APPROVED")).ok()
    assert await _kyc(investor) is KycStatus.APPROVED


async def test_a_rejected_address_rejects_an_approved_investor(api, world) -> None:
    investor, admin = world("acme", "investor"), world("acme", "admin")
    for category in ("KYC_ID", "PROOF_OF_ADDRESS"):
        (await _review(api, admin, await _upload(api, investor, category), "APPROVED")).ok()
    assert await _kyc(investor) is KycStatus.APPROVED
    newer = await _upload(api, investor, "PROOF_OF_ADDRESS")
    assert await _kyc(investor) is KycStatus.APPROVED  # an upload never downgrades
    (await _review(api, admin, newer, "REJECTED", "expired bill")).ok()
    assert await _kyc(investor) is KycStatus.REJECTED


async def test_a_decision_is_final_even_under_concurrency(api, world) -> None:
    investor = world("acme", "investor")
    admin, manager = world("acme", "admin"), world("acme", "manager")
    doc = await _upload(api, investor, "KYC_ID")
    results = await asyncio.gather(
        _review(api, admin, doc, "APPROVED"),
        _review(api, manager, doc, "REJECTED", "no"),
        _review(api, admin, doc, "APPROVED"),
    )
    assert sorted(r.code or "OK" for r in results) == ["CONFLICT", "CONFLICT", "OK"]
    assert (await _review(api, admin, doc, "APPROVED")).code == "CONFLICT"


async def test_review_refusals(api, world) -> None:
    investor = world("acme", "investor")
    kyc_doc = await _upload(api, investor, "KYC_ID")
    other = await make_document(investor)
    admin_own = await _upload(api, world("acme", "admin"), "KYC_ID")
    cases = [
        (world("acme", "analyst"), kyc_doc, "FORBIDDEN"),
        (investor, kyc_doc, "FORBIDDEN"),
        (world("globex", "admin"), kyc_doc, "NOT_FOUND"),
        (world("acme", "admin"), other, "BAD_USER_INPUT"),  # not a KYC document
        (world("acme", "admin"), admin_own, "FORBIDDEN"),  # not your own
        (world("acme", "admin"), "nope", "BAD_USER_INPUT"),
    ]
    for staff, doc, code in cases:
        result = await _review(api, staff, doc, "APPROVED")
        assert result.code == code, (staff.email, result.body)
    assert await _kyc(investor) is KycStatus.PENDING


async def test_staff_uploading_kyc_for_an_investor_starts_their_review(api, world) -> None:
    investor = world("acme", "investor2")
    result = await upload(
        api, world("acme", "manager").token, PDF_BYTES, category="KYC_ID", owner=investor.id
    )
    assert result.ok()["uploadDocument"]["owner"]["kycStatus"] == "PENDING"
