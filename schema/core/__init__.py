"""What every domain's types share: the Info type, permission classes, coded errors,
Relay connections, DataLoaders, document limits and cost, rate limits, persisted queries,
observability, and rendering a broadcast event once per selection."""
