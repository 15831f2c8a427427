"""The operation depth and alias limits as validation rules, measured through fragments.

Same measures and messages as strawberry's ``QueryDepthLimiter`` and
``MaxAliasesLimiter``, but each named fragment is measured once per document: those
re-walk a fragment at every spread, so a few hundred tokens of fragments that each
spread the next several times kept validation busy for minutes."""

from typing import Any, NamedTuple, cast

from graphql import (
    ASTValidationRule,
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    ValidationRule,
)
from graphql.language.visitor import SKIP
from graphql.validation import NoSchemaIntrospectionCustomRule

from schema.core.suggestions import HideSuggestions


def limit_rules(
    max_depth: int, max_aliases: int, introspection: bool
) -> list[type[ASTValidationRule]]:
    """The validation rules added to graphql's for every operation (new classes per call:
    build them once per schema, they are part of the validation cache's key)."""
    return [
        depth_limit(max_depth),
        alias_limit(max_aliases),
        *([] if introspection else [NoSchemaIntrospectionCustomRule, HideSuggestions]),
    ]


class Measure(NamedTuple):
    depth: int  # fields nested in each other, not counting inside ``__schema`` and co.
    aliases: int  # aliased fields, a fragment's counted at each spread


def depth_limit(max_depth: int) -> type[ValidationRule]:
    class DepthLimit(ValidationRule):
        def enter_document(self, node: DocumentNode, *_: Any) -> Any:
            for operation, measure in measure_operations(node):
                if measure.depth > max_depth:
                    name = operation.name.value if operation.name else "anonymous"
                    message = f"'{name}' exceeds maximum operation depth of {max_depth}"
                    self.report_error(GraphQLError(message, operation))
            return SKIP

    return DepthLimit


def alias_limit(max_aliases: int) -> type[ValidationRule]:
    class AliasLimit(ValidationRule):
        def enter_document(self, node: DocumentNode, *_: Any) -> Any:
            total = sum(measure.aliases for _, measure in measure_operations(node))
            if total > max_aliases:
                self.report_error(GraphQLError(f"{total} aliases found. Allowed: {max_aliases}"))
            return SKIP

    return AliasLimit


def measure_operations(
    document: DocumentNode,
) -> list[tuple[OperationDefinitionNode, Measure]]:
    walk = _Walk(document)
    return [
        (d, walk.selection(d.selection_set))
        for d in document.definitions
        if isinstance(d, OperationDefinitionNode)
    ]


class _Walk:
    """A fragment inside its own spread (a cycle) or unknown counts as empty here:
    NoFragmentCycles and KnownFragmentNames report those."""

    def __init__(self, document: DocumentNode) -> None:
        self.fragments = {
            d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
        }
        self.known: dict[str, Measure] = {}
        self.open: set[str] = set()

    def selection(self, selection_set: SelectionSetNode) -> Measure:
        depth = aliases = 0
        for node in selection_set.selections:
            if isinstance(node, FieldNode):
                aliases += node.alias is not None
                if node.selection_set is None:
                    continue
                below = self.selection(node.selection_set)
                if not node.name.value.startswith("__"):
                    depth = max(depth, 1 + below.depth)
                aliases += below.aliases
                continue
            if isinstance(node, InlineFragmentNode):
                below = self.selection(node.selection_set)
            else:
                below = self.fragment(cast(FragmentSpreadNode, node).name.value)
            depth, aliases = max(depth, below.depth), aliases + below.aliases
        return Measure(depth, aliases)

    def fragment(self, name: str) -> Measure:
        known = self.known.get(name)
        if known is not None:
            return known
        definition = self.fragments.get(name)
        if definition is None or name in self.open:
            return Measure(0, 0)
        self.open.add(name)
        measure = self.known[name] = self.selection(definition.selection_set)
        self.open.discard(name)
        return measure
