"""Private-deal opportunities: drafting, publishing, interest, capacity-safe investing."""
