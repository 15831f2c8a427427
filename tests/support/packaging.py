"""Fidus as a user installs it: the wheel ``pip wheel`` builds from the files a clean
checkout has, and that wheel installed into a fresh virtual environment."""

import os
import shutil
import subprocess
import sys
import sysconfig
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PIP = (sys.executable, "-m", "pip", "--disable-pip-version-check")
PACKAGES = ("app", "schema", "resolvers", "models", "subscriptions")
WHERE_FROM = (
    "import importlib, sys\nfor name in sys.argv[1:]: print(importlib.import_module(name).__file__)"
)


def outside_environment() -> dict[str, str]:
    """This process's environment without what could put the checkout on Python's path."""
    return {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}


def checkout_files() -> list[str]:
    """The files a clone of this working tree would have: git's tracked and untracked but
    not ignored ones (so nothing built or ignored here, e.g. build/ or node_modules)."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        check=True,
        timeout=60,
    )
    names = listed.stdout.decode().split("\0")
    return [name for name in names if name and (ROOT / name).is_file()]


def build_wheel(workdir: Path) -> Path:
    """``pip wheel --no-deps`` (an isolated build, as ``pip install .`` does) of a copy of
    the checkout's files."""
    source = workdir / "checkout"
    for name in checkout_files():
        (source / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, source / name)
    dist = workdir / "dist"
    built = subprocess.run(
        [*PIP, "wheel", "--no-deps", "--quiet", "--wheel-dir", str(dist), str(source)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert built.returncode == 0, f"pip wheel failed:\n{built.stdout}\n{built.stderr}"
    (wheel,) = dist.glob("fidus-*.whl")
    return wheel


@dataclass(frozen=True)
class InstalledWheel:
    venv: Path
    site_packages: Path
    elsewhere: Path  # a working directory outside the checkout

    @property
    def fidus(self) -> Path:
        return self.venv / "bin" / "fidus"


def install_wheel(wheel: Path, workdir: Path) -> InstalledWheel:
    """A fresh venv with the wheel installed by pip (its files, its ``fidus`` script).

    Its dependencies come from this test environment: a .pth file puts this venv's
    site-packages on the new venv's path, after its own. Python runs the .pth files of
    site directories only, not of directories a .pth line adds, so this environment's
    editable install of the checkout (a .pth-installed import hook) stays out: ``app``
    and the other packages can only come from the wheel, which is checked here."""
    venv = workdir / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    installed = subprocess.run(
        [
            *PIP,
            "--python",
            str(python),
            "install",
            "--no-deps",
            "--no-index",
            "--quiet",
            str(wheel),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert installed.returncode == 0, f"pip install failed:\n{installed.stderr}"
    site_packages = Path(
        subprocess.run(
            [str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    )
    dependencies = {sysconfig.get_path("purelib"), sysconfig.get_path("platlib")}
    (site_packages / "fidus-test-dependencies.pth").write_text("\n".join(sorted(dependencies)))
    satisfied = subprocess.run(
        [*PIP, "--python", str(python), "check"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert satisfied.returncode == 0, f"the wheel's requirements:\n{satisfied.stdout}"
    elsewhere = workdir / "elsewhere"
    elsewhere.mkdir()
    assert not elsewhere.is_relative_to(ROOT), elsewhere
    imported_from = subprocess.run(
        [str(python), "-c", WHERE_FROM, *PACKAGES],
        cwd=elsewhere,
        env=outside_environment(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert imported_from.returncode == 0, imported_from.stderr
    files = imported_from.stdout.split()
    assert len(files) == len(PACKAGES), files
    assert all(Path(file).is_relative_to(site_packages) for file in files), files
    return InstalledWheel(venv, site_packages, elsewhere)
