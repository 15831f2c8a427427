"""Fund products: listing, ADMIN edits, invitations, simulation."""
