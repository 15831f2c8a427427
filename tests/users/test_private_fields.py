"""What an investor sees of other users (their advisor in a conversation, a message's
sender): id, name, role and email; never phone, KYC, MFA, currency or sign-up date."""

from tests.support.messaging import conversation_between, send
from tests.support.users import PROFILE

PUBLIC = "id fullName role email"
PARTICIPANTS = """query($id: ID!) { conversation(id: $id) { participants { %s } } }"""
SENDERS = (
    """query($id: ID!) { messages(conversationId: $id) { edges { node { sender { %s } } } } }"""
)


def by_role(result):
    return {p["role"]: p for p in result.ok()["conversation"]["participants"]}


async def test_an_investor_sees_only_public_fields_of_staff(api, world):
    investor, manager = world("acme", "investor"), world("acme", "manager")
    for member, phone in ((manager, "+41795550101"), (investor, "+41795550202")):
        (await api.gql(PROFILE, {"i": {"phone": phone}}, token=member.token)).ok()
    conversation = await conversation_between(api, world)
    (await send(api, manager, conversation, "Your advisor here")).ok()

    seen = by_role(
        await api.gql(PARTICIPANTS % f"{PUBLIC} phone", {"id": conversation}, token=investor.token)
    )
    assert seen["MANAGER"] == {
        "id": manager.id,
        "fullName": "Manager Acme",
        "role": "MANAGER",
        "email": manager.email,
        "phone": None,
    }
    assert seen["INVESTOR"]["phone"] == "+41795550202"  # their own

    for field in ("kycStatus", "mfaEnabled", "createdAt", "baseCurrency"):
        for query in (PARTICIPANTS, SENDERS):
            result = await api.gql(
                query % f"id {field}", {"id": conversation}, token=investor.token
            )
            assert result.codes == ["FORBIDDEN"], (field, result.body)
            assert result.errors[0]["path"][-1] == field
    own = await api.gql(
        "{ me { kycStatus mfaEnabled createdAt baseCurrency phone } }", token=investor.token
    )
    assert own.ok()["me"]["phone"] == "+41795550202"

    private = "phone kycStatus mfaEnabled createdAt baseCurrency"
    staff_view = by_role(
        await api.gql(
            PARTICIPANTS % f"{PUBLIC} {private}", {"id": conversation}, token=manager.token
        )
    )
    assert staff_view["MANAGER"]["phone"] == "+41795550101"
    assert staff_view["INVESTOR"]["kycStatus"] == "NOT_STARTED"
