"""MetaTrader 5: tick ingest, live ticks, account snapshots and their mapping."""
