"""MetaTrader 5: live ticks and the ADMIN's account mapping."""

from schema.core.domains import Domain
from schema.mt5.accounts import Mt5Mutations
from schema.mt5.ticks import TickQueries, TickSubscriptions

DOMAIN = Domain(queries=TickQueries, mutations=Mt5Mutations, subscriptions=TickSubscriptions)
