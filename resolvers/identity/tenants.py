"""Creating a tenant together with its first ADMIN (CLI and start-up bootstrap)."""

from dataclasses import dataclass

from pymongo.errors import DuplicateKeyError

from models.errors import BadUserInput, Conflict
from models.tenants import Tenant, is_valid_slug
from models.users import Role, User, search_terms
from resolvers.audit import trail as audit
from resolvers.core.context import Services
from resolvers.funds.products import seed_funds
from resolvers.identity.credentials import check_password_policy, hash_password
from resolvers.users.people import clean_email, clean_full_name


@dataclass(frozen=True)
class NewTenant:
    slug: str
    admin_email: str
    admin_password: str
    name: str | None = None
    admin_name: str = "Administrator"


async def tenant_exists(slug: str) -> bool:
    return await Tenant.find_one({"slug": slug}) is not None


async def create_tenant(services: Services, new: NewTenant) -> tuple[Tenant, User]:
    slug = new.slug.strip().lower()
    if not is_valid_slug(slug):
        raise BadUserInput(
            "Slug must be 1-63 lower-case letters, digits or inner hyphens", field="slug"
        )
    email = clean_email(new.admin_email, field="adminEmail")
    full_name = clean_full_name(new.admin_name, field="adminName")
    check_password_policy(new.admin_password, services, field="adminPassword", email=email)
    password_hash = await hash_password(services, new.admin_password)
    tenant = Tenant(slug=slug, name=(new.name or slug).strip()[:200] or slug)
    try:
        await tenant.insert()
    except DuplicateKeyError as exc:
        raise Conflict(f"Tenant '{slug}' already exists", field="slug") from exc
    assert tenant.id is not None
    admin = User(
        tenant_id=tenant.id,
        email=email,
        full_name=full_name,
        role=Role.ADMIN,
        password_hash=password_hash,
        password_changed_at=services.clock(),
        search=search_terms(full_name, email),
    )
    try:
        await admin.insert()
    except BaseException:
        await tenant.delete()
        raise
    await seed_funds(tenant.id)
    await audit.record_system(
        tenant.id, "tenant.create", "Tenant", tenant.id, admin_id=str(admin.id)
    )
    return tenant, admin
