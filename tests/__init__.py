"""The test suite. The helpers that test modules share (tests.support, the fault stack) get
pytest's assertion rewriting, as test modules and conftests do, so their failed asserts show
the values compared."""

try:
    import pytest
except ModuleNotFoundError:  # the benchmarks import tests.support.servers without pytest
    pass
else:
    pytest.register_assert_rewrite("tests.support", "tests.faults.stack")
