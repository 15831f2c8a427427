"""The API contract is in the repository (docs/api-contract.graphql, a copy of
../shared/api-contract.graphql) and the served schema keeps it: every type, field,
argument, input field and enum value the contract's base part lists exists with the type
and default it shows; what the schema adds to a contract field or input is optional. Of
the "Additions" block (names for later issues) each part already built is held to the same
rules, the rest is counted as not built yet."""

from dataclasses import dataclass, field
from pathlib import Path

import pytest
from graphql import (
    DefinitionNode,
    EnumTypeDefinitionNode,
    EnumTypeExtensionNode,
    FieldDefinitionNode,
    GraphQLArgument,
    GraphQLEnumType,
    GraphQLField,
    GraphQLInputField,
    GraphQLInputObjectType,
    GraphQLNamedType,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLScalarType,
    GraphQLSchema,
    InputObjectTypeDefinitionNode,
    InputObjectTypeExtensionNode,
    InputValueDefinitionNode,
    ObjectTypeDefinitionNode,
    ObjectTypeExtensionNode,
    ScalarTypeDefinitionNode,
    build_schema,
    parse,
    print_ast,
)

from app import schema_check

ROOT = Path(__file__).resolve().parents[2]
CONTRACT = ROOT / "docs" / "api-contract.graphql"
SHARED = ROOT.parent / "shared" / "api-contract.graphql"
ADDITIONS = "# Additions"
# String in the contract, an enum of the same wire values here (issue 14): a client reading
# the field gets the same strings.
STRING_AS_ENUM = {("Investment", "status"), ("Redemption", "kind")}
KINDS: dict[type, type] = {
    ObjectTypeDefinitionNode: GraphQLObjectType,
    ObjectTypeExtensionNode: GraphQLObjectType,
    InputObjectTypeDefinitionNode: GraphQLInputObjectType,
    InputObjectTypeExtensionNode: GraphQLInputObjectType,
    EnumTypeDefinitionNode: GraphQLEnumType,
    EnumTypeExtensionNode: GraphQLEnumType,
    ScalarTypeDefinitionNode: GraphQLScalarType,
}


@dataclass
class Check:
    """Walks contract definitions against the served schema. ``additions``: a part that
    is not served yet is counted in ``missing`` instead of being a problem."""

    served: GraphQLSchema
    additions: bool = False
    problems: list[str] = field(default_factory=list)
    built: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)

    def absent(self, what: str) -> None:
        (self.missing if self.additions else self.problems).append(f"{what} is not served")

    def definition(self, node: DefinitionNode) -> None:
        name = node.name.value  # type: ignore[attr-defined]
        served = self.served.type_map.get(name)
        extension = isinstance(
            node, ObjectTypeExtensionNode | InputObjectTypeExtensionNode | EnumTypeExtensionNode
        )
        if served is None:
            return self.absent(name)
        if not isinstance(served, KINDS[type(node)]):
            return self.problems.append(f"{name} is served as another kind of type")
        if extension:  # new parts of a type: each counts as built or not on its own
            return self.members(name, node, served)
        self.built.append(name)
        additions, self.additions = self.additions, False  # a type built: all of it
        try:
            self.members(name, node, served)
        finally:
            self.additions = additions

    def members(self, name: str, node: DefinitionNode, served: GraphQLNamedType) -> None:
        if isinstance(node, EnumTypeDefinitionNode) and isinstance(served, GraphQLEnumType):
            listed = [value.name.value for value in node.values or ()]
            if listed != list(served.values):
                self.problems.append(
                    f"enum {name}: contract {listed}, served {list(served.values)}"
                )
        elif isinstance(served, GraphQLObjectType):
            for field_node in node.fields or ():  # type: ignore[attr-defined]
                self.object_field(name, field_node, served.fields.get(field_node.name.value))
        elif isinstance(served, GraphQLInputObjectType):
            inputs = node.fields or ()  # type: ignore[attr-defined]
            for input_node in inputs:
                self.value(f"{name}.{input_node.name.value}", input_node, served.fields)
            if not isinstance(node, InputObjectTypeExtensionNode):
                self.extras_optional(name, served.fields, {f.name.value for f in inputs})

    def object_field(
        self, type_name: str, node: FieldDefinitionNode, served: GraphQLField | None
    ) -> None:
        where = f"{type_name}.{node.name.value}"
        if served is None:
            return self.absent(where)
        self.built.append(where)
        wanted, actual = print_ast(node.type), str(served.type)
        if (type_name, node.name.value) in STRING_AS_ENUM and wanted != actual:
            named = served.type.of_type if isinstance(served.type, GraphQLNonNull) else None
            if wanted != "String!" or not isinstance(named, GraphQLEnumType):
                self.problems.append(f"{where}: contract {wanted}, served {actual}")
        elif wanted != actual:
            self.problems.append(f"{where}: contract {wanted}, served {actual}")
        for argument in node.arguments or ():
            self.value(f"{where}({argument.name.value}:)", argument, served.args)
        self.extras_optional(where, served.args, {a.name.value for a in node.arguments or ()})

    def value(
        self,
        where: str,
        node: InputValueDefinitionNode,
        served: dict[str, GraphQLArgument] | dict[str, GraphQLInputField],
    ) -> None:
        """An argument or an input field: its type, and its default when the contract
        shows one."""
        found = served.get(node.name.value)
        if found is None:
            return self.absent(where)
        self.built.append(where)
        wanted, actual = print_ast(node.type), str(found.type)
        if wanted != actual:
            self.problems.append(f"{where}: contract {wanted}, served {actual}")
        if node.default_value is not None and default_of(found) != print_ast(node.default_value):
            self.problems.append(
                f"{where}: default {print_ast(node.default_value)} in the contract, "
                f"{default_of(found)} served"
            )

    def extras_optional(
        self,
        where: str,
        served: dict[str, GraphQLArgument] | dict[str, GraphQLInputField],
        listed: set[str],
    ) -> None:
        """What the schema adds must not be required: a contract client does not send it."""
        for name, value in served.items():
            if (
                name not in listed
                and isinstance(value.type, GraphQLNonNull)
                and default_of(value) is None
                and not self.additions
            ):
                self.problems.append(f"{where}: {name} is required but not in the contract")


def default_of(value: GraphQLArgument | GraphQLInputField) -> str | None:
    """The default as the served SDL prints it (both schemas here are built from SDL)."""
    node = value.ast_node
    return print_ast(node.default_value) if node and node.default_value else None


def contract_parts(text: str) -> tuple[str, str]:
    base, marker, additions = text.partition(ADDITIONS)
    assert marker, f"the contract has no {ADDITIONS!r} block"
    return base, marker + additions


def served_schema() -> GraphQLSchema:
    return build_schema(schema_check.code_sdl())


def check(text: str, *, additions: bool) -> Check:
    walk = Check(served_schema(), additions=additions)
    for definition in parse(text).definitions:
        walk.definition(definition)
    return walk


def test_the_served_schema_keeps_the_contract() -> None:
    base, _ = contract_parts(CONTRACT.read_text())
    walk = check(base, additions=False)
    assert walk.problems == []
    assert len(walk.built) > 300  # the base part really was walked


def test_the_built_additions_are_as_the_contract_names_them(capsys) -> None:
    _, additions = contract_parts(CONTRACT.read_text())
    walk = check(additions, additions=True)
    assert walk.problems == []
    assert "InvestmentStatus" in walk.built
    with capsys.disabled():
        print(
            f"\ncontract additions: {len(walk.built)} parts served "
            f"({', '.join(walk.built)}), {len(walk.missing)} not built yet"
        )


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ("cash: Decimal!", "cash: Float!", "Portfolio.cash: contract Decimal!, served Float!"),
        ("myPortfolios: [Portfolio!]!", "", "Query.myPortfolios is not served"),
        (
            "users(first: Int = 20,",
            "users(first: Int = 10,",
            "Query.users(first:): default 20 in the contract, 10 served",
        ),
        ("ANALYST INVESTOR }", "INVESTOR }", "enum Role: contract"),
        (
            "upcoming: Boolean)",
            "upcoming: Boolean, since: Date!)",
            "Query.events: since is required but not in the contract",
        ),
        ("status: String!\n", "status: Int!\n", "Investment.status: contract String!"),
        ("input UpdateProfileInput {", "input UpdateProfileInput { x: Int!", "x is required"),
    ],
)
def test_a_schema_that_departs_from_the_contract_is_told(old: str, new: str, expected: str):
    """The check itself, on a schema built from the contract with one departure."""
    base, _ = contract_parts(CONTRACT.read_text())
    assert old in base
    walk = Check(build_schema(base.replace(old, new, 1)))
    for definition in parse(base).definitions:
        walk.definition(definition)
    assert any(expected in problem for problem in walk.problems), walk.problems


def test_the_copy_is_the_shared_contract() -> None:
    if not SHARED.exists():
        pytest.skip(f"{SHARED} is not next to the repository: nothing to compare the copy with")
    assert CONTRACT.read_text() == SHARED.read_text(), (
        f"docs/api-contract.graphql differs from {SHARED}: copy it over (cp {SHARED} docs/)"
    )
