"""Render a broadcast event once per distinct selection, not once per subscriber.

A tick goes to every subscriber of its symbol, and their subscriptions mostly select the
same fields: executing the selection for each of them is the bulk of a fan-out's CPU. A
payload type that derives from ``SharedEvent`` declares that its fields depend on nothing
but the payload (no context, no arguments); its execution result is then kept on the
payload object and reused for every subscription with the same operation document and the
same values of the variables used below the root field. Results with errors are never
shared."""

from collections import OrderedDict
from collections.abc import AsyncIterator, Callable
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, cast

import orjson
from graphql import ExecutionResult, OperationDefinitionNode, OperationType, VariableNode, visit
from graphql.language import Visitor
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

from schema.core.leaf_plans import Plan, compile_plan

_RENDERINGS = "_fidus_renderings"
_VARIABLES_CACHE_SIZE = 1024
_ENCODED_CACHE_SIZE = 1024

# id(shared result data) → (data, its JSON once encoded); the strong reference keeps the
# id from being reused while the entry lives
_encodings: OrderedDict[int, tuple[object, str | None]] = OrderedDict()


def payload_json(result: Any) -> str:
    """The JSON of a result as a ``next`` payload: encoded once for a shared rendering,
    whatever the number of subscribers it goes to."""
    data = result.data
    entry = _encodings.get(id(data))
    if entry is not None and entry[0] is data and not result.errors and not result.extensions:
        if entry[1] is None:
            entry = (data, orjson.dumps({"data": data}).decode())
            _encodings[id(data)] = entry
        assert entry[1] is not None
        return entry[1]
    payload: dict[str, Any] = {"data": data}
    if result.errors:
        payload["errors"] = [error.formatted for error in result.errors]
    if result.extensions:
        payload["extensions"] = result.extensions
    return orjson.dumps(payload).decode()


def _remember_shared(result: ExecutionResult) -> None:
    _encodings[id(result.data)] = (result.data, None)
    if len(_encodings) > _ENCODED_CACHE_SIZE:
        _encodings.popitem(last=False)


class SharedEvent:
    """Marker for subscription payloads rendered the same for anyone (see module doc)."""


class _VariableNames(Visitor):
    def __init__(self) -> None:
        super().__init__()
        self.names: set[str] = set()

    def enter_variable(self, node: VariableNode, *_: Any) -> None:
        self.names.add(node.name.value)


# id(operation) → (operation, names): the strong reference keeps the id from being reused
_selection_variables: OrderedDict[int, tuple[OperationDefinitionNode, tuple[str, ...]]] = (
    OrderedDict()
)


def selection_variables(operation: OperationDefinitionNode) -> tuple[str, ...]:
    """Variables used anywhere below the root fields (their own arguments excluded)."""
    cached = _selection_variables.get(id(operation))
    if cached is not None and cached[0] is operation:
        return cached[1]
    collector = _VariableNames()
    for selection in operation.selection_set.selections:
        for directive in selection.directives or ():
            visit(directive, collector)
        inner = getattr(selection, "selection_set", None)
        if inner is not None:
            visit(inner, collector)
    names = tuple(sorted(collector.names))
    _selection_variables[id(operation)] = (operation, names)
    if len(_selection_variables) > _VARIABLES_CACHE_SIZE:
        _selection_variables.popitem(last=False)
    return names


class SharingExecutionContext(StrawberryGraphQLCoreExecutionContext):
    def build_per_event_executor(self, payload: Any) -> Any:
        """graphql-core 3.3 copies the subscription's executor for each event but shares its
        sub-field memo, keyed by the identity of field lists that each event builds anew
        and kept alive with them: a long-lived subscription grew by about 1.4 KB per
        event. Each event gets its own memo (still shared within the event)."""
        executor = super().build_per_event_executor(payload)
        executor._relevant_sub_fields = {}
        return executor

    def rendering_key(self) -> tuple[Any, ...]:
        """Subscriptions with the same document and the same values of the variables used
        below the root field render an event the same."""
        coerced = self.variable_values.coerced
        return (
            id(self.operation),
            tuple(repr(coerced.get(name)) for name in selection_variables(self.operation)),
        )

    def execute_operation(self, serially: bool | None = None) -> Any:
        payload = self.root_value
        if (
            not isinstance(payload, SharedEvent)
            or self.operation.operation is not OperationType.SUBSCRIPTION
        ):
            return super().execute_operation(serially)
        feed = _direct_feed.get()
        if feed is not None and feed.executor is None:
            feed.executor = self
        key = self.rendering_key()
        renderings: dict[Any, tuple[OperationDefinitionNode, ExecutionResult]] = (
            payload.__dict__.setdefault(_RENDERINGS, {})
        )
        shared = renderings.get(key)
        if shared is not None and shared[0] is self.operation:
            return shared[1]
        result = super().execute_operation(serially)
        if isinstance(result, ExecutionResult) and not result.errors:
            renderings[key] = (self.operation, result)
            _remember_shared(result)
        return result

    async def render(self, payload: SharedEvent) -> ExecutionResult:
        """This subscription's result for another event: the shared rendering when one
        exists (no executor is built), else rendered once — by its leaf plan when the
        selection has one — and shared from then on."""
        memo = self.__dict__
        key = memo.get("_fidus_key")
        if key is None:  # the same for every event of this subscription
            key = memo["_fidus_key"] = self.rendering_key()
        renderings = payload.__dict__.setdefault(_RENDERINGS, {})
        shared = renderings.get(key)
        if shared is not None and shared[0] is self.operation:
            return cast(ExecutionResult, shared[1])
        if "_fidus_plan" not in memo:
            memo["_fidus_plan"] = compile_plan(
                self.schema,
                self.operation,
                self.variable_values,
                type(payload),
                self.schema._strawberry_schema.config.name_converter.get_graphql_name,  # type: ignore[attr-defined]
            )
        plan: Plan | None = memo["_fidus_plan"]
        data = plan(payload) if plan is not None else None
        if data is None:
            result = self.build_per_event_executor(payload).execute_operation(False)
            if self.is_awaitable(result):
                result = await result
            return cast(ExecutionResult, result)
        rendered = ExecutionResult(data=data)
        renderings[key] = (self.operation, rendered)
        _remember_shared(rendered)
        return rendered


@dataclass
class DirectFeed:
    """What a WebSocket handler needs to deliver a shared-event subscription itself:
    after its first event went through Strawberry, the payloads straight from their source
    (``events``, each turned into its shared event by ``to_event``) and the subscription's
    executor to render them (``executor``)."""

    executor: SharingExecutionContext | None = None
    events: AsyncIterator[Any] | None = None
    to_event: Callable[[Any], SharedEvent] | None = None

    @property
    def ready(self) -> bool:
        return self.executor is not None and self.events is not None


_direct_feed: ContextVar[DirectFeed | None] = ContextVar("fidus_direct_feed", default=None)


def open_direct_feed() -> DirectFeed:
    """Called by the handler in the operation's own task, before it runs the operation."""
    feed = DirectFeed()
    _direct_feed.set(feed)
    return feed


def current_direct_feed() -> DirectFeed | None:
    return _direct_feed.get()


def offer_events(events: AsyncIterator[Any], to_event: Callable[[Any], SharedEvent]) -> None:
    """Called by a subscription resolver: the source a handler may iterate directly."""
    feed = _direct_feed.get()
    if feed is not None and feed.events is None:
        feed.events, feed.to_event = events, to_event
