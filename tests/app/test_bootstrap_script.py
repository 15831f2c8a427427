"""scripts/bootstrap reinstalls only when pyproject.toml changed or an extra is asked for
that is not installed: switching between `scripts/serve` (embedded) and `scripts/test`
(embedded,dev,bench,otel) installs once, then never again.

The script runs as it is, in a scratch copy of the repository layout whose ``.venv/bin/python``
records each ``-m pip`` call instead of running pip (anything else runs the real Python),
so the test sees exactly when and with which extras it would install."""

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PYPROJECT = """[project]
name = "dummy"
version = "0.1.0"
dependencies = []

[project.optional-dependencies]
embedded = []
dev = []
bench = []
otel = []
"""
RECORDING_PYTHON = """#!/usr/bin/env bash
if [ "$1" = "-m" ] && [ "$2" = "pip" ]; then
  echo "${@: -1}" >> "$(dirname "$0")/../pip-calls"
  exit 0
fi
exec @PYTHON@ "$@"
"""


ALL = [{"embedded", "dev", "bench", "otel"}]  # one install with these extras


class Checkout:
    def __init__(self, root: Path) -> None:
        self.root = root
        (root / "scripts").mkdir()
        script = root / "scripts" / "bootstrap"
        script.write_text((ROOT / "scripts" / "bootstrap").read_text())
        script.chmod(0o755)
        (root / "pyproject.toml").write_text(PYPROJECT)
        python = root / ".venv" / "bin" / "python"
        python.parent.mkdir(parents=True)
        python.write_text(RECORDING_PYTHON.replace("@PYTHON@", sys.executable))
        python.chmod(0o755)
        self.calls = root / ".venv" / "pip-calls"

    def bootstrap(self, extras: str | None = None) -> list[set[str]]:
        """Run the script; the extras of each ``pip install -e`` it ran this time."""
        before = self.installs()
        argv = [str(self.root / "scripts" / "bootstrap")] + ([extras] if extras else [])
        subprocess.run(argv, check=True, capture_output=True, timeout=30)
        return self.installs()[len(before) :]

    def installs(self) -> list[set[str]]:
        lines = self.calls.read_text().splitlines() if self.calls.exists() else []
        return [set(line[2:-1].split(",")) for line in lines if line.startswith(".[")]

    @property
    def stamp(self) -> str:
        return (self.root / ".venv" / ".fidus-installed").read_text()


@pytest.fixture
def checkout(tmp_path: Path) -> Checkout:
    return Checkout(tmp_path)


def test_switching_between_serve_and_test_installs_once(checkout: Checkout) -> None:
    assert checkout.bootstrap() == [{"embedded"}]  # scripts/serve, fresh
    assert checkout.bootstrap("embedded") == []
    assert checkout.bootstrap("embedded,dev,bench,otel") == ALL
    assert checkout.bootstrap("embedded") == []  # serve after test
    assert checkout.bootstrap("embedded,dev,bench,otel") == []  # and test again
    assert checkout.bootstrap(" otel, dev ,embedded") == []  # any order, spaces
    assert checkout.stamp.split()[1] == "bench,dev,embedded,otel"


def test_test_extras_first_then_serve_installs_nothing(checkout: Checkout) -> None:
    assert checkout.bootstrap("embedded,dev,bench,otel") == ALL
    assert checkout.bootstrap("embedded") == []


def test_a_changed_pyproject_reinstalls_what_is_installed(checkout: Checkout) -> None:
    checkout.bootstrap("embedded,dev")
    pyproject = checkout.root / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace("dependencies = []", 'dependencies = ["x"]'))
    assert checkout.bootstrap("embedded") == [{"dev", "embedded"}]
    assert checkout.bootstrap("embedded,dev") == []
    # an extra pyproject no longer declares is not asked for again
    pyproject.write_text(pyproject.read_text().replace("dev = []\n", ""))
    assert checkout.bootstrap("embedded") == [{"embedded"}]


def test_a_stamp_of_the_earlier_format_is_read(checkout: Checkout) -> None:
    """Before this change the stamp held the last request ("<digest> <extras>" too)."""
    digest = subprocess.run(
        ["sha256sum", "pyproject.toml"],
        cwd=checkout.root,
        capture_output=True,
        text=True,
        check=True,
    ).stdout[:64]
    (checkout.root / ".venv" / ".fidus-installed").write_text(f"{digest} embedded,dev,bench,otel\n")
    assert checkout.bootstrap("embedded") == []
