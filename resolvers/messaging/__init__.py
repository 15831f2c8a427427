"""Conversations between investors and staff, and the messageReceived stream."""
