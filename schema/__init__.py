"""Strawberry types, one module per domain, merged into one schema by ``build_schema``."""

from collections.abc import AsyncGenerator, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

import strawberry
from strawberry.extensions import (
    AddValidationRules,
    MaxTokensLimiter,
    ParserCache,
    ValidationCache,
)
from strawberry.tools import merge_types

from schema import (
    analytics,
    audit,
    crm,
    documents,
    events,
    funds,
    identity,
    investments,
    messaging,
    mt5,
    opportunities,
    portfolios,
    privacy,
    users,
    webhooks,
)
from schema.core.cost import QueryCost
from schema.core.document_limits import limit_rules
from schema.core.domains import Domain, roots
from schema.core.errors import CodedErrors, code_all, coded_stream
from schema.core.observability import OperationLog
from schema.core.persisted import PersistedQueries, refused_by_registry
from schema.core.rate_limits import RateLimits
from schema.core.shared_events import SharingExecutionContext
from schema.core.suggestions import without_suggestions

# One line per domain (its module's DOMAIN). The order is the order of each root type's
# fields in schema.graphql; identity and MT5 come in two parts to keep it.
DOMAINS: tuple[Domain, ...] = (
    identity.DOMAIN,
    users.DOMAIN,
    funds.DOMAIN,
    investments.DOMAIN,
    mt5.DOMAIN,
    portfolios.DOMAIN,
    opportunities.DOMAIN,
    analytics.DOMAIN,
    events.DOMAIN,
    messaging.DOMAIN,
    audit.DOMAIN,
    documents.DOMAIN,
    crm.DOMAIN,
    webhooks.DOMAIN,
    privacy.DOMAIN,
)


@dataclass(frozen=True)
class SchemaLimits:
    max_depth: int = 12
    max_aliases: int = 30
    max_tokens: int = 5000
    cache_size: int = 512
    introspection: bool = True
    max_cost: int = 10_000
    max_page_size: int = 100


class FidusSchema(strawberry.Schema):
    def process_errors(self, errors: list[Any], execution_context: Any = None) -> None:
        """Logging happens in schema.core.errors, only for unexpected errors."""

    async def stream(
        self,
        query: str | None,
        variable_values: dict[str, Any] | None = None,
        context_value: Any | None = None,
        *args: Any,
        **kwargs: Any,
    ) -> Any:
        """Streams (operations over WebSocket) answer a refused persisted query with an
        error message: raised inside the operation hooks it would only end the task. Every
        error they yield carries its code, those found before execution included."""
        refusal = await refused_by_registry(query, context_value, kwargs)
        if refusal is not None:
            return _single(refusal)
        source = await super().stream(query, variable_values, context_value, *args, **kwargs)
        return coded_stream(source, context_value)

    async def execute(self, *args: Any, **kwargs: Any) -> Any:
        """Errors raised before the operation hooks ran (e.g. syntax errors caught while
        parsing through the parser cache) get their code here."""
        result = await super().execute(*args, **kwargs)
        code_all(result, kwargs.get("context_value"))
        return result


async def _single(result: Any) -> AsyncGenerator[Any, None]:
    yield result


def build_schema(
    limits: SchemaLimits | None = None, extra_extensions: Sequence[Any] = ()
) -> strawberry.Schema:
    """``extra_extensions``: optional ones chosen by the app (e.g. tracing)."""
    limits = limits or SchemaLimits()
    # built once here: the rules are part of ValidationCache's key
    rules = limit_rules(limits.max_depth, limits.max_aliases, limits.introspection)
    return FidusSchema(
        query=merge_types("Query", roots(DOMAINS, "queries")),
        mutation=merge_types("Mutation", roots(DOMAINS, "mutations")),
        subscription=merge_types("Subscription", roots(DOMAINS, "subscriptions")),
        execution_context_class=(
            SharingExecutionContext
            if limits.introspection
            else without_suggestions(SharingExecutionContext)
        ),
        extensions=[  # factories: a fresh extension per operation; caches are shared
            OperationLog,
            CodedErrors,
            PersistedQueries,
            RateLimits,
            partial(MaxTokensLimiter, max_token_count=limits.max_tokens),
            partial(ParserCache, maxsize=limits.cache_size),
            partial(AddValidationRules, rules),
            partial(ValidationCache, maxsize=limits.cache_size),
            partial(QueryCost, max_cost=limits.max_cost, max_page_size=limits.max_page_size),
            *extra_extensions,
        ],
    )
