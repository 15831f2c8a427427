"""MetaTrader 5: live ticks and the ADMIN's account mapping."""
