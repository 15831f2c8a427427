"""MetaTrader 5: live ticks and the ADMIN's account mapping."""

from schema.core.domains import Domain
from schema.mt5.accounts import Mt5Mutations
from schema.mt5.ticks import TickQueries, TickSubscriptions

# Two parts: in schema.graphql, Subscription lists the tick stream first, while Query and
# Mutation list the MT5 fields after the portfolios' and opportunities' ones.
TICK_STREAM = Domain(subscriptions=TickSubscriptions)
DOMAIN = Domain(queries=TickQueries, mutations=Mt5Mutations)
