"""CRM: prospects, their pipeline, timeline, tasks, AML screening and conversion."""

from schema.crm.operations import DOMAIN

__all__ = ["DOMAIN"]
