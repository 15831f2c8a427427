"""Schema as a product: ``schema.graphql`` must equal the code's schema (drift), and the
code's schema must not break clients of ``schema.previous.graphql``, the last published
contract (removed or renamed types, fields, arguments, enum values; changed types; new
required arguments). Both files are committed, so the check needs no git history.

    scripts/schema-check                 drift + breaking changes (exit 1 on either)
    scripts/schema-check --against REF   compare with schema.graphql at a git ref instead
    scripts/schema-check --accept        publish: copy schema.graphql to schema.previous.graphql
"""

import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from graphql import GraphQLSchema, build_schema, find_breaking_changes, find_dangerous_changes

ROOT = Path(__file__).resolve().parent.parent
SCHEMA_FILE = ROOT / "schema.graphql"
PREVIOUS_FILE = ROOT / "schema.previous.graphql"
REGENERATE = "fidus export-schema schema.graphql"


class SchemaCheckError(RuntimeError):
    pass


def code_sdl() -> str:
    """The SDL ``fidus export-schema`` writes."""
    from schema import build_schema as build_fidus_schema

    return build_fidus_schema().as_str() + "\n"


@dataclass
class Report:
    breaking: list[str] = field(default_factory=list)
    dangerous: list[str] = field(default_factory=list)


def compare(previous_sdl: str, current_sdl: str) -> Report:
    """Breaking and dangerous changes from ``previous_sdl`` to ``current_sdl``."""
    old: GraphQLSchema = build_schema(previous_sdl)
    new: GraphQLSchema = build_schema(current_sdl)
    return Report(
        breaking=[f"{c.type.name}: {c.description}" for c in find_breaking_changes(old, new)],
        dangerous=[f"{c.type.name}: {c.description}" for c in find_dangerous_changes(old, new)],
    )


def drift(current_sdl: str) -> str | None:
    """Why schema.graphql is stale, or None when it equals the code's schema."""
    if not SCHEMA_FILE.exists():
        return f"{SCHEMA_FILE.name} is missing: run `{REGENERATE}`"
    if SCHEMA_FILE.read_text() != current_sdl:
        return (
            f"{SCHEMA_FILE.name} differs from the code's schema: run `{REGENERATE}` "
            "and commit it (then `scripts/schema-check` for breaking changes)"
        )
    return None


def previous_at(ref: str) -> str:
    git = shutil.which("git")
    if git is None:
        raise SchemaCheckError("--against needs git")
    result = subprocess.run(  # noqa: S603 - git with the developer's own ref
        [git, "show", f"{ref}:{SCHEMA_FILE.name}"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise SchemaCheckError(f"no {SCHEMA_FILE.name} at {ref}: {result.stderr.strip()}")
    return result.stdout
