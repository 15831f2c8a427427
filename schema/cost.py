"""Query cost analysis on top of the depth, alias and token limits: each field costs 1,
and a list multiplies what is selected below it by its page size (``first``, else the
default page size for connections, else ``LIST_ESTIMATE``). An operation above the limit
is refused before it runs, with its cost and the limit in the error."""

from collections.abc import Iterator
from typing import Any

from graphql import (
    ExecutionResult,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLList,
    GraphQLObjectType,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    VariableNode,
    get_named_type,
    get_nullable_type,
)
from strawberry.extensions import SchemaExtension

LIST_ESTIMATE = 10  # a plain list's assumed length


class QueryCost(SchemaExtension):
    def __init__(self, *, max_cost: int, max_page_size: int) -> None:
        self.max_cost = max_cost
        self.max_page_size = max_page_size

    def on_execute(self) -> Iterator[None]:
        context = self.execution_context
        document = context.graphql_document
        if document is not None and not context.result:
            operation = _operation(document.definitions, context.operation_name)
            if operation is not None:
                schema = context.schema._schema
                root = schema.get_root_type(operation.operation)
                fragments = {
                    d.name.value: d
                    for d in document.definitions
                    if isinstance(d, FragmentDefinitionNode)
                }
                estimator = _Estimator(
                    schema, fragments, context.variables or {}, self.max_page_size
                )
                cost = estimator.selection(operation.selection_set, root, 0)
                if cost > self.max_cost:
                    context.result = ExecutionResult(
                        data=None,
                        errors=[
                            GraphQLError(
                                f"Query cost {cost} exceeds the limit of {self.max_cost}",
                                extensions={"code": "BAD_USER_INPUT", "cost": cost},
                            )
                        ],
                    )
        yield


def _operation(definitions: Any, name: str | None) -> OperationDefinitionNode | None:
    operations = [d for d in definitions if isinstance(d, OperationDefinitionNode)]
    if name is None:
        return operations[0] if len(operations) == 1 else None
    return next((o for o in operations if o.name and o.name.value == name), None)


class _Estimator:
    MAX_FRAGMENT_DEPTH = 20

    def __init__(
        self, schema: Any, fragments: dict[str, Any], variables: dict[str, Any], page: int
    ) -> None:
        self.schema = schema
        self.fragments = fragments
        self.variables = variables
        self.page = page

    def selection(
        self, selection_set: SelectionSetNode | None, parent: Any, depth: int, paged: bool = False
    ) -> int:
        """``paged``: the selection of a connection, whose page size was already counted."""
        if selection_set is None or depth > self.MAX_FRAGMENT_DEPTH:
            return 0
        total = 0
        for node in selection_set.selections:
            if isinstance(node, FieldNode):
                total += self.field(node, parent, depth, paged)
            elif isinstance(node, InlineFragmentNode):
                condition = node.type_condition
                target = self.schema.get_type(condition.name.value) if condition else parent
                total += self.selection(node.selection_set, target, depth + 1, paged)
            elif isinstance(node, FragmentSpreadNode):
                fragment = self.fragments.get(node.name.value)
                if fragment is not None:
                    target = self.schema.get_type(fragment.type_condition.name.value)
                    total += self.selection(fragment.selection_set, target, depth + 1, paged)
        return total

    def field(self, node: FieldNode, parent: Any, depth: int, paged: bool) -> int:
        if not isinstance(parent, GraphQLObjectType) or node.name.value.startswith("__"):
            return 1 + self.selection(node.selection_set, None, depth)
        definition = parent.fields.get(node.name.value)
        if definition is None:
            return 1
        named = get_named_type(definition.type)
        if paged and node.name.value in ("edges", "nodes"):
            return 1 + self.selection(node.selection_set, named, depth)
        multiplier = self._multiplier(node, definition)
        below = self.selection(node.selection_set, named, depth, "first" in definition.args)
        return 1 + multiplier * below

    def _multiplier(self, node: FieldNode, definition: Any) -> int:
        first = self._argument(node, "first")
        if first is not None:
            return max(0, min(first, self.page))
        if "first" in definition.args:  # a connection at its default page size
            default = definition.args["first"].default_value
            return min(default if isinstance(default, int) else self.page, self.page)
        if isinstance(get_nullable_type(definition.type), GraphQLList):
            return LIST_ESTIMATE
        return 1

    def _argument(self, node: FieldNode, name: str) -> int | None:
        for argument in node.arguments or ():
            if argument.name.value != name:
                continue
            value = argument.value
            if isinstance(value, IntValueNode):
                return int(value.value)
            if isinstance(value, VariableNode):
                given = self.variables.get(value.name.value)
                return given if isinstance(given, int) else None
        return None
