"""Rate limits on writes, before they run: per signed-in user and per client address for
every mutation, and a tighter per-address budget for the sign-in family (login, refresh,
password reset, invitations). Sliding windows of one minute, shared through Redis.

Each mutation field counts, not each operation: thirty aliased ``login`` fields are thirty
sign-in attempts (fields in fragments too). An operation is taken whole or not at all:
if its fields do not all fit in the budget, none of them runs (RATE_LIMITED with
``retryAfter`` seconds) and none is counted; one with more fields than a whole budget
can never run (BAD_USER_INPUT: split it)."""

import math
import uuid
from collections.abc import AsyncIterator

from graphql import (
    ExecutionResult,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
)
from graphql.language import OperationType
from strawberry.extensions import SchemaExtension

from resolvers.core.context import RequestContext, WriteLimits

AUTH_FIELDS = frozenset(
    {"login", "refreshToken", "requestPasswordReset", "resetPassword", "acceptInvitation"}
)
WINDOW_SECONDS = 60.0


class RateLimits(SchemaExtension):
    async def on_execute(self) -> AsyncIterator[None]:
        context = self.execution_context
        request = context.context
        operation = _mutation(context)
        if operation is not None and isinstance(request, RequestContext) and not context.result:
            fields = _root_fields(operation.selection_set, _fragments(context), set())
            refusal = await self._refusal(request, fields)
            if refusal is not None:
                context.result = ExecutionResult(data=None, errors=[refusal])
        yield

    async def _refusal(
        self, request: RequestContext, fields: dict[str, str]
    ) -> GraphQLError | None:
        """``fields``: response key → mutation field name."""
        limiter = request.services.broker.rate_limits
        limits: WriteLimits = request.services.write_limits
        address = request.client_ip or "unknown"
        checks = [(f"mutation:ip:{address}", limits.per_address, len(fields))]
        sign_ins = sum(name in AUTH_FIELDS for name in fields.values())
        if sign_ins:
            checks.append((f"auth:ip:{address}", limits.auth_per_address, sign_ins))
        if request.principal is not None:
            checks.append(
                (f"mutation:user:{request.principal.user_id}", limits.per_user, len(fields))
            )
        for _, limit, weight in checks:
            if weight > limit:
                return GraphQLError(
                    f"This operation has {weight} mutations, more than the {limit} allowed"
                    " per minute: split it",
                    extensions={"code": "BAD_USER_INPUT"},
                )
        member = uuid.uuid4().hex
        for taken, (key, limit, weight) in enumerate(checks):
            wait = await limiter.hit(key, limit, WINDOW_SECONDS, weight, member=member)
            if wait > 0:
                for earlier, _, earlier_weight in checks[:taken]:
                    await limiter.release(earlier, member, earlier_weight)
                seconds = max(1, math.ceil(wait))
                return GraphQLError(
                    f"Too many requests; retry in {seconds} s",
                    extensions={"code": "RATE_LIMITED", "retryAfter": seconds},
                )
        return None


def _fragments(context: object) -> dict[str, FragmentDefinitionNode]:
    document = getattr(context, "graphql_document", None)
    definitions = document.definitions if document is not None else ()
    return {d.name.value: d for d in definitions if isinstance(d, FragmentDefinitionNode)}


def _root_fields(
    selection_set: SelectionSetNode,
    fragments: dict[str, FragmentDefinitionNode],
    spread: set[str],
) -> dict[str, str]:
    """The operation's top-level fields by response key, as execution collects them
    (through inline fragments and spreads; ``@skip``/``@include`` not evaluated, so a
    skipped field still counts)."""
    fields: dict[str, str] = {}
    for node in selection_set.selections:
        if isinstance(node, FieldNode):
            fields[(node.alias or node.name).value] = node.name.value
        elif isinstance(node, InlineFragmentNode):
            fields.update(_root_fields(node.selection_set, fragments, spread))
        elif isinstance(node, FragmentSpreadNode) and node.name.value not in spread:
            spread.add(node.name.value)
            fragment = fragments.get(node.name.value)
            if fragment is not None:
                fields.update(_root_fields(fragment.selection_set, fragments, spread))
    return fields


def _mutation(context: object) -> OperationDefinitionNode | None:
    document = getattr(context, "graphql_document", None)
    if document is None:
        return None
    name = getattr(context, "operation_name", None)
    for definition in document.definitions:
        if (
            isinstance(definition, OperationDefinitionNode)
            and definition.operation is OperationType.MUTATION
            and (name is None or (definition.name and definition.name.value == name))
        ):
            return definition
    return None
