"""GDPR/POPIA subject rights: export and erasure."""
