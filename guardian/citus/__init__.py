"""The Citus path: a distribution plan for the live schema (which tables are distributed by
tenant_id, which are reference tables, which stay local) and every incompatibility with the DDL
that fixes it. Read from the catalog only: Citus is not installed here and nothing is run."""

from guardian.citus.model import Finding, Plan
from guardian.citus.plan import build_plan

__all__ = ["Finding", "Plan", "build_plan"]
