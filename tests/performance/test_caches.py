"""Per-request costs that the schema's caches must remove: a document seen before is not
validated again (the depth and alias rules are part of the validation cache's key, so
they must be the same rule classes for every request)."""

import uuid

import graphql

ME = "query Me%s { me { email } }"


async def test_a_repeated_document_is_validated_once(api, world, monkeypatch):
    calls: list[object] = []
    validate = graphql.validate

    def counting_validate(*args, **kwargs):
        calls.append(args[1])
        return validate(*args, **kwargs)

    monkeypatch.setattr("strawberry.schema.schema.validate", counting_validate)
    query = ME % uuid.uuid4().hex  # a text no earlier test has sent
    token = world("acme", "analyst").token
    for _ in range(3):
        result = await api.gql(query, token=token)
        assert result.ok()["me"]["email"] == world("acme", "analyst").email
    assert len(calls) == 1


def _deep(levels: int) -> str:
    """opportunities → edges → node, then ``levels`` × (interests → opportunity)."""
    inner = "id"
    for _ in range(levels):
        inner = f"interests {{ opportunity {{ {inner} }} }}"
    return f"query Deep {{ opportunities {{ edges {{ node {{ {inner} }} }} }} }}"


async def test_the_depth_limit_still_applies_to_a_cached_document(api, world):
    token = world("acme", "analyst").token
    for _ in range(2):  # the second time from the caches
        refused = await api.gql(_deep(5), token=token)
        assert refused.code == "BAD_USER_INPUT"
        assert "depth" in refused.errors[0]["message"]
        allowed_depth = await api.gql(_deep(4), token=token)
        # four nested lists are within the depth limit; the cost limit may still refuse it
        assert not allowed_depth.errors or "depth" not in allowed_depth.errors[0]["message"]
        assert (await api.gql(_deep(2), token=token)).ok()


async def test_the_alias_limit_still_applies_to_a_cached_document(api, world):
    aliases = "{ " + " ".join(f"a{i}: me {{ email }}" for i in range(40)) + " }"
    token = world("acme", "analyst").token
    for _ in range(2):
        refused = await api.gql(aliases, token=token)
        assert refused.code == "BAD_USER_INPUT"
        assert "alias" in refused.errors[0]["message"].lower()
