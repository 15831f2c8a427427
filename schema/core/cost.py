"""Query cost analysis on top of the depth, alias and token limits: each field costs 1,
and a list multiplies what is selected below it by its page size (``first``, else the
default page size for connections, else ``LIST_ESTIMATE``). An operation above the limit
is refused before it runs, with its cost and the limit in the error; so is one whose
cost cannot be estimated (fragments nested past ``MAX_FRAGMENT_DEPTH``)."""

from collections.abc import Iterator
from typing import Any, NamedTuple, cast

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
MAX_FRAGMENT_DEPTH = 20  # inline fragments and spreads nested in each other


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
                refusal = self._refusal(estimator, operation, root)
                if refusal is not None:
                    context.result = ExecutionResult(data=None, errors=[refusal])
        yield

    def _refusal(
        self, estimator: "_Estimator", operation: OperationDefinitionNode, root: Any
    ) -> GraphQLError | None:
        try:
            cost = estimator.estimate(operation.selection_set, root)
        except Unestimable as error:
            return GraphQLError(
                f"Query cost cannot be estimated: {error}",
                extensions={"code": "BAD_USER_INPUT", "maxFragmentDepth": MAX_FRAGMENT_DEPTH},
            )
        if cost > self.max_cost:
            return GraphQLError(
                f"Query cost {cost} exceeds the limit of {self.max_cost}",
                extensions={"code": "BAD_USER_INPUT", "cost": cost},
            )
        return None


def _operation(definitions: Any, name: str | None) -> OperationDefinitionNode | None:
    operations = [d for d in definitions if isinstance(d, OperationDefinitionNode)]
    if name is None:
        return operations[0] if len(operations) == 1 else None
    return next((o for o in operations if o.name and o.name.value == name), None)


class Unestimable(Exception):
    """The estimate cannot be finished: the operation is refused, never run uncounted."""


class _Estimate(NamedTuple):
    cost: int
    height: int  # how deep fragments (inline or spread) nest inside, for the depth cap


def _nested(estimate: _Estimate) -> _Estimate:
    return _Estimate(estimate.cost, estimate.height + 1)


class _Estimator:
    """Walks the operation once. A named fragment's estimate depends only on the fragment
    and on whether it sits in a connection's page (``paged``), so it is computed once per
    pair: wide reuse costs one walk per fragment, not one per spread. Fragments nested
    past ``MAX_FRAGMENT_DEPTH`` (a cycle, if validation had let one through, too) make
    the estimate impossible: the operation is refused rather than counted short."""

    def __init__(
        self, schema: Any, fragments: dict[str, Any], variables: dict[str, Any], page: int
    ) -> None:
        self.schema = schema
        self.fragments = fragments
        self.variables = variables
        self.page = page
        self.known: dict[tuple[str, bool], _Estimate] = {}

    def estimate(self, selection_set: SelectionSetNode, root: Any) -> int:
        return self.selection(selection_set, root, 0).cost

    def selection(
        self, selection_set: SelectionSetNode | None, parent: Any, depth: int, paged: bool = False
    ) -> _Estimate:
        """``depth``: how many fragments this selection is nested in. ``paged``: the
        selection of a connection, whose page size was already counted."""
        if depth > MAX_FRAGMENT_DEPTH:
            raise Unestimable(f"fragments nest more than {MAX_FRAGMENT_DEPTH} deep")
        if selection_set is None:
            return _Estimate(0, 0)
        total, height = 0, 0
        for node in selection_set.selections:
            if isinstance(node, FieldNode):
                part = self.field(node, parent, depth, paged)
            elif isinstance(node, InlineFragmentNode):
                condition = node.type_condition
                target = self.schema.get_type(condition.name.value) if condition else parent
                part = _nested(self.selection(node.selection_set, target, depth + 1, paged))
            else:
                name = cast(FragmentSpreadNode, node).name.value
                part = _nested(self.spread(name, depth + 1, paged))
            total += part.cost
            height = max(height, part.height)
        return _Estimate(total, height)

    def spread(self, name: str, depth: int, paged: bool) -> _Estimate:
        known = self.known.get((name, paged))
        if known is None:
            fragment = self.fragments.get(name)
            if fragment is None:  # validation refuses it first
                raise Unestimable(f"unknown fragment {name}")
            target = self.schema.get_type(fragment.type_condition.name.value)
            known = self.selection(fragment.selection_set, target, depth, paged)
            self.known[name, paged] = known
        elif depth + known.height > MAX_FRAGMENT_DEPTH:  # reused deeper than first met
            raise Unestimable(f"fragments nest more than {MAX_FRAGMENT_DEPTH} deep")
        return known

    def field(self, node: FieldNode, parent: Any, depth: int, paged: bool) -> _Estimate:
        if not isinstance(parent, GraphQLObjectType) or node.name.value.startswith("__"):
            below = self.selection(node.selection_set, None, depth)
            return _Estimate(1 + below.cost, below.height)
        definition = parent.fields.get(node.name.value)
        if definition is None:
            return _Estimate(1, 0)
        named = get_named_type(definition.type)
        if paged and node.name.value in ("edges", "nodes"):
            below = self.selection(node.selection_set, named, depth)
            return _Estimate(1 + below.cost, below.height)
        multiplier = self._multiplier(node, definition)
        below = self.selection(node.selection_set, named, depth, "first" in definition.args)
        return _Estimate(1 + multiplier * below.cost, below.height)

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
