"""Portfolios: the ledger, the investor's default portfolio, valuation and its worker,
returns and monthly statements."""
