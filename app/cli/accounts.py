"""``fidus tenant create`` and ``fidus user reset-password``: the operator's hand on
tenants and users, with passwords from the environment, a prompt, or generated once."""

import argparse
import asyncio
import getpass
import os
import secrets
import sys

from app.cli.common import Commands, command, load_settings
from app.logs import configure_logging
from app.runtime import open_runtime
from models.errors import FidusError
from resolvers.core.context import RequestContext
from resolvers.identity.passwords import reset_password_by_operator
from resolvers.identity.tenants import NewTenant, create_tenant


def cmd_user_reset_password(args: argparse.Namespace) -> int:
    """A new password for a user (the one-time ADMIN password was missed, say): generated
    and shown once, or typed at a prompt; the user's sessions end."""
    settings = load_settings()
    configure_logging("WARNING", settings.log_format)
    password = _typed_password("New password: ") if args.prompt else secrets.token_urlsafe(18)

    async def run() -> str:
        async with open_runtime(settings) as runtime:
            ctx = RequestContext(runtime.services, request_id="cli", user_agent="fidus cli")
            user = await reset_password_by_operator(ctx, args.tenant, args.email, password)
            return user.email

    try:
        email = asyncio.run(run())
    except FidusError as exc:
        print(f"fidus: {exc.message}", file=sys.stderr)
        return 1
    if args.prompt:
        print(f"Password of {email} in tenant '{args.tenant}' changed; their sessions ended")
    else:
        print(
            f"New password of {email} in tenant '{args.tenant}': {password}  "
            "(shown once: store it now; their sessions ended)"
        )
    return 0


def _admin_password() -> str:
    from_env = os.environ.get("FIDUS_ADMIN_PASSWORD")
    if from_env:
        return from_env
    if not sys.stdin.isatty():
        sys.exit("fidus: set FIDUS_ADMIN_PASSWORD or run in a terminal to be prompted")
    return _typed_password("Admin password: ")


def _typed_password(prompt: str) -> str:
    if not sys.stdin.isatty():
        sys.exit("fidus: run in a terminal to be prompted for the password")
    first = getpass.getpass(prompt)
    if first != getpass.getpass("Repeat: "):
        sys.exit("fidus: passwords differ")
    return first


def cmd_tenant_create(args: argparse.Namespace) -> int:
    settings = load_settings()
    configure_logging("WARNING", settings.log_format)
    new = NewTenant(
        slug=args.slug,
        admin_email=args.admin_email,
        admin_password=_admin_password(),
        name=args.name,
    )

    async def run() -> str:
        async with open_runtime(settings) as runtime:
            tenant, admin = await create_tenant(runtime.services, new)
            return f"Created tenant '{tenant.slug}' with ADMIN {admin.email}"

    try:
        print(asyncio.run(run()))
    except FidusError as exc:
        print(f"fidus: {exc.message}", file=sys.stderr)
        return 1
    return 0


def add_tenant(commands: Commands) -> None:
    tenant = command(commands, "tenant", "manage tenants").add_subparsers(
        dest="tenant_command", required=True
    )
    create = command(tenant, "create", "create a tenant with its first ADMIN")
    create.add_argument("--slug", required=True, help="lower-case letters, digits, hyphens")
    create.add_argument("--admin-email", required=True, help="the first ADMIN's email")
    create.add_argument("--name", default=None, help="display name (default: the slug)")
    create.set_defaults(handler=cmd_tenant_create)


def add_user(commands: Commands) -> None:
    user = command(commands, "user", "manage users").add_subparsers(
        dest="user_command", required=True
    )
    reset = command(
        user,
        "reset-password",
        "set a new password for a user (a missed one-time ADMIN password, a lost one); "
        "their sessions end",
    )
    reset.add_argument("--tenant", required=True, help="tenant slug, e.g. demo")
    reset.add_argument("--email", required=True, help="the user's email")
    reset.add_argument(
        "--prompt",
        action="store_true",
        help="type the new password (default: generate one and show it once)",
    )
    reset.set_defaults(handler=cmd_user_reset_password)
