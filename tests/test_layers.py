"""The house keeps its layers (docs/architecture.md): imports run one way, ``app → schema →
resolvers → subscriptions → models``; a layer may skip down, never import one above it, and
none imports the tests. And no module of the suite imports a test module: what test modules
share lives in tests/support/ (or a folder's support module or conftest).

The sources are parsed, not imported: every absolute import counts, at module level, inside
functions and under ``if TYPE_CHECKING:``; relative ones are resolved first."""

import ast
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# top to bottom; the suite above them all: it may import every layer, none may import it
ORDER = ("tests", "app", "schema", "resolvers", "subscriptions", "models")
LAYERS = ORDER[1:]


@pytest.fixture(autouse=True)
def _empty_database() -> None:
    """No servers here: these tests read source files (the root conftest's autouse fixture
    would start them to empty a database)."""


@dataclass(frozen=True)
class Import:
    """One imported module of one import statement."""

    path: str  # of the importing file, relative to the checkout, with "/"
    line: int
    module: str  # absolute
    names: tuple[str, ...] = ()  # of ``from module import ...``: each may be a module too

    @property
    def candidates(self) -> list[str]:
        return [self.module, *(f"{self.module}.{name}" for name in self.names)]


def module_name(path: str) -> str:
    parts = path.removesuffix(".py").split("/")
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_in(source: str, path: str) -> Iterator[Import]:
    """Every import of ``source`` (the file at ``path``), wherever it is in the file."""
    package = module_name(path)
    if not path.endswith("/__init__.py"):
        package = package.rpartition(".")[0]
    for node in ast.walk(ast.parse(source, path)):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield Import(path, node.lineno, alias.name)
        elif isinstance(node, ast.ImportFrom):
            module = node.module or ""
            if node.level:
                anchor = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                module = f"{anchor}.{module}" if module else anchor
            yield Import(path, node.lineno, module, tuple(alias.name for alias in node.names))


def upward(imports: Iterable[Import]) -> list[str]:
    """The imports of a layer's module from a layer above it (or from the tests)."""
    found = []
    for imported in imports:
        importer, target = imported.path.split("/")[0], imported.module.split(".")[0]
        if importer in LAYERS and target in ORDER and ORDER.index(target) < ORDER.index(importer):
            found.append(f"{imported.path}:{imported.line}: {importer} imports {imported.module}")
    return found


def of_test_modules(imports: Iterable[Import]) -> list[str]:
    """The imports of a test module (``tests.….test_*``) by any module of the suite."""
    found = []
    for imported in imports:
        for module in imported.candidates:
            parts = module.split(".")
            if parts[0] == "tests" and parts[-1].startswith("test_"):
                found.append(f"{imported.path}:{imported.line}: imports {module}")
    return found


def sources(folder: str) -> list[Path]:
    return sorted(
        path for path in (ROOT / folder).rglob("*.py") if "node_modules" not in path.parts
    )


def imports_under(folder: str) -> list[Import]:
    return [
        found
        for path in sources(folder)
        for found in imports_in(path.read_text(), path.relative_to(ROOT).as_posix())
    ]


def test_no_layer_imports_one_above_it() -> None:
    imports = [found for layer in LAYERS for found in imports_under(layer)]
    assert {found.path.split("/")[0] for found in imports} == set(LAYERS)  # all of them read
    assert upward(imports) == []


def test_no_module_of_the_suite_imports_a_test_module() -> None:
    imports = imports_under("tests")
    assert any(found.module.startswith("tests.support.") for found in imports)  # they are read
    assert of_test_modules(imports) == []


@pytest.mark.parametrize(
    ("path", "source"),
    [
        ("models/x.py", "import app.settings"),
        ("models/x.py", "def f():\n    from resolvers.core import context\n"),
        ("models/x.py", "from tests.support.api import Api"),
        (
            "subscriptions/x.py",
            "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from schema import build\n",
        ),
        ("subscriptions/x.py", "from resolvers.core.context import RequestContext"),
        ("resolvers/core/x.py", "from schema.core.errors import coded"),
        ("resolvers/x.py", "import app"),
        ("schema/x.py", "from app.settings import Settings"),
    ],
)
def test_the_layer_check_reports_an_upward_import(path: str, source: str) -> None:
    assert len(upward(imports_in(source, path))) == 1


@pytest.mark.parametrize(
    ("path", "source"),
    [
        ("app/x.py", "from schema import build\nfrom models.users import User\nimport uvicorn"),
        ("schema/x.py", "from resolvers.core import context\nfrom models.users import User"),
        ("resolvers/x.py", "from subscriptions.broker import Broker\nfrom models import crm"),
        ("subscriptions/x.py", "from models.users import User"),
        ("models/x/__init__.py", "from models.users import User\nfrom . import rules"),
        ("resolvers/core/x.py", "from ..funds import rules\nfrom .atomic import write"),
    ],
)
def test_the_layer_check_lets_imports_run_down(path: str, source: str) -> None:
    assert upward(imports_in(source, path)) == []


@pytest.mark.parametrize(
    ("path", "source"),
    [
        ("tests/a/test_x.py", "from tests.b.test_y import helper"),
        ("tests/a/test_x.py", "from tests.b import test_y"),
        ("tests/a/test_x.py", "from . import test_y"),
        ("tests/a/test_x.py", "def test_it():\n    from .test_y import helper\n"),
        ("tests/a/conftest.py", "import tests.b.test_y"),
        ("tests/support/x.py", "from tests.b.test_y import helper"),
    ],
)
def test_the_test_module_check_reports_an_import_of_a_test_module(path: str, source: str) -> None:
    assert len(of_test_modules(imports_in(source, path))) == 1


def test_the_test_module_check_lets_support_and_conftest_imports_through() -> None:
    source = (
        "from tests.support.api import Api\nfrom tests.conftest import World\n"
        "from tests.crm.support import won\nfrom .support import helper\n"
    )
    assert of_test_modules(imports_in(source, "tests/crm/test_x.py")) == []
