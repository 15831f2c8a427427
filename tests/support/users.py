"""The GraphQL documents of user administration and profiles, for tests."""

CREATE_USER = "mutation($i: CreateUserInput!) { createUser(input: $i) { id email fullName role } }"
PROFILE = """mutation($i: UpdateProfileInput!) { updateProfile(input: $i) {
  fullName phone baseCurrency } }"""
KYC = """mutation($u: ID!, $s: KycStatus!, $r: String) {
  reviewKyc(userId: $u, status: $s, reason: $r) { id kycStatus } }"""
