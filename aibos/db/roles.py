"""The database roles of the platform and what each may touch.

Runtime aliases connect as login roles that own nothing, are NOSUPERUSER and NOBYPASSRLS.
Table privileges are declared per table (see ``aibos.db.governance``); this module is the one
place that names the roles.
"""

from __future__ import annotations

KERNEL_ROLE = "aibos_kernel_role"
FINANCE_ROLE = "aibos_finance_role"
CONFIG_ROLE = "aibos_config_role"
MONITOR_ROLE = "aibos_monitor_role"
# Seals the audit log into per-tenant hash chains (reads every tenant's events, appends seals).
SEALER_ROLE = "aibos_sealer_role"
READONLY_ROLE = "aibos_readonly"
# NOLOGIN, NOSUPERUSER, NOBYPASSRLS: owns every governed object when `migrate` runs as a
# superuser, so nothing that enforces tenancy or audit (tables, the SECURITY DEFINER audit
# function, future views) is owned by a role that bypasses RLS.
OWNER_ROLE = "aibos_migration"

# Django alias -> login role. The alias name is also the Postgres schema it works in.
RUNTIME_ALIASES: dict[str, str] = {
    "kernel": KERNEL_ROLE,
    "finance": FINANCE_ROLE,
    "config": CONFIG_ROLE,
}

# Aliases of the platform's service roles: used by name (``connections["monitor"]``) by the
# commands that need them, never by a model (no app is routed to them). No pool: short-lived.
SERVICE_ALIASES: dict[str, str] = {
    "monitor": MONITOR_ROLE,  # governance views, platform-wide and read-only
    "sealer": SEALER_ROLE,  # the audit chain sealer
    "readonly": READONLY_ROLE,  # one tenant's rows, read-only (evidence export)
}

# Every login role the platform creates besides the owner, with the env var holding its password.
PLATFORM_ROLES: dict[str, str] = {
    KERNEL_ROLE: "AIBOS_KERNEL_ROLE_PASSWORD",
    FINANCE_ROLE: "AIBOS_FINANCE_ROLE_PASSWORD",
    CONFIG_ROLE: "AIBOS_CONFIG_ROLE_PASSWORD",
    MONITOR_ROLE: "AIBOS_MONITOR_ROLE_PASSWORD",
    SEALER_ROLE: "AIBOS_SEALER_ROLE_PASSWORD",
    READONLY_ROLE: "AIBOS_READONLY_ROLE_PASSWORD",
}

SCHEMAS = ("kernel", "finance", "config")

CRUD = ("SELECT", "INSERT", "UPDATE", "DELETE")
READ = ("SELECT",)

# What each role may do on a schema's tables by default. A table may narrow this (audit_events:
# read only) but never widen it across schemas: the catalog tests in tests/security check it.
SCHEMA_DEFAULT_GRANTS: dict[str, dict[str, tuple[str, ...]]] = {
    "kernel": {KERNEL_ROLE: CRUD, READONLY_ROLE: READ},
    "finance": {FINANCE_ROLE: CRUD, READONLY_ROLE: READ},
    "config": {
        KERNEL_ROLE: READ,
        FINANCE_ROLE: READ,
        CONFIG_ROLE: READ,
        READONLY_ROLE: READ,
    },
}
