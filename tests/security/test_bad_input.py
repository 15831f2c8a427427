"""Bad input for every mutation, derived from the live schema so new mutations are covered
automatically: missing required arguments, wrong types, oversize strings. Plus the
document limits (depth, aliases, tokens)."""

import pytest
from graphql import GraphQLNonNull, Undefined, get_named_type

from schema import build_schema

SCHEMA = build_schema()._schema
MUTATIONS = SCHEMA.mutation_type.fields
WITH_ARGS = sorted(name for name, field in MUTATIONS.items() if field.args)


def _required_args(field) -> list[str]:
    return [
        name
        for name, arg in field.args.items()
        if isinstance(arg.type, GraphQLNonNull) and arg.default_value is Undefined
    ]


def _selection(field) -> str:
    named = get_named_type(field.type)
    return "" if not hasattr(named, "fields") else " { __typename }"


@pytest.mark.parametrize("name", WITH_ARGS)
async def test_missing_required_arguments(api, world, name) -> None:
    field = MUTATIONS[name]
    assert _required_args(field), f"{name}: give its optional arguments a bad-input case"
    result = await api.gql(
        f"mutation {{ {name}{_selection(field)} }}", token=world("acme", "admin").token
    )
    assert result.code == "BAD_USER_INPUT", result.body


@pytest.mark.parametrize("name", WITH_ARGS)
async def test_wrong_argument_types(api, world, name) -> None:
    field = MUTATIONS[name]
    arg_name = _required_args(field)[0]
    arg_type = field.args[arg_name].type
    declared = str(arg_type)
    wrong = {"lists": 12345} if declared.startswith("[") else [[1, 2], {"x": 1}]
    result = await api.gql(
        f"mutation($v: {declared}) {{ {name}({arg_name}: $v){_selection(field)} }}",
        {"v": wrong},
        token=world("acme", "admin").token,
    )
    assert result.code == "BAD_USER_INPUT", result.body


OVERSIZE = "x" * 100_000
OVERSIZE_CASES = {
    "login": (
        'mutation($v: String!) { login(tenant: "acme", email: $v, password: $v) { accessToken } }',
        "UNAUTHENTICATED",
    ),
    "requestPasswordReset": (
        "mutation($v: String!) { requestPasswordReset(tenant: $v, email: $v) }",
        None,
    ),
    "resetPassword": (
        "mutation($v: String!) { resetPassword(token: $v, newPassword: $v) }",
        "BAD_USER_INPUT",
    ),
    "acceptInvitation": (
        "mutation($v: String!) { acceptInvitation(token: $v, password: $v) { accessToken } }",
        "BAD_USER_INPUT",
    ),
    "refreshToken": (
        "mutation($v: String!) { refreshToken(refreshToken: $v) { accessToken } }",
        "UNAUTHENTICATED",
    ),
    "changePassword": (
        "mutation($v: String!) { changePassword(currentPassword: $v, newPassword: $v) }",
        "UNAUTHENTICATED",
    ),
    "createUser": (
        "mutation($v: String!) { createUser(input: {email: $v, fullName: $v, "
        "role: INVESTOR}) { id } }",
        "BAD_USER_INPUT",
    ),
    "updateProfile": (
        "mutation($v: String!) { updateProfile(input: {fullName: $v}) { id } }",
        "BAD_USER_INPUT",
    ),
    "reviewKyc": (
        "mutation($v: String!) { reviewKyc(userId: $v, status: APPROVED) { id } }",
        "BAD_USER_INPUT",
    ),
    "createServiceToken": (
        "mutation($v: String!) { createServiceToken(name: $v, scopes: [$v]) { id } }",
        "BAD_USER_INPUT",
    ),
    "revokeSession": ("mutation($v: ID!) { revokeSession(id: $v) }", "BAD_USER_INPUT"),
    "renewConnection": (
        "mutation($v: String!) { renewConnection(accessToken: $v) }",
        "BAD_USER_INPUT",  # over HTTP; over the socket: tests/transport/test_live_sessions.py
    ),
    "revokeServiceToken": ("mutation($v: ID!) { revokeServiceToken(id: $v) }", "BAD_USER_INPUT"),
    "confirmMfa": ("mutation($v: String!) { confirmMfa(code: $v) }", "CONFLICT"),
    "disableMfa": ("mutation($v: String!) { disableMfa(code: $v) }", "CONFLICT"),
    "logout": ("mutation($v: String!) { logout(refreshToken: $v) }", "UNAUTHENTICATED"),
    "updateFund": (
        "mutation($v: String!) { updateFund(code: $v, input: {name: $v}) { code } }",
        "BAD_USER_INPUT",
    ),
    "inviteToFund": (
        "mutation($v: String!, $id: ID!) { inviteToFund(investorId: $id, fundCode: $v) "
        "{ fundCode } }",
        "BAD_USER_INPUT",
    ),
    "createInvestment": (
        "mutation($v: String!, $id: ID!) { createInvestment(input: {investorId: $id, "
        'fundCode: $v, amount: "1", depositDate: "2025-01-01", '
        "idempotencyKey: $v}) { id } }",
        "BAD_USER_INPUT",
    ),
    "invest": (
        'mutation($v: String!, $id: ID!) { invest(input: {opportunityId: $id, amount: "1", '
        "idempotencyKey: $v}) { id } }",
        "FORBIDDEN",
    ),  # an ADMIN does not invest
    "requestRedemption": (
        "mutation($v: String!, $id: ID!) { requestRedemption(input: {investmentId: $id, "
        'amount: "1", kind: $v}) { id } }',
        "BAD_USER_INPUT",
    ),
    "approveRedemption": (
        "mutation($v: ID!) { approveRedemption(id: $v) { id } }",
        "BAD_USER_INPUT",
    ),
    "rejectRedemption": (
        "mutation($v: String!, $id: ID!) { rejectRedemption(id: $id, reason: $v) { id } }",
        "BAD_USER_INPUT",
    ),
    "cancelRedemption": ("mutation($v: ID!) { cancelRedemption(id: $v) { id } }", "BAD_USER_INPUT"),
    "completeRedemption": (
        "mutation($v: ID!) { completeRedemption(id: $v) { id } }",
        "BAD_USER_INPUT",
    ),
    "recordTransaction": (
        "mutation($v: String!, $id: ID!) { recordTransaction(input: {portfolioId: $id, "
        'type: DEPOSIT, amount: "1", idempotencyKey: $v}) { id } }',
        "BAD_USER_INPUT",
    ),
    "createPortfolio": (
        "mutation($v: String!) { createPortfolio(name: $v) { id } }",
        "BAD_USER_INPUT",
    ),
    "createOpportunity": (
        "mutation($v: String!) { createOpportunity(input: {name: $v, "
        'description: $v, targetRaise: "100", minimumInvestment: "1"}) { id } }',
        "BAD_USER_INPUT",
    ),
    "updateOpportunity": (
        "mutation($v: String!, $id: ID!) { updateOpportunity(id: $id, input: {name: $v}) { id } }",
        "BAD_USER_INPUT",
    ),
    "publishOpportunity": (
        "mutation($v: ID!) { publishOpportunity(id: $v) { id } }",
        "BAD_USER_INPUT",
    ),
    "closeOpportunity": ("mutation($v: ID!) { closeOpportunity(id: $v) { id } }", "BAD_USER_INPUT"),
    "mapMt5Account": (
        "mutation($v: String!) { mapMt5Account(login: 1, server: $v, fundCode: $v, "
        'initialAllocation: "1") { login } }',
        "NOT_FOUND",  # no snapshot of such an account
    ),
    "startConversation": (
        "mutation($v: String!, $id: ID!) { startConversation(participantIds: [$id], "
        "subject: $v) { id } }",
        "BAD_USER_INPUT",
    ),
    "sendMessage": (
        "mutation($v: String!, $id: ID!) { sendMessage(conversationId: $id, body: $v, "
        "clientMessageId: $v) { id } }",
        "BAD_USER_INPUT",
    ),
    "markConversationRead": (
        "mutation($v: ID!) { markConversationRead(conversationId: $v) { id } }",
        "BAD_USER_INPUT",
    ),
    "uploadDocument": (
        "mutation($v: Upload!) { uploadDocument(file: $v, input: {category: OTHER}) { id } }",
        "BAD_USER_INPUT",
    ),  # not a multipart upload
    "shareDocument": (
        "mutation($v: ID!) { shareDocument(id: $v, userIds: [$v]) { id } }",
        "BAD_USER_INPUT",
    ),
    "unshareDocument": (
        "mutation($v: ID!) { unshareDocument(id: $v, userIds: [$v]) { id } }",
        "BAD_USER_INPUT",
    ),
    "signDocument": (
        "mutation($v: String!, $id: ID!) { signDocument(id: $id, input: "
        "{fullName: $v, consent: true}) { id } }",
        "BAD_USER_INPUT",
    ),
    "reviewDocument": (
        "mutation($v: String!, $id: ID!) { reviewDocument(id: $id, decision: REJECTED, "
        "reason: $v) { id } }",
        "BAD_USER_INPUT",
    ),
    "generateStatement": (
        "mutation($v: String!, $id: ID!) { generateStatement(portfolioId: $id, month: $v) { id } }",
        "BAD_USER_INPUT",
    ),
    "expressInterest": (
        "mutation($v: ID!) { expressInterest(opportunityId: $v) { id } }",
        "FORBIDDEN",
    ),  # investors only
    "createEvent": (
        'mutation($v: String!) { createEvent(input: {title: $v, startsAt: "2031-01-01T10:00:00Z", '
        'endsAt: "2031-01-01T11:00:00Z", description: $v, location: $v, roomUrl: $v}) { id } }',
        "BAD_USER_INPUT",
    ),
    "updateEvent": (
        "mutation($v: String!, $id: ID!) { updateEvent(id: $id, input: {title: $v}) { id } }",
        "BAD_USER_INPUT",
    ),
    "publishEvent": ("mutation($v: ID!) { publishEvent(id: $v) { id } }", "BAD_USER_INPUT"),
    "cancelEvent": ("mutation($v: ID!) { cancelEvent(id: $v) { id } }", "BAD_USER_INPUT"),
    "registerForEvent": (
        "mutation($v: ID!) { registerForEvent(eventId: $v) { id } }",
        "BAD_USER_INPUT",
    ),
    "cancelRegistration": (
        "mutation($v: ID!) { cancelRegistration(registrationId: $v) { id } }",
        "BAD_USER_INPUT",
    ),
    "checkIn": (
        "mutation($v: String!, $id: ID!) { checkIn(registrationId: $id, code: $v) { id } }",
        "BAD_USER_INPUT",
    ),
    "createProspect": (
        "mutation($v: String!) { createProspect(input: {fullName: $v, email: $v}) { id } }",
        "BAD_USER_INPUT",
    ),
    "moveProspect": (
        "mutation($v: ID!) { moveProspect(id: $v, stage: QUALIFIED) { id } }",
        "BAD_USER_INPUT",
    ),
    "recordAmlCheck": (
        "mutation($v: String!, $id: ID!) { recordAmlCheck(prospectId: $id, result: CLEAR, "
        "note: $v) { id } }",
        "BAD_USER_INPUT",
    ),
    "screenProspect": ("mutation($v: ID!) { screenProspect(id: $v) { id } }", "BAD_USER_INPUT"),
    "convertProspect": ("mutation($v: ID!) { convertProspect(id: $v) { id } }", "BAD_USER_INPUT"),
    "logActivity": (
        "mutation($v: String!, $id: ID!) { logActivity(input: {prospectId: $id, kind: NOTE, "
        "text: $v}) { id } }",
        "BAD_USER_INPUT",
    ),
    "createTask": (
        "mutation($v: String!, $id: ID!) { createTask(input: {prospectId: $id, title: $v, "
        'dueDate: "2999-01-01", assigneeId: $id}) { id } }',
        "BAD_USER_INPUT",
    ),
    "completeTask": ("mutation($v: ID!) { completeTask(id: $v) { id } }", "BAD_USER_INPUT"),
    "createWebhook": (
        "mutation($v: String!) { createWebhook(input: {url: $v, "
        "eventTypes: [INVESTMENT_CREATED], description: $v}) { id } }",
        "BAD_USER_INPUT",
    ),
    "updateWebhook": (
        "mutation($v: String!, $id: ID!) { updateWebhook(id: $id, input: {url: $v, "
        "description: $v}) { id } }",
        "BAD_USER_INPUT",
    ),
    "deleteWebhook": ("mutation($v: ID!) { deleteWebhook(id: $v) }", "BAD_USER_INPUT"),
    "rotateWebhookSecret": (
        "mutation($v: ID!) { rotateWebhookSecret(id: $v) { id } }",
        "BAD_USER_INPUT",
    ),
    "sendTestWebhook": ("mutation($v: ID!) { sendTestWebhook(id: $v) { id } }", "BAD_USER_INPUT"),
    "exportUserData": ("mutation($v: ID!) { exportUserData(userId: $v) }", "BAD_USER_INPUT"),
    "eraseUser": (
        "mutation($v: String!, $id: ID!) { eraseUser(userId: $id, confirm: $v) { id } }",
        "BAD_USER_INPUT",
    ),
}


def test_every_mutation_has_an_oversize_case() -> None:
    assert set(WITH_ARGS) <= set(OVERSIZE_CASES), set(WITH_ARGS) - set(OVERSIZE_CASES)


@pytest.mark.parametrize("name", sorted(OVERSIZE_CASES))
async def test_oversize_strings_get_a_clear_error(api, world, name) -> None:
    document, expected = OVERSIZE_CASES[name]
    variables = {"v": OVERSIZE, "id": OVERSIZE}
    result = await api.gql(document, variables, token=world("acme", "admin").token)
    assert result.status == 200
    assert result.code == expected, result.body
    assert "INTERNAL_SERVER_ERROR" not in str(result.body)


async def test_query_depth_is_limited(api, world, settings) -> None:
    nested = "{ me { id } }"
    for _ in range(settings.max_query_depth):
        nested = "{ __schema { types { fields { type " + nested + " } } } }"
    result = await api.gql(f"query {nested}", token=world("acme", "admin").token)
    assert result.code == "BAD_USER_INPUT"


async def test_aliases_are_limited(api, world, settings) -> None:
    aliases = " ".join(f"a{i}: me {{ id }}" for i in range(settings.max_aliases + 1))
    result = await api.gql(f"{{ {aliases} }}", token=world("acme", "admin").token)
    assert result.code == "BAD_USER_INPUT"
    assert "alias" in result.errors[0]["message"].lower()


async def test_tokens_are_limited(api, world, settings) -> None:
    fields = " ".join("id" for _ in range(settings.max_tokens))
    result = await api.gql(f"{{ me {{ {fields} }} }}", token=world("acme", "admin").token)
    assert result.code == "BAD_USER_INPUT"
    assert "token" in result.errors[0]["message"].lower()


async def test_syntax_errors_are_bad_user_input(api) -> None:
    result = await api.gql("{ me { ")
    assert result.code == "BAD_USER_INPUT"
