"""Who is calling: sign-in and credentials, sessions, MFA, login throttling, service tokens,
WebSocket connections, tenants with their first ADMIN."""
