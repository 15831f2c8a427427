"""How a domain joins the schema: its module exposes ``DOMAIN = Domain(...)`` with its
root classes, and schema/__init__.py lists it once in ``DOMAINS``. Each root type (Query,
Mutation, Subscription) is merged from the domains in that order, which is the order of
their fields in schema.graphql."""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

Root = Literal["queries", "mutations", "subscriptions"]


@dataclass(frozen=True)
class Domain:
    """A domain's root classes (Strawberry types whose fields join Query, Mutation or
    Subscription); a domain may have any of the three."""

    queries: type | None = None
    mutations: type | None = None
    subscriptions: type | None = None


def roots(domains: Sequence[Domain], root: Root) -> tuple[type, ...]:
    """The classes of ``root`` in domain order, for ``strawberry.tools.merge_types``."""
    return tuple(cls for domain in domains if (cls := getattr(domain, root)) is not None)
