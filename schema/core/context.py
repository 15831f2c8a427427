"""The Info type every schema resolver receives."""

from typing import TypeAlias

import strawberry

from resolvers.core.context import RequestContext

Info: TypeAlias = strawberry.Info[RequestContext, None]
