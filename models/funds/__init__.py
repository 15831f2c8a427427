"""Fund products and invitations, and the payout rule of fund-rules.md."""
