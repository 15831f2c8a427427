"""Investing in fund products and redeeming from them."""
