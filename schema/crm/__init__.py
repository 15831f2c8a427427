"""CRM: prospects, their pipeline, timeline, tasks, AML screening and conversion."""

from schema.crm.operations import CrmMutations, CrmQueries, CrmSubscriptions

__all__ = ["CrmMutations", "CrmQueries", "CrmSubscriptions"]
