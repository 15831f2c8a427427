"""First tenant and ADMIN on start, exactly as the contract says: from the bootstrap env
vars, or (empty embedded install only) tenant ``demo`` with a generated password that is
announced once and never stored in clear."""

import logging
import secrets
from collections.abc import Callable

from app.settings import Settings
from models.errors import Conflict
from models.tenants import Tenant
from resolvers.context import Services
from resolvers.tenants import NewTenant, create_tenant, tenant_exists

log = logging.getLogger(__name__)
DEMO_TENANT = "demo"
DEMO_ADMIN_EMAIL = "admin@demo.fidus.local"


def _log_announce(message: str) -> None:
    log.warning(message)


async def bootstrap_first_admin(
    settings: Settings, services: Services, announce: Callable[[str], None] | None = None
) -> None:
    announce = announce or _log_announce
    wanted = (settings.bootstrap_tenant, settings.bootstrap_email, settings.bootstrap_password)
    if all(value is not None for value in wanted):
        assert settings.bootstrap_tenant and settings.bootstrap_email
        assert settings.bootstrap_password is not None
        if await tenant_exists(settings.bootstrap_tenant.strip().lower()):
            return
        await _create(services, NewTenant(
            slug=settings.bootstrap_tenant,
            admin_email=settings.bootstrap_email,
            admin_password=settings.bootstrap_password.get_secret_value(),
        ))
        log.info("bootstrap tenant created", extra={"tenant": settings.bootstrap_tenant})
        return
    if any(value is not None for value in wanted):
        log.warning("FIDUS_BOOTSTRAP_TENANT, _EMAIL and _PASSWORD must be set together; ignored")
    if not settings.embedded or await Tenant.find_one({}) is not None:
        return
    password = secrets.token_urlsafe(18)
    if await _create(services, NewTenant(
        slug=DEMO_TENANT, admin_email=DEMO_ADMIN_EMAIL, admin_password=password, name="Demo"
    )):
        announce(
            f"Created tenant '{DEMO_TENANT}' with ADMIN {DEMO_ADMIN_EMAIL} and password "
            f"{password}  (shown once: store it now, then change it)"
        )


async def _create(services: Services, new: NewTenant) -> bool:
    try:
        await create_tenant(services, new)
    except Conflict:
        return False  # another process created it first
    return True
