"""Tenants: one investment firm each; everything else is scoped by one."""

import re
from datetime import datetime

from beanie import Document
from pydantic import Field
from pymongo import ASCENDING, IndexModel

from models.base import utc_now

SLUG_PATTERN = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")


def is_valid_slug(slug: str) -> bool:
    return bool(SLUG_PATTERN.fullmatch(slug))


class Tenant(Document):
    slug: str
    name: str
    created_at: datetime = Field(default_factory=utc_now)

    class Settings:
        name = "tenants"
        indexes = [IndexModel([("slug", ASCENDING)], unique=True)]
