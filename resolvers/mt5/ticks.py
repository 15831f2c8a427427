"""Live ticks for the caller's tenant."""

from models.errors import BadUserInput
from resolvers.core.context import RequestContext
from subscriptions.ticks import SYMBOL_PATTERN, TickPayload, TickStream, tick_stream

MAX_SYMBOLS = 50


def clean_symbols(symbols: list[str]) -> list[str]:
    if not symbols or len(symbols) > MAX_SYMBOLS:
        raise BadUserInput(f"Give 1 to {MAX_SYMBOLS} symbols", field="symbols")
    bad = [s for s in symbols if not SYMBOL_PATTERN.fullmatch(s)]
    if bad:
        raise BadUserInput(f"Malformed symbol(s): {bad[:5]}", field="symbols")
    return list(dict.fromkeys(symbols))


def ticks(ctx: RequestContext, symbols: list[str]) -> TickStream:
    """Validated and authorised at subscribe time; the stream is tenant-scoped."""
    principal = ctx.require_principal()
    cleaned = clean_symbols(symbols)
    return tick_stream(ctx.services.broker, str(principal.tenant_id), cleaned)


async def latest_ticks(ctx: RequestContext, symbols: list[str]) -> list[TickPayload]:
    """The latest accepted tick of each symbol that has one (shared cache, one round trip)."""
    principal = ctx.require_principal()
    cleaned = clean_symbols(symbols)
    found = await ctx.services.broker.prices.get_many(str(principal.tenant_id), cleaned)
    return [found[s] for s in cleaned if s in found]
