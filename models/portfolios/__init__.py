"""Portfolios and their append-only ledger, and the ledger's pure rules."""
