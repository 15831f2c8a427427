"""Stored documents and their signatures, and what an upload really is."""
