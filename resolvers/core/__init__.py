"""What every domain's use cases share: the request context and its ports, tenant scope,
pagination, targeted and atomic writes, outages, batch loaders, background and post-commit
work, persisted queries."""
