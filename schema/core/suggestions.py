"""No "Did you mean ...?" in error messages when introspection is off: the suggestions
name the schema's fields, arguments, types and enum values that the client did not
write. graphql-core can leave them out (``hide_suggestions``) in validation and in
execution (variable coercion); Strawberry does not pass the option, so it is set here."""

from typing import Any, TypeVar

from graphql import ASTValidationRule, ValidationContext

Executor = TypeVar("Executor")


class HideSuggestions(ASTValidationRule):
    """Every rule of a validation run shares one context and reads its setting while
    visiting, after all of them were constructed: one rule in the list turns it on."""

    def __init__(self, context: ValidationContext) -> None:
        context._hide_suggestions = True  # graphql-core keeps the option here, read-only
        super().__init__(context)


def without_suggestions(executor_class: type[Executor]) -> type[Executor]:
    """``executor_class`` coercing variables (and everything else) without suggestions."""

    class Quiet(executor_class):  # type: ignore[valid-type,misc]
        @classmethod
        def build(cls, *args: Any, **kwargs: Any) -> Any:
            return super().build(*args, **{**kwargs, "hide_suggestions": True})

    return Quiet
