"""Latest tick per symbol, per tenant: in Redis (a hash per tenant) so every process sees
it, or in process memory for the embedded install."""

from typing import Any

from subscriptions.payloads import TickPayload


class PriceCache:
    def __init__(self, redis: Any | None, namespace: str = "") -> None:
        self._redis = redis
        self._namespace = namespace
        self._memory: dict[str, dict[str, str]] = {}

    def _key(self, tenant_id: str) -> str:
        return f"{self._namespace}prices:{tenant_id}"

    async def put(self, tenant_id: str, ticks: list[TickPayload]) -> None:
        if not ticks:
            return
        encoded = {tick.symbol: tick.encode() for tick in ticks}
        if self._redis is None:
            self._memory.setdefault(self._key(tenant_id), {}).update(encoded)
        else:
            await self._redis.hset(self._key(tenant_id), mapping=encoded)

    async def get_many(self, tenant_id: str, symbols: list[str]) -> dict[str, TickPayload]:
        """One round trip, whatever the number of symbols."""
        unique = list(dict.fromkeys(symbols))
        if not unique:
            return {}
        if self._redis is None:
            stored = self._memory.get(self._key(tenant_id), {})
            values: list[Any] = [stored.get(symbol) for symbol in unique]
        else:
            values = await self._redis.hmget(self._key(tenant_id), unique)
        return {
            symbol: TickPayload.decode(value.decode() if isinstance(value, bytes) else value)
            for symbol, value in zip(unique, values, strict=True)
            if value is not None
        }
