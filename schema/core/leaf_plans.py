"""Render a shared event without the GraphQL executor when the selection allows it.

A live tick is rendered for each distinct selection; with few subscribers per tick, that one
execution is most of the server's work per delivered message. Most subscriptions select
plain scalar fields of the event (``ticks(symbols: $s) { symbol bid ask time }``), perhaps
aliased or behind ``@include``/``@skip``. Such a selection compiles once per subscription
into a *plan*: the response keys, each with the event attribute it reads and the scalar's
own ``serialize``. Anything else (fragments, arguments, nested objects, fields with
resolvers, permissions or extensions) gets no plan and is executed as usual; so does an
event whose value would be an error (None in a non-null field)."""

from collections.abc import Callable
from typing import Any

from graphql import (
    FieldNode,
    GraphQLEnumType,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLScalarType,
    GraphQLSchema,
    OperationDefinitionNode,
)
from graphql.execution.values import VariableValues, get_directive_values
from graphql.type import GraphQLIncludeDirective, GraphQLSkipDirective
from strawberry.types.base import has_object_definition

Plan = Callable[[Any], dict[str, Any] | None]  # None: execute this event as usual
_Leaf = tuple[str, str, bool, Callable[[Any], Any]]  # response key, attribute, non-null, serialize


def _included(node: FieldNode, variables: VariableValues) -> bool:
    skip = get_directive_values(GraphQLSkipDirective, node, variables)
    if skip is not None and skip["if"] is True:
        return False
    include = get_directive_values(GraphQLIncludeDirective, node, variables)
    return not (include is not None and include["if"] is False)


def _constant(value: str) -> Callable[[Any], str]:
    return lambda _ignored: value


def _plain_attributes(payload_type: type, name_of: Callable[[Any], str]) -> dict[str, str]:
    """GraphQL field name → attribute, for the fields that only read an attribute."""
    if not has_object_definition(payload_type):
        return {}
    return {
        name_of(field): field.python_name
        for field in payload_type.__strawberry_definition__.fields
        if field.base_resolver is None and not field.permission_classes and not field.extensions
    }


def compile_plan(
    schema: GraphQLSchema,
    operation: OperationDefinitionNode,
    variables: VariableValues,
    payload_type: type,
    name_of: Callable[[Any], str],
) -> Plan | None:
    """The plan of a one-root-field subscription over leaf fields, or None."""
    roots = operation.selection_set.selections
    subscription = schema.subscription_type
    if len(roots) != 1 or not isinstance(roots[0], FieldNode) or subscription is None:
        return None
    root = roots[0]
    if root.directives or root.selection_set is None:
        return None
    root_field = subscription.fields.get(root.name.value)
    if root_field is None:
        return None
    object_type = root_field.type.of_type if isinstance(root_field.type, GraphQLNonNull) else None
    if not isinstance(object_type, GraphQLObjectType):
        return None
    attributes = _plain_attributes(payload_type, name_of)
    leaves: list[_Leaf] = []
    for node in root.selection_set.selections:
        if not isinstance(node, FieldNode) or node.arguments or node.selection_set:
            return None
        if not _included(node, variables):
            continue
        key = node.alias.value if node.alias else node.name.value
        if any(leaf[0] == key for leaf in leaves):
            return None  # merged duplicates: leave them to the executor
        if node.name.value == "__typename":
            leaves.append((key, "", True, _constant(object_type.name)))
            continue
        field = object_type.fields.get(node.name.value)
        attribute = attributes.get(node.name.value)
        if field is None or attribute is None:
            return None
        non_null = isinstance(field.type, GraphQLNonNull)
        leaf_type = field.type.of_type if non_null else field.type
        if not isinstance(leaf_type, GraphQLScalarType | GraphQLEnumType):
            return None
        leaves.append((key, attribute, non_null, leaf_type.serialize))
    root_key = root.alias.value if root.alias else root.name.value

    def plan(event: Any) -> dict[str, Any] | None:
        rendered: dict[str, Any] = {}
        for key, attribute, non_null, serialize in leaves:
            value = getattr(event, attribute) if attribute else None
            if value is None and attribute:
                if non_null:
                    return None
                rendered[key] = None
            else:
                try:
                    rendered[key] = serialize(value)
                except Exception:  # e.g. an Int out of range: the executor reports it
                    return None
        return {root_key: rendered}

    return plan
