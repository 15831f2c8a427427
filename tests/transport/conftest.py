"""The pinned Node project of this folder."""

import json
import shutil
import subprocess
from pathlib import Path

import pytest

NODE_DIR = Path(__file__).parent / "node"


@pytest.fixture(scope="session")
def node_project() -> Path:
    """tests/transport/node with its locked npm dependencies installed (scripts/node-setup
    normally did that already)."""
    assert shutil.which("node") and shutil.which("npm"), "Node.js and npm are needed"
    wanted = json.loads((NODE_DIR / "package.json").read_text())["dependencies"]
    if not all((NODE_DIR / "node_modules" / name).exists() for name in wanted):
        subprocess.run(
            ["npm", "ci", "--no-audit", "--no-fund"],
            cwd=NODE_DIR,
            check=True,
            capture_output=True,
            timeout=300,
        )
    return NODE_DIR
