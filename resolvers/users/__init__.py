"""People in a tenant: visibility, creation, profiles and KYC review."""
