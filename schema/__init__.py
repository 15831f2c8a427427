"""Strawberry types, one module per domain, merged into one schema by ``build_schema``."""

from dataclasses import dataclass
from functools import partial
from typing import Any

import strawberry
from strawberry.extensions import (
    AddValidationRules,
    MaxAliasesLimiter,
    MaxTokensLimiter,
    ParserCache,
    QueryDepthLimiter,
    ValidationCache,
)
from strawberry.tools import merge_types

from schema.analytics import AnalyticsQueries
from schema.errors import CodedErrors, code_all
from schema.funds import FundMutations, FundQueries
from schema.identity import IdentityMutations, IdentityQueries
from schema.investments import InvestmentMutations, InvestmentQueries
from schema.live import LiveSubscriptions
from schema.mt5 import Mt5Mutations
from schema.observability import OperationLog
from schema.opportunities import OpportunityMutations, OpportunityQueries
from schema.portfolios import PortfolioMutations, PortfolioQueries
from schema.shared_events import SharingExecutionContext
from schema.ticks import TickQueries, TickSubscriptions
from schema.users import UserMutations, UserQueries

QUERIES: tuple[type, ...] = (
    UserQueries,
    IdentityQueries,
    FundQueries,
    InvestmentQueries,
    PortfolioQueries,
    OpportunityQueries,
    AnalyticsQueries,
    TickQueries,
)
MUTATIONS: tuple[type, ...] = (
    IdentityMutations,
    UserMutations,
    FundMutations,
    InvestmentMutations,
    PortfolioMutations,
    OpportunityMutations,
    Mt5Mutations,
)
SUBSCRIPTIONS: tuple[type, ...] = (TickSubscriptions, LiveSubscriptions)


@dataclass(frozen=True)
class SchemaLimits:
    max_depth: int = 12
    max_aliases: int = 30
    max_tokens: int = 5000
    cache_size: int = 512


class FidusSchema(strawberry.Schema):
    def process_errors(self, errors: list[Any], execution_context: Any = None) -> None:
        """Logging happens in schema.errors, only for unexpected errors."""

    async def execute(self, *args: Any, **kwargs: Any) -> Any:
        """Errors raised before the operation hooks ran (e.g. syntax errors caught while
        parsing through the parser cache) get their code here."""
        result = await super().execute(*args, **kwargs)
        code_all(result, kwargs.get("context_value"))
        return result


def build_schema(limits: SchemaLimits | None = None) -> strawberry.Schema:
    limits = limits or SchemaLimits()
    # The depth and alias limiters build a new rule class per instance, and the rules are
    # part of ValidationCache's key: built once here, so a known document is not validated
    # again on every request.
    limit_rules = [
        *QueryDepthLimiter(max_depth=limits.max_depth).validation_rules,
        *MaxAliasesLimiter(max_alias_count=limits.max_aliases).validation_rules,
    ]
    return FidusSchema(
        query=merge_types("Query", QUERIES),
        mutation=merge_types("Mutation", MUTATIONS),
        subscription=merge_types("Subscription", SUBSCRIPTIONS),
        execution_context_class=SharingExecutionContext,
        extensions=[  # factories: a fresh extension per operation; caches are shared
            OperationLog,
            CodedErrors,
            partial(MaxTokensLimiter, max_token_count=limits.max_tokens),
            partial(ParserCache, maxsize=limits.cache_size),
            partial(AddValidationRules, limit_rules),
            partial(ValidationCache, maxsize=limits.cache_size),
        ],
    )
