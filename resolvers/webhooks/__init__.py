"""Outbound webhooks: endpoints and their secrets, the outbox, target rules, the dispatcher."""
