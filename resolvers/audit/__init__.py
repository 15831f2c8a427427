"""The append-only audit trail of sensitive actions."""
