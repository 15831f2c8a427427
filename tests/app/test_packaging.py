"""The wheel ``pip install .`` builds from a clean checkout carries what the app serves
itself, GraphiQL's bundle included, so an install without Node serves GraphiQL."""

import zipfile
from pathlib import Path

from app import graphiql
from tests.support.packaging import PACKAGES, InstalledWheel

BUNDLE = (*graphiql.BUNDLE, "graphiql.js.LEGAL.txt")


def test_the_wheel_carries_the_packages_and_graphiqls_bundle(fidus_wheel: Path) -> None:
    with zipfile.ZipFile(fidus_wheel) as wheel:
        names = set(wheel.namelist())
        for package in PACKAGES:
            assert f"{package}/__init__.py" in names
        static = graphiql.ASSETS_DIR.relative_to(Path(graphiql.__file__).parents[1])
        for name in BUNDLE:
            member = f"{static.as_posix()}/{name}"
            assert member in names, f"{member} is not in the wheel"
            assert wheel.read(member) == (graphiql.ASSETS_DIR / name).read_bytes(), member
        entry_points = next(name for name in names if name.endswith(".dist-info/entry_points.txt"))
        assert "fidus = app.cli:main" in wheel.read(entry_points).decode()


def test_the_installed_wheel_has_graphiql_and_not_the_checkout(
    installed_wheel: InstalledWheel,
) -> None:
    # install_wheel checked that app & co. import from the venv, from outside the checkout
    assets = installed_wheel.site_packages / "app" / "static" / "graphiql"
    assert sorted(path.name for path in assets.iterdir()) == sorted(BUNDLE)
    assert installed_wheel.fidus.is_file()
