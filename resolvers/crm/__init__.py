"""The advisors' CRM: prospects through the pipeline, their timeline and tasks, AML screening."""
