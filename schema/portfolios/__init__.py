"""Portfolios: ledger, holdings, valuation, returns and monthly statements."""

from schema.portfolios.operations import (
    PortfolioMutations,
    PortfolioQueries,
    PortfolioSubscriptions,
)

__all__ = ["PortfolioMutations", "PortfolioQueries", "PortfolioSubscriptions"]
