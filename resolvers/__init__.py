"""Use cases: take a typed RequestContext, check rules, read/write documents, publish
events after writes. No strawberry import."""
