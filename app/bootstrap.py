"""First tenant and ADMIN on start, exactly as the contract says: from the bootstrap env
vars, or (empty embedded install only) tenant ``demo`` with a generated password that is
announced once and never stored in clear."""

import logging
import secrets
from collections.abc import Callable

from app.settings import Settings
from models.errors import Conflict
from models.tenants import Tenant
from resolvers.core.context import Services
from resolvers.identity.tenants import NewTenant, create_tenant, tenant_exists

log = logging.getLogger(__name__)
DEMO_TENANT = "demo"
DEMO_ADMIN_EMAIL = "admin@demo.fidus.local"


def _log_announce(message: str) -> None:
    log.warning(message)


async def bootstrap_first_admin(
    settings: Settings, services: Services, announce: Callable[[str], None] | None = None
) -> None:
    announce = announce or _log_announce
    slug, email, password = (
        settings.bootstrap_tenant,
        settings.bootstrap_email,
        settings.bootstrap_password,
    )
    if slug and email and password is not None:
        if await tenant_exists(slug.strip().lower()):
            return
        new = NewTenant(slug=slug, admin_email=email, admin_password=password.get_secret_value())
        await _create(services, new)
        log.info("bootstrap tenant created", extra={"tenant": slug})
        return
    if any(value is not None for value in (slug, email, password)):
        log.warning("FIDUS_BOOTSTRAP_TENANT, _EMAIL and _PASSWORD must be set together; ignored")
    if not settings.embedded or await Tenant.find_one({}) is not None:
        return
    generated = secrets.token_urlsafe(18)
    demo = NewTenant(
        slug=DEMO_TENANT, admin_email=DEMO_ADMIN_EMAIL, admin_password=generated, name="Demo"
    )
    if await _create(services, demo):
        announce(
            f"Created tenant '{DEMO_TENANT}' with ADMIN {DEMO_ADMIN_EMAIL} and password "
            f"{generated}  (shown once: store it now, then change it)"
        )


async def _create(services: Services, new: NewTenant) -> bool:
    try:
        await create_tenant(services, new)
    except Conflict:
        return False  # another process created it first
    return True
