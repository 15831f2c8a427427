"""TOTP MFA (enroll, confirm, required at login, replay-proof, disable) and login
throttling per account and per client address."""

from datetime import timedelta

import pyotp
import pytest

from models.base import utc_now
from tests.conftest import PASSWORD
from tests.support.api import LOGIN
from tests.support.identity import CONFIRM, DISABLE, ENROLL


@pytest.fixture
def frozen_clock(runtime, monkeypatch):
    """Freeze the server's clock so TOTP time steps are deterministic."""
    state = {"now": utc_now()}
    monkeypatch.setattr(runtime.services, "clock", lambda: state["now"])
    return state


def code_at(secret: str, when, steps: int = 0) -> str:
    return pyotp.TOTP(secret).at(when.timestamp() + 30 * steps)


async def enroll(api, member, now) -> str:
    enrollment = (await api.gql(ENROLL, token=member.token)).ok()["enrollMfa"]
    assert enrollment["otpauthUri"].startswith("otpauth://totp/")
    secret = enrollment["secret"]
    assert (await api.gql(CONFIRM, {"c": code_at(secret, now, -1)}, token=member.token)).ok()
    return secret


async def login(api, member, otp=None):
    return await api.gql(
        LOGIN, {"tenant": member.tenant, "email": member.email, "password": PASSWORD, "otp": otp}
    )


async def test_mfa_is_required_once_enabled_and_codes_cannot_be_replayed(api, world, frozen_clock):
    member, now = world("acme", "investor"), frozen_clock["now"]
    secret = await enroll(api, member, now)

    missing = await login(api, member)
    assert missing.code == "UNAUTHENTICATED"
    assert missing.errors[0]["extensions"]["mfaRequired"] is True
    assert (await login(api, member, "000000")).code == "UNAUTHENTICATED"

    good = code_at(secret, now)
    assert (await login(api, member, good)).ok()["login"]["user"]["email"] == member.email
    assert (await login(api, member, good)).code == "UNAUTHENTICATED"  # replay
    assert (await login(api, member, code_at(secret, now, -1))).code == "UNAUTHENTICATED"
    assert (await login(api, member, code_at(secret, now, 1))).ok()


async def test_confirm_with_a_wrong_code_keeps_mfa_off(api, world, frozen_clock):
    member = world("acme", "investor")
    await api.gql(ENROLL, token=member.token)
    wrong = await api.gql(CONFIRM, {"c": "123456"}, token=member.token)
    assert (wrong.code, wrong.errors[0]["extensions"]["field"]) == ("BAD_USER_INPUT", "code")
    assert (await login(api, member)).ok()
    assert (await api.gql(CONFIRM, {"c": "abc"}, token=member.token)).code == "BAD_USER_INPUT"


async def test_disable_needs_a_valid_code(api, world, frozen_clock):
    member, now = world("acme", "manager"), frozen_clock["now"]
    secret = await enroll(api, member, now)
    assert (await api.gql(ENROLL, token=member.token)).code == "CONFLICT"
    assert (await api.gql(DISABLE, {"c": "111111"}, token=member.token)).code == "BAD_USER_INPUT"
    assert (await api.gql(DISABLE, {"c": code_at(secret, now)}, token=member.token)).ok()
    assert (await login(api, member)).ok()
    assert (
        await api.gql(DISABLE, {"c": code_at(secret, now, 1)}, token=member.token)
    ).code == "CONFLICT"


async def test_confirm_without_enrollment_is_a_conflict(api, world):
    member = world("acme", "investor")
    assert (await api.gql(CONFIRM, {"c": "123456"}, token=member.token)).code == "CONFLICT"


async def test_account_is_locked_after_repeated_failures(api, world, settings, frozen_clock):
    member = world("acme", "investor")
    for _ in range(settings.login_failures_per_account):
        bad = await api.gql(LOGIN, {"tenant": "acme", "email": member.email, "password": "x" * 12})
        assert bad.code == "UNAUTHENTICATED"
    locked = await login(api, member)  # even the right password waits
    assert locked.code == "RATE_LIMITED"
    retry_after = locked.errors[0]["extensions"]["retryAfter"]
    assert 1 <= retry_after <= 30
    # other accounts are unaffected
    assert (await login(api, world("acme", "manager"))).ok()
    frozen_clock["now"] += timedelta(seconds=retry_after + 1)
    assert (await login(api, member)).ok()


async def test_lockout_grows_with_further_failures(api, world, settings, frozen_clock):
    member = world("acme", "analyst")
    variables = {"tenant": "acme", "email": member.email, "password": "y" * 12}
    for _ in range(settings.login_failures_per_account):
        await api.gql(LOGIN, variables)
    first = (await api.gql(LOGIN, variables)).errors[0]["extensions"]["retryAfter"]
    frozen_clock["now"] += timedelta(seconds=first + 1)
    await api.gql(LOGIN, variables)  # one more failure after the lock expired
    second = (await api.gql(LOGIN, variables)).errors[0]["extensions"]["retryAfter"]
    assert second > first


async def test_client_address_is_throttled_across_accounts(api, world, settings):
    for i in range(settings.login_failures_per_address):
        result = await api.gql(
            LOGIN, {"tenant": "acme", "email": f"ghost{i}@acme.test", "password": "z" * 12}
        )
        assert result.code == "UNAUTHENTICATED"
    blocked = await login(api, world("acme", "admin"))
    assert blocked.code == "RATE_LIMITED"
