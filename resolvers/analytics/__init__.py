"""Analytics for staff and analysts: tenant-scoped aggregation pipelines."""
