"""Composition root: settings, app factory, lifespan, non-GraphQL routes, auth, CLI."""
