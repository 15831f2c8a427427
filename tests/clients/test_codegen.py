"""A TypeScript client's types generated from schema.graphql by graphql-codegen (typescript
+ typescript-operations) for real operations (login, myPortfolios, createPortfolio, ticks),
then checked by ``tsc --noEmit``: code that uses them compiles, code that misuses them not."""

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.clients.conftest import ROOT


def run(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, cwd=cwd, capture_output=True, text=True, timeout=120)


@pytest.fixture(scope="module")
def generated(node_projects: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """codegen.json as committed (what a front-end team runs), writing into a temp dir."""
    out = tmp_path_factory.mktemp("codegen")
    config = json.loads((node_projects / "codegen.json").read_text())
    (target,) = config["generates"].values()
    config["schema"] = str(ROOT / "schema.graphql")
    config["documents"] = str(node_projects / "operations" / "*.graphql")
    config["generates"] = {str(out / "graphql.ts"): target}
    (out / "codegen.json").write_text(json.dumps(config))
    codegen = run(  # from the project, where the plugins are installed
        [
            str(node_projects / "node_modules/.bin/graphql-codegen"),
            "--config",
            str(out / "codegen.json"),
        ],
        node_projects,
    )
    assert codegen.returncode == 0, codegen.stdout + codegen.stderr
    for source in (node_projects / "typed").glob("*.ts"):
        if source.name != "graphql.ts":
            shutil.copy(source, out / source.name)
    return out


def tsc(node_projects: Path, directory: Path, *files: str) -> subprocess.CompletedProcess[str]:
    (directory / "tsconfig.json").write_text(
        json.dumps(
            {
                "compilerOptions": {
                    "strict": True,
                    "noEmit": True,
                    "target": "es2022",
                    "module": "esnext",
                    "moduleResolution": "bundler",
                    "types": [],
                },
                "files": ["graphql.ts", *files],
            }
        )
    )
    return run([str(node_projects / "node_modules/.bin/tsc"), "-p", "tsconfig.json"], directory)


def test_codegen_types_the_operations(generated: Path):
    source = (generated / "graphql.ts").read_text()
    for name in ("LoginMutation", "MyPortfoliosQuery", "CreatePortfolioMutation"):
        assert f"export type {name} = " in source
    assert "export type TicksSubscriptionVariables = " in source
    assert "export type Role =" in source  # enums as string unions


def test_code_using_the_generated_types_compiles(node_projects: Path, generated: Path):
    result = tsc(node_projects, generated, "usage.ts")
    assert result.returncode == 0, result.stdout + result.stderr


def test_code_misusing_the_generated_types_does_not_compile(node_projects: Path, generated: Path):
    result = tsc(node_projects, generated, "misuse.ts")
    assert result.returncode != 0
    assert "Property 'holdings' does not exist" in result.stdout, result.stdout
    assert "Type 'number' is not assignable to type 'string'" in result.stdout, result.stdout
