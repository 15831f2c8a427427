"""uploadDocument in the role × tenant matrix. The matrix in tests/security sends JSON
only, and an upload must be a multipart request, so this mutation's rows live here:
every role, anonymous, and the other tenant's users as owners."""

import pytest

from tests.support.documents import PDF_BYTES, stored_documents, upload

ROLES = ("admin", "manager", "analyst", "investor")
MAY_UPLOAD_OWN = {"admin", "manager", "investor"}
MAY_UPLOAD_FOR_OTHERS = {"admin", "manager"}


@pytest.mark.parametrize("role", ROLES)
async def test_upload_for_oneself(api, world, role) -> None:
    result = await upload(api, world("acme", role).token, PDF_BYTES)
    if role in MAY_UPLOAD_OWN:
        assert result.ok()["uploadDocument"]["owner"]["id"] == world("acme", role).id
    else:
        assert result.code == "FORBIDDEN", result.body


@pytest.mark.parametrize("role", ROLES)
async def test_upload_for_another_user(api, world, role) -> None:
    owner = world("acme", "investor2")
    result = await upload(api, world("acme", role).token, PDF_BYTES, owner=owner.id)
    if role in MAY_UPLOAD_FOR_OTHERS:
        assert result.ok()["uploadDocument"]["owner"]["id"] == owner.id
    else:
        expected = "NOT_FOUND" if role == "investor" else "FORBIDDEN"
        assert result.code == expected, result.body


@pytest.mark.parametrize("role", sorted(MAY_UPLOAD_FOR_OTHERS))
async def test_users_of_another_tenant_are_not_found(api, world, role) -> None:
    result = await upload(
        api, world("acme", role).token, PDF_BYTES, owner=world("globex", "investor").id
    )
    assert result.code == "NOT_FOUND", result.body
    assert await stored_documents() == (0, 0)


async def test_anonymous_upload_is_unauthenticated(api, world) -> None:
    assert (await upload(api, None, PDF_BYTES)).code == "UNAUTHENTICATED"
    assert await stored_documents() == (0, 0)
