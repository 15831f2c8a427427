"""Schema as a product: schema.graphql is the code's schema (drift fails the suite), and the
code does not break clients of schema.previous.graphql, the last published contract."""

import pytest

from app import cli, schema_check

BASE = """
type Query {
  portfolio(id: ID!, asOf: String): Portfolio
  funds: [Fund!]!
}
type Portfolio { id: ID! name: String! cash: String! }
type Fund { code: String! }
enum Role { ADMIN INVESTOR }
"""


def test_schema_graphql_is_the_code_schema():
    assert schema_check.drift(schema_check.code_sdl()) is None, (
        "schema.graphql is stale: run `fidus export-schema schema.graphql` "
        "(`.venv/bin/fidus export-schema schema.graphql`) and commit it"
    )


def test_the_code_schema_breaks_no_client_of_the_previous_contract():
    previous = schema_check.PREVIOUS_FILE.read_text()
    report = schema_check.compare(previous, schema_check.code_sdl())
    assert report.breaking == [], (
        "breaking changes against schema.previous.graphql (keep the old field or argument, "
        "add the new one beside it; a deliberate break: `scripts/schema-check --accept`):\n"
        + "\n".join(report.breaking)
    )


def test_the_drift_message_says_how_to_regenerate(monkeypatch, tmp_path):
    stale = tmp_path / "schema.graphql"
    stale.write_text("type Query { old: Int }\n")
    monkeypatch.setattr(schema_check, "SCHEMA_FILE", stale)
    assert "fidus export-schema schema.graphql" in (
        schema_check.drift("type Query { a: Int }\n") or ""
    )
    monkeypatch.setattr(schema_check, "SCHEMA_FILE", tmp_path / "missing.graphql")
    assert "missing" in (schema_check.drift("type Query { a: Int }\n") or "")


@pytest.mark.parametrize(
    ("change", "old", "new", "expected"),
    [
        ("removed field", "  funds: [Fund!]!\n", "", "Query.funds was removed"),
        ("renamed field", "name: String!", "title: String!", "Portfolio.name was removed"),
        ("renamed argument", "asOf: String", "at: String", "Query.portfolio(asOf:) was removed"),
        (
            "removed argument",
            "(id: ID!, asOf: String)",
            "(id: ID!)",
            "Query.portfolio(asOf:) was removed",
        ),
        (
            "new required argument",
            "asOf: String",
            "asOf: String, x: Int!",
            "required argument Query.portfolio(x:)",
        ),
        ("changed type", "cash: String!", "cash: Float!", "Portfolio.cash changed type"),
        ("removed enum value", "ADMIN INVESTOR", "ADMIN", "INVESTOR was removed"),
        ("removed type", "type Fund { code: String! }", "", "Fund was removed"),
    ],
)
def test_breaking_changes_are_flagged(change, old, new, expected):
    changed = BASE.replace(old, new)
    if change == "removed type":
        changed = changed.replace("funds: [Fund!]!", "")
    assert changed != BASE
    report = schema_check.compare(BASE, changed)
    assert any(expected in line for line in report.breaking), (change, report.breaking)


def test_additions_are_not_breaking():
    added = BASE.replace("cash: String!", "cash: String!\n  owner: String").replace(
        "asOf: String)", "asOf: String, currency: String = null)"
    )
    added += "type Mutation { newThing(name: String!): Fund! }\n"
    report = schema_check.compare(BASE, added)
    assert report.breaking == []


def test_schema_check_command(capsys):
    assert cli.main(["schema-check"]) == 0
    assert "no breaking change" in capsys.readouterr().out


def test_every_domain_of_the_schema_is_registered_once():
    """A module's Domain (its root classes) reaches the schema only through DOMAINS."""
    import importlib
    import pkgutil

    import schema
    from schema.core.domains import Domain

    declared = set()
    for module in pkgutil.walk_packages(schema.__path__, "schema."):
        found = importlib.import_module(module.name)
        declared |= {id(v) for v in vars(found).values() if isinstance(v, Domain)}
    registered = [id(domain) for domain in schema.DOMAINS]
    assert len(registered) == len(set(registered))
    assert declared == set(registered)
