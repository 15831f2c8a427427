"""Rate limits on writes, before they run: per signed-in user and per client address for
every mutation, and a tighter per-address budget for the sign-in family (login, refresh,
password reset, invitations). Sliding windows of one minute, shared through Redis; over
the limit → RATE_LIMITED with ``retryAfter`` seconds."""

import math
from collections.abc import AsyncIterator

from graphql import ExecutionResult, FieldNode, GraphQLError, OperationDefinitionNode
from graphql.language import OperationType
from strawberry.extensions import SchemaExtension

from resolvers.context import RequestContext, WriteLimits

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
            wait = await self._wait(request, operation)
            if wait > 0:
                seconds = max(1, math.ceil(wait))
                context.result = ExecutionResult(
                    data=None,
                    errors=[
                        GraphQLError(
                            f"Too many requests; retry in {seconds} s",
                            extensions={"code": "RATE_LIMITED", "retryAfter": seconds},
                        )
                    ],
                )
        yield

    async def _wait(self, request: RequestContext, operation: OperationDefinitionNode) -> float:
        limiter = request.services.broker.rate_limits
        limits: WriteLimits = request.services.write_limits
        address = request.client_ip or "unknown"
        fields = {
            s.name.value for s in operation.selection_set.selections if isinstance(s, FieldNode)
        }
        checks = [(f"mutation:ip:{address}", limits.per_address)]
        if fields & AUTH_FIELDS:
            checks.append((f"auth:ip:{address}", limits.auth_per_address))
        if request.principal is not None:
            checks.append((f"mutation:user:{request.principal.user_id}", limits.per_user))
        for key, limit in checks:
            wait = await limiter.hit(key, limit, WINDOW_SECONDS)
            if wait > 0:
                return wait
        return 0.0


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
