"""Fixtures shared with other test folders."""

from tests.mt5.test_scale_out import two_processes

__all__ = ["two_processes"]
