"""Identity for tests: the GraphQL documents of passwords, invitations and MFA, and the
outbox messages (with the token each one carries) that resets and invitations leave."""

import re

from models.identity import OutboxMessage

REQUEST_RESET = "mutation($t: String!, $e: String!) { requestPasswordReset(tenant: $t, email: $e) }"
RESET = "mutation($t: String!, $p: String!) { resetPassword(token: $t, newPassword: $p) }"
CHANGE = (
    "mutation($c: String!, $n: String!) { changePassword(currentPassword: $c, newPassword: $n) }"
)
ACCEPT = """mutation($t: String!, $p: String!) { acceptInvitation(token: $t, password: $p) {
  accessToken refreshToken user { email role } } }"""
CREATE_USER = (
    """mutation($i: CreateUserInput!) { createUser(input: $i) { id email role kycStatus } }"""
)
NEW_PASSWORD = "a brand new passphrase"

ENROLL = "mutation { enrollMfa { secret otpauthUri } }"
CONFIRM = "mutation($c: String!) { confirmMfa(code: $c) }"
DISABLE = "mutation($c: String!) { disableMfa(code: $c) }"


def token_in(message: OutboxMessage) -> str:
    """The token a reset or invitation message ends with."""
    match = re.search(r"([A-Za-z0-9_-]{40,})$", message.body)
    assert match, message.body
    return match.group(1)


async def outbox(to: str, kind: str) -> list[OutboxMessage]:
    return await OutboxMessage.find({"to": to, "kind": kind}).sort("_id").to_list()
