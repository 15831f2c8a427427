"""Documents: upload and storage, sharing and listing, signed download links, KYC review,
e-signature."""
