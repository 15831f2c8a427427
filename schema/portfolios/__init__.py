"""Portfolios: ledger, holdings, valuation, returns and monthly statements."""

from schema.portfolios.operations import DOMAIN

__all__ = ["DOMAIN"]
