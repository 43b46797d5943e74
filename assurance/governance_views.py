"""The governance views: what PostgreSQL enforces and what the ledger holds, as SQL anyone with
the monitor role can read, computed from the catalog and the data on every read.

Every view is ``security_invoker``: it reads with the privileges and row-level security of the
role that selects from it. ``aibos_monitor_role`` reads them platform-wide through

- ``SELECT`` on the eight views (no runtime role has any privilege on them);
- column-level ``SELECT`` on the few columns the views read (:data:`MONITOR_COLUMNS`): ids,
  tenants, statuses, counts and amounts, never a memo, a name, an email or a secret;
- one policy per tenant table it reads, ``monitor_read``: ``FOR SELECT TO aibos_monitor_role
  USING (true)``. Only that role is named, so no runtime role can widen what it sees by setting
  a variable; ``kernel.v_schema_boundary_check`` fails if a platform role becomes a member of
  another (membership would inherit the policy).

``assurance/migrations/0003_governance_views.py`` deploys a frozen copy of :func:`forward_sql`;
``tests/assurance/test_governance_views.py`` fails when the two differ.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from aibos.db.roles import (
    MONITOR_ROLE,
    PLATFORM_ROLES,
    SCHEMA_DEFAULT_GRANTS,
    SCHEMAS,
    SEALER_ROLE,
)

VIEWS = (
    "kernel.v_tenant_health",
    "kernel.v_tenant_isolation_check",
    "kernel.v_schema_boundary_check",
    "finance.v_double_entry_check",
    "finance.v_journal_integrity",
    "finance.v_journal_integrity_summary",
    "finance.v_immutability_check",
    "kernel.v_governance_summary",
)

# table -> the columns the views read as the monitor (and all it can read of the table).
MONITOR_COLUMNS: dict[str, tuple[str, ...]] = {
    "kernel.tenants": ("id", "slug", "status"),
    "kernel.users": ("tenant_id", "is_active", "deleted_at"),
    "finance.companies": ("tenant_id", "id"),
    "finance.journal_entries": ("tenant_id", "id", "company_id", "status", "line_count"),
    "finance.journal_lines": ("tenant_id", "entry_id", "currency", "debit", "credit", "txn_amount"),
}
# Of those, the tables with row-level security: each gets the monitor's read policy.
MONITOR_POLICY_TABLES = (
    "kernel.users",
    "finance.companies",
    "finance.journal_entries",
    "finance.journal_lines",
)
MONITOR_POLICY = "monitor_read"

# The ledger's guards and the audit log's append-only triggers: each must exist and fire.
IMMUTABILITY_TRIGGERS: tuple[tuple[str, str, str], ...] = (
    ("finance.journal_entries", "guard_finance_journalentry_guard", "posted entry immutable"),
    ("finance.journal_entries", "guard_finance_journalentry_check_insert", "posting checked"),
    ("finance.journal_entries", "guard_finance_journalentry_check_update", "posting checked"),
    ("finance.journal_entries", "guard_finance_journalentry_truncate", "TRUNCATE refused"),
    ("finance.journal_entries", "finance_journalentry_tenant_immutable", "tenant fixed"),
    ("finance.journal_lines", "guard_finance_journalline_guard", "posted lines immutable"),
    ("finance.journal_lines", "guard_finance_journalline_added", "no line added when posted"),
    ("finance.journal_lines", "guard_finance_journalline_removed", "no line removed when posted"),
    ("finance.journal_lines", "guard_finance_journalline_truncate", "TRUNCATE refused"),
    ("finance.journal_lines", "finance_journalline_tenant_immutable", "tenant fixed"),
    ("kernel.audit_events", "kernel_auditevent_append_only", "audit log append-only"),
    ("kernel.events", "kernel_event_append_only", "events append-only"),
    ("kernel.audit_seals", "audit_seals_append_only", "audit chain append-only"),
    ("kernel.audit_seals", "audit_seals_no_truncate", "TRUNCATE refused"),
    ("kernel.audit_seal_batches", "audit_seal_batches_append_only", "sealer position append-only"),
)
# The audit sealer's privileges (assurance/migrations/0002_audit_chain.py): read every
# tenant's events, read and append the chain.
SEALER_GRANTS: tuple[tuple[str, str], ...] = (
    ("kernel.audit_events", "SELECT"),
    ("kernel.audit_seals", "SELECT"),
    ("kernel.audit_seals", "INSERT"),
    ("kernel.audit_seal_batches", "SELECT"),
    ("kernel.audit_seal_batches", "INSERT"),
)

# What no platform role may hold on a governed table (aibos.db.governance_checks).
FORBIDDEN_PRIVILEGES = ("TRUNCATE", "TRIGGER", "REFERENCES")

# The tenant predicate as PostgreSQL deparses it, whitespace removed (aibos.db.governance).
TENANT_PREDICATE_DEPARSED = (
    "(tenant_id=(SELECT(NULLIF(current_setting('app.tenant_id'::text,true),''::text))::uuid"
    'AS"nullif"))'
)


def _literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _array(values: Any) -> str:
    return "ARRAY[" + ", ".join(_literal(v) for v in values) + "]::text[]"


def _values(rows: Sequence[tuple[str, ...]]) -> str:
    return ",\n        ".join("(" + ", ".join(_literal(v) for v in row) + ")" for row in rows)


def _allowed_grants() -> str:
    rows = [
        (role, schema, privilege)
        for schema, grants in SCHEMA_DEFAULT_GRANTS.items()
        for role, privileges in sorted(grants.items())
        for privilege in privileges
    ]
    rows += [(MONITOR_ROLE, view.split(".")[0], f"SELECT ON {view}") for view in VIEWS]
    rows += [
        (MONITOR_ROLE, table.split(".")[0], f"SELECT ON {table}.{column}")
        for table, columns in MONITOR_COLUMNS.items()
        for column in columns
    ]
    rows += [
        (SEALER_ROLE, table.split(".")[0], f"{privilege} ON {table}")
        for table, privilege in SEALER_GRANTS
    ]
    return _values(rows)


def _views() -> str:
    schemas = _array(SCHEMAS)
    roles = _array(PLATFORM_ROLES)
    # Roles whose every privilege on a governed relation must be declared above: all of them.
    declared = _array(
        sorted({r for g in SCHEMA_DEFAULT_GRANTS.values() for r in g} | {MONITOR_ROLE, SEALER_ROLE})
    )
    forbidden = _array(FORBIDDEN_PRIVILEGES)
    predicate = _literal(TENANT_PREDICATE_DEPARSED)
    monitor = _literal(MONITOR_ROLE)
    sealer = _literal(SEALER_ROLE)
    return f"""
-- Per tenant: its status and how much it holds. Informational (no verdict).
CREATE VIEW kernel.v_tenant_health WITH (security_invoker = true) AS
SELECT t.id AS tenant_id, t.slug, t.status,
       COALESCE(u.users, 0) AS users, COALESCE(u.active_users, 0) AS active_users,
       COALESCE(c.companies, 0) AS companies,
       COALESCE(e.posted_entries, 0) AS posted_entries, COALESCE(e.draft_entries, 0) AS draft_entries
  FROM kernel.tenants t
  LEFT JOIN (SELECT tenant_id, count(*) FILTER (WHERE deleted_at IS NULL) AS users,
                    count(*) FILTER (WHERE deleted_at IS NULL AND is_active) AS active_users
               FROM kernel.users GROUP BY tenant_id) u ON u.tenant_id = t.id
  LEFT JOIN (SELECT tenant_id, count(*) AS companies
               FROM finance.companies GROUP BY tenant_id) c ON c.tenant_id = t.id
  LEFT JOIN (SELECT tenant_id, count(*) FILTER (WHERE status = 'POSTED') AS posted_entries,
                    count(*) FILTER (WHERE status = 'DRAFT') AS draft_entries
               FROM finance.journal_entries GROUP BY tenant_id) e ON e.tenant_id = t.id;

-- One row per tenant table (a tenant_id column) of the governed schemas: RLS enabled and
-- forced, at least one fail-closed tenant policy and no other kind of policy than the tenant
-- predicate, the audit log's append policy on a table no platform role may insert into, the
-- monitor's read policy and the audit sealer's read and append policies; an owner that does not bypass RLS. One row per view: security_invoker.
CREATE VIEW kernel.v_tenant_isolation_check WITH (security_invoker = true) AS
WITH relations AS (
    SELECT c.oid, c.relkind, n.nspname AS schema_name, c.relname AS table_name,
           c.relrowsecurity AS rls_enabled, c.relforcerowsecurity AS rls_forced,
           COALESCE('security_invoker=true' = ANY(c.reloptions)
                    OR 'security_invoker=on' = ANY(c.reloptions), false) AS security_invoker,
           o.rolname AS owner, o.rolsuper OR o.rolbypassrls AS owner_bypasses_rls
      FROM pg_class c
      JOIN pg_namespace n ON n.oid = c.relnamespace
      JOIN pg_roles o ON o.oid = c.relowner
     WHERE n.nspname = ANY({schemas})
       AND (c.relkind = 'v'
            OR c.relkind IN ('r', 'p') AND EXISTS (
                SELECT 1 FROM pg_attribute a
                 WHERE a.attrelid = c.oid AND a.attname = 'tenant_id' AND NOT a.attisdropped))
), policies AS (
    SELECT r.oid, p.policyname,
           CASE
             WHEN p.permissive = 'PERMISSIVE' AND p.roles = '{{public}}' AND p.cmd IN ('ALL', 'SELECT')
                  AND regexp_replace(p.qual, '\\s', '', 'g') = {predicate}
                  AND (p.with_check IS NULL OR regexp_replace(p.with_check, '\\s', '', 'g') = {predicate})
               THEN 'tenant'
             WHEN p.permissive = 'PERMISSIVE' AND p.roles = ARRAY[{monitor}]::name[]
                  AND p.cmd = 'SELECT' AND p.qual = 'true'
               THEN 'monitor'
             WHEN p.permissive = 'PERMISSIVE' AND p.roles = ARRAY[{sealer}]::name[]
                  AND (p.cmd = 'SELECT' AND p.qual = 'true'
                       OR p.cmd = 'INSERT' AND p.with_check = 'true')
               THEN 'sealer'
             WHEN p.permissive = 'PERMISSIVE' AND p.cmd = 'INSERT' AND p.with_check = 'true'
                  AND NOT EXISTS (SELECT 1 FROM pg_roles g
                                   WHERE g.rolname = ANY({roles})
                                     AND has_any_column_privilege(g.oid, r.oid, 'INSERT'))
               THEN 'append'
             ELSE 'unexpected'
           END AS kind
      FROM relations r
      JOIN pg_policies p ON p.schemaname = r.schema_name AND p.tablename = r.table_name
), checked AS (
    SELECT r.schema_name, r.table_name,
           CASE r.relkind WHEN 'v' THEN 'view' ELSE 'table' END AS kind,
           r.rls_enabled, r.rls_forced, r.security_invoker,
           count(p.policyname) FILTER (WHERE p.kind = 'tenant') AS tenant_policies,
           COALESCE(array_agg(p.policyname::text ORDER BY p.policyname)
                    FILTER (WHERE p.kind = 'unexpected'), '{{}}') AS unexpected_policies,
           r.owner, r.owner_bypasses_rls
      FROM relations r LEFT JOIN policies p ON p.oid = r.oid
     GROUP BY r.oid, r.relkind, r.schema_name, r.table_name, r.rls_enabled, r.rls_forced,
              r.security_invoker, r.owner, r.owner_bypasses_rls
), judged AS (
    SELECT c.*, array_remove(ARRAY[
             CASE WHEN c.kind = 'table' AND NOT c.rls_enabled THEN 'RLS not enabled' END,
             CASE WHEN c.kind = 'table' AND NOT c.rls_forced THEN 'RLS not forced' END,
             CASE WHEN c.kind = 'table' AND c.tenant_policies = 0 THEN 'no tenant policy' END,
             CASE WHEN cardinality(c.unexpected_policies) > 0
                  THEN 'unexpected policy ' || array_to_string(c.unexpected_policies, ', ') END,
             CASE WHEN c.kind = 'view' AND NOT c.security_invoker THEN 'view is not security_invoker' END,
             CASE WHEN c.owner_bypasses_rls THEN 'owned by ' || c.owner || ', which bypasses RLS' END
           ], NULL) AS problems
      FROM checked c
)
SELECT schema_name, table_name, kind, rls_enabled, rls_forced, security_invoker,
       tenant_policies, unexpected_policies, owner, problems,
       CASE WHEN cardinality(problems) = 0 THEN 'PASS' ELSE 'FAIL' END AS status
  FROM judged;

-- The platform roles' boundaries, one row per item checked:
--   role:          each platform role exists, is no superuser, has no BYPASSRLS, CREATEROLE,
--                  CREATEDB or REPLICATION and is a member of no role (membership inherits);
--   ownership:     each platform role owns no relation, function, schema or type;
--   schema_create: no platform role (nor PUBLIC) may CREATE in a governed schema or public;
--   grant:         every privilege a platform role or PUBLIC holds on a governed relation (and
--                  each column privilege), PASS only if declared (aibos/db/roles.py
--                  SCHEMA_DEFAULT_GRANTS; the monitor's views and columns) and never TRUNCATE,
--                  TRIGGER or REFERENCES.
CREATE VIEW kernel.v_schema_boundary_check WITH (security_invoker = true) AS
WITH platform AS (
    SELECT d.rolname, r.oid, r.rolsuper, r.rolbypassrls, r.rolcreaterole, r.rolcreatedb,
           r.rolreplication
      FROM unnest({roles}) AS d(rolname) LEFT JOIN pg_roles r ON r.rolname = d.rolname
), allowed (role_name, schema_name, privilege) AS (
    VALUES
        {_allowed_grants()}
), relations AS (
    SELECT c.oid, n.nspname AS schema_name, c.relname, c.relacl
      FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE n.nspname = ANY({schemas}) AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
), grants AS (
    SELECT CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE pg_get_userbyid(a.grantee) END AS role_name,
           r.schema_name, format('%I.%I', r.schema_name, r.relname) AS object_name,
           a.privilege_type AS privilege, a.privilege_type AS declared_as
      FROM relations r CROSS JOIN LATERAL aclexplode(r.relacl) a
    UNION ALL
    SELECT CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE pg_get_userbyid(a.grantee) END,
           r.schema_name, format('%I.%I.%I', r.schema_name, r.relname, att.attname),
           a.privilege_type || ' (column)', a.privilege_type
      FROM relations r
      JOIN pg_attribute att ON att.attrelid = r.oid AND att.attnum > 0 AND NOT att.attisdropped
      CROSS JOIN LATERAL aclexplode(att.attacl) a
)
SELECT 'role' AS check_name, p.rolname::text AS role_name, p.rolname::text AS object_name,
       NULL::text AS privilege,
       CASE WHEN cardinality(x.problems) = 0 THEN 'PASS' ELSE 'FAIL' END AS status,
       array_to_string(x.problems, '; ') AS detail
  FROM platform p CROSS JOIN LATERAL (SELECT array_remove(ARRAY[
         CASE WHEN p.oid IS NULL THEN 'does not exist' END,
         CASE WHEN p.rolsuper THEN 'is a superuser' END,
         CASE WHEN p.rolbypassrls THEN 'has BYPASSRLS' END,
         CASE WHEN p.rolcreaterole THEN 'has CREATEROLE' END,
         CASE WHEN p.rolcreatedb THEN 'has CREATEDB' END,
         CASE WHEN p.rolreplication THEN 'has REPLICATION' END,
         (SELECT 'member of ' || string_agg(g.rolname, ', ' ORDER BY g.rolname)
            FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid WHERE m.member = p.oid)
       ], NULL) AS problems) x
UNION ALL
SELECT 'ownership', p.rolname, p.rolname, 'OWNER',
       CASE WHEN o.owned = 0 THEN 'PASS' ELSE 'FAIL' END,
       CASE WHEN o.owned > 0 THEN 'owns ' || o.owned || ' object(s)' END
  FROM platform p CROSS JOIN LATERAL (SELECT
         (SELECT count(*) FROM pg_class WHERE relowner = p.oid)
         + (SELECT count(*) FROM pg_proc WHERE proowner = p.oid)
         + (SELECT count(*) FROM pg_namespace WHERE nspowner = p.oid)
         + (SELECT count(*) FROM pg_type WHERE typowner = p.oid) AS owned) o
 WHERE p.oid IS NOT NULL
UNION ALL
SELECT 'schema_create', COALESCE(p.rolname, 'PUBLIC'), n.nspname::text, 'CREATE',
       CASE WHEN c.can_create THEN 'FAIL' ELSE 'PASS' END,
       CASE WHEN c.can_create THEN 'may create objects in schema ' || n.nspname END
  FROM (SELECT rolname, oid FROM platform WHERE oid IS NOT NULL
        UNION ALL SELECT NULL, 0) p
 CROSS JOIN pg_namespace n
 CROSS JOIN LATERAL (SELECT CASE WHEN p.oid = 0
         THEN EXISTS (SELECT 1 FROM aclexplode(n.nspacl) a
                       WHERE a.grantee = 0 AND a.privilege_type = 'CREATE')
         ELSE has_schema_privilege(p.oid, n.oid, 'CREATE') END AS can_create) c
 WHERE n.nspname = ANY({schemas} || '{{public}}'::text[])
UNION ALL
SELECT 'grant', g.role_name, g.object_name, g.privilege,
       CASE WHEN j.problem IS NULL THEN 'PASS' ELSE 'FAIL' END, j.problem
  FROM grants g CROSS JOIN LATERAL (SELECT CASE
         WHEN g.declared_as = ANY({forbidden}) THEN g.declared_as || ' is forbidden to platform roles'
         WHEN g.role_name = 'PUBLIC' THEN 'granted to PUBLIC (every role)'
         WHEN g.role_name = ANY({declared}) AND NOT EXISTS (
              SELECT 1 FROM allowed a
               WHERE a.role_name = g.role_name AND a.schema_name = g.schema_name
                 AND (a.privilege = g.declared_as
                      OR a.privilege = g.declared_as || ' ON ' || g.object_name))
           THEN 'not declared for ' || g.role_name || ' in schema ' || g.schema_name
       END AS problem) j
 WHERE g.role_name = ANY({roles}) OR g.role_name = 'PUBLIC';

-- One row per POSTED journal entry (and per entry id that lines reference but no entry has):
-- its lines balance in the company currency (sum debit = sum credit) and in each line currency
-- (signed txn_amount nets to 0), it has at least two lines, line_count is the number of its
-- lines, and no line of another tenant points at it. The same rules as the posting check
-- (finance/triggers/ledger.py entry_check), re-computed from the rows as they are now.
-- Cost: one aggregate over every line (grouped by entry, tenant and currency) and one scan of
-- the entries, hash-joined: O(lines) per read, nothing per write. Meant for a periodic check
-- (at 10M lines, seconds and a sort/hash that may spill to work_mem files), not a hot path;
-- filter on status = 'FAIL' to list the exceptions.
CREATE VIEW finance.v_double_entry_check WITH (security_invoker = true) AS
WITH line_groups AS (
    SELECT l.entry_id, l.tenant_id, l.currency, count(*) AS lines,
           sum(l.debit) AS debit, sum(l.credit) AS credit,
           sum(CASE WHEN l.debit > 0 THEN l.txn_amount ELSE -l.txn_amount END) AS txn_net
      FROM finance.journal_lines l
     GROUP BY l.entry_id, l.tenant_id, l.currency
), joined AS (
    SELECT COALESCE(e.tenant_id, g.tenant_id) AS tenant_id, e.company_id,
           COALESCE(e.id, g.entry_id) AS entry_id, e.id IS NOT NULL AS entry_found,
           e.line_count AS recorded_line_count,
           -- an entry's own lines; lines of no entry count as their own (orphan) group
           e.id IS NULL OR g.tenant_id = e.tenant_id AS own, g.currency, g.lines, g.debit,
           g.credit, g.txn_net
      FROM line_groups g FULL JOIN finance.journal_entries e ON e.id = g.entry_id
     WHERE e.status = 'POSTED' OR e.id IS NULL
), entries AS (
    SELECT tenant_id, company_id, entry_id, entry_found, recorded_line_count,
           COALESCE(sum(lines) FILTER (WHERE own), 0) AS line_count,
           COALESCE(sum(lines) FILTER (WHERE NOT own), 0) AS foreign_tenant_lines,
           COALESCE(sum(debit) FILTER (WHERE own), 0) AS debit_total,
           COALESCE(sum(credit) FILTER (WHERE own), 0) AS credit_total,
           COALESCE(array_agg(currency ORDER BY currency) FILTER (WHERE own AND txn_net <> 0),
                    '{{}}') AS unbalanced_currencies
      FROM joined
     GROUP BY tenant_id, company_id, entry_id, entry_found, recorded_line_count
), judged AS (
    SELECT e.*,
           e.debit_total = e.credit_total AND cardinality(e.unbalanced_currencies) = 0 AS balanced,
           e.line_count >= 2 AS min_lines,
           e.line_count = e.recorded_line_count AS line_count_matches
      FROM entries e
), described AS (
    SELECT j.*, array_remove(ARRAY[
             CASE WHEN NOT j.entry_found THEN 'lines reference no journal entry' END,
             CASE WHEN j.entry_found AND j.debit_total <> j.credit_total
                  THEN format('debits %s <> credits %s', j.debit_total, j.credit_total) END,
             CASE WHEN cardinality(j.unbalanced_currencies) > 0
                  THEN 'does not balance in ' || array_to_string(j.unbalanced_currencies, ', ') END,
             CASE WHEN j.entry_found AND NOT j.min_lines
                  THEN format('%s line(s); a posted entry needs two', j.line_count) END,
             CASE WHEN j.entry_found AND NOT j.line_count_matches
                  THEN format('line_count %s but %s line(s)', j.recorded_line_count, j.line_count) END,
             CASE WHEN j.foreign_tenant_lines > 0
                  THEN format('%s line(s) of another tenant', j.foreign_tenant_lines) END
           ], NULL) AS problems
      FROM judged j
)
SELECT tenant_id, company_id, entry_id, entry_found, recorded_line_count, line_count,
       foreign_tenant_lines, debit_total, credit_total, unbalanced_currencies,
       COALESCE(balanced AND entry_found, false) AS balanced,
       COALESCE(min_lines, false) AS min_lines,
       COALESCE(line_count_matches, false) AS line_count_matches, problems,
       CASE WHEN cardinality(problems) = 0 THEN 'PASS' ELSE 'FAIL' END AS status
  FROM described;

-- Per tenant and company: the posted entries and what v_double_entry_check found in them
-- (lines that reference no entry count under their own tenant, company NULL).
CREATE VIEW finance.v_journal_integrity WITH (security_invoker = true) AS
SELECT tenant_id, company_id,
       count(*) FILTER (WHERE entry_found) AS posted_entries,
       sum(line_count) AS lines, sum(debit_total) AS debit_total, sum(credit_total) AS credit_total,
       count(*) FILTER (WHERE entry_found AND NOT balanced) AS unbalanced_entries,
       count(*) FILTER (WHERE entry_found AND NOT min_lines) AS short_entries,
       count(*) FILTER (WHERE entry_found AND NOT line_count_matches) AS line_count_mismatches,
       sum(foreign_tenant_lines) AS foreign_tenant_lines,
       COALESCE(sum(line_count) FILTER (WHERE NOT entry_found), 0) AS orphan_lines,
       count(*) FILTER (WHERE status = 'FAIL') AS failed_entries,
       COALESCE(array_agg(entry_id ORDER BY entry_id) FILTER (WHERE status = 'FAIL'), '{{}}')
           AS failed_entry_ids,
       CASE WHEN count(*) FILTER (WHERE status = 'FAIL') = 0 THEN 'PASS' ELSE 'FAIL' END AS status
  FROM finance.v_double_entry_check
 GROUP BY tenant_id, company_id;

-- Per tenant: v_journal_integrity rolled up over its companies.
CREATE VIEW finance.v_journal_integrity_summary WITH (security_invoker = true) AS
SELECT tenant_id, count(company_id) AS companies, sum(posted_entries) AS posted_entries,
       sum(lines) AS lines, sum(unbalanced_entries) AS unbalanced_entries,
       sum(short_entries) AS short_entries, sum(line_count_mismatches) AS line_count_mismatches,
       sum(foreign_tenant_lines) AS foreign_tenant_lines, sum(orphan_lines) AS orphan_lines,
       sum(failed_entries) AS failed_entries,
       CASE WHEN sum(failed_entries) = 0 THEN 'PASS' ELSE 'FAIL' END AS status
  FROM finance.v_journal_integrity
 GROUP BY tenant_id;

-- What keeps posted entries and the audit log final:
--   trigger:   each guard and append-only trigger exists, fires (tgenabled 'O' or 'A'; 'D' is
--              disabled and 'R' fires only in replica mode) and its function has no
--              pgtrigger ignore hook; any other trigger on a governed table fires too;
--   privilege: no platform role holds TRUNCATE or TRIGGER on a governed table.
CREATE VIEW finance.v_immutability_check WITH (security_invoker = true) AS
WITH expected (table_name, trigger_name, protects) AS (
    VALUES
        {_values(list(IMMUTABILITY_TRIGGERS))}
), installed AS (
    SELECT format('%I.%I', n.nspname, c.relname) AS table_name, t.tgname::text AS trigger_name,
           t.tgenabled, p.prosrc
      FROM pg_trigger t
      JOIN pg_class c ON c.oid = t.tgrelid
      JOIN pg_namespace n ON n.oid = c.relnamespace
      JOIN pg_proc p ON p.oid = t.tgfoid
     WHERE NOT t.tgisinternal AND n.nspname = ANY({schemas})
), triggers AS (
    SELECT COALESCE(i.table_name, x.table_name) AS table_name,
           COALESCE(i.trigger_name, x.trigger_name) AS object_name, x.protects,
           array_remove(ARRAY[
             CASE WHEN i.trigger_name IS NULL THEN 'missing' END,
             CASE i.tgenabled WHEN 'D' THEN 'disabled' WHEN 'R' THEN 'fires only in replica mode' END,
             CASE WHEN i.prosrc LIKE '%pgtrigger_should_ignore%' THEN 'has the pgtrigger ignore hook' END
           ], NULL) AS problems
      FROM installed i FULL JOIN expected x
        ON x.table_name = i.table_name AND x.trigger_name = i.trigger_name
)
SELECT 'trigger' AS check_name, table_name, object_name, COALESCE(protects, '') AS protects,
       CASE WHEN cardinality(problems) = 0 THEN 'PASS' ELSE 'FAIL' END AS status,
       array_to_string(problems, '; ') AS detail
  FROM triggers
UNION ALL
SELECT 'privilege', NULL, d.rolname, 'no TRUNCATE or TRIGGER',
       CASE WHEN count(a.privilege_type) = 0 THEN 'PASS' ELSE 'FAIL' END,
       string_agg(a.privilege_type || ' on ' || c.oid::regclass::text, ', '
                  ORDER BY c.oid::regclass::text, a.privilege_type)
  FROM unnest({roles}) AS d(rolname)
  JOIN pg_roles r ON r.rolname = d.rolname
  LEFT JOIN (pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
             CROSS JOIN LATERAL aclexplode(c.relacl) a)
    ON n.nspname = ANY({schemas}) AND a.grantee = r.oid
   AND a.privilege_type IN ('TRUNCATE', 'TRIGGER')
 GROUP BY d.rolname;

-- One row per check: PASS when nothing failed, with how many items were checked and the first
-- failing ones named.
CREATE VIEW kernel.v_governance_summary WITH (security_invoker = true) AS
WITH items (check_name, subject, failed) AS (
    SELECT 'tenant_isolation', format('%s.%s: %s', schema_name, table_name, array_to_string(problems, '; ')),
           status = 'FAIL'
      FROM kernel.v_tenant_isolation_check
    UNION ALL
    SELECT 'schema_boundary_' || check_name,
           concat_ws(' ', role_name, privilege, 'on', object_name, '-', detail), status = 'FAIL'
      FROM kernel.v_schema_boundary_check
    UNION ALL
    SELECT 'immutability_' || check_name, concat_ws(' ', table_name, object_name, '-', detail),
           status = 'FAIL'
      FROM finance.v_immutability_check
    UNION ALL
    SELECT 'double_entry', CASE WHEN status = 'FAIL' THEN format('entry %s (tenant %s): %s',
               entry_id, tenant_id, array_to_string(problems, '; ')) END,
           status = 'FAIL'
      FROM finance.v_double_entry_check
), checks (check_name, description) AS (
    VALUES
        ('tenant_isolation', 'tenant tables: RLS enabled and forced, fail-closed tenant policy only; views security_invoker'),
        ('schema_boundary_role', 'platform roles exist; no superuser, BYPASSRLS, CREATEROLE, CREATEDB, membership'),
        ('schema_boundary_ownership', 'platform roles own nothing'),
        ('schema_boundary_schema_create', 'no platform role or PUBLIC may create objects in a schema'),
        ('schema_boundary_grant', 'every privilege held is declared; no TRUNCATE, TRIGGER, REFERENCES'),
        ('immutability_trigger', 'ledger guards and append-only triggers exist and fire'),
        ('immutability_privilege', 'no platform role holds TRUNCATE or TRIGGER'),
        ('double_entry', 'posted entries balance per currency, >= 2 lines, line_count exact, own tenant')
)
SELECT c.check_name, c.description,
       CASE WHEN count(*) FILTER (WHERE i.failed) = 0 THEN 'PASS' ELSE 'FAIL' END AS status,
       count(i.check_name) AS checked, count(*) FILTER (WHERE i.failed) AS failed,
       COALESCE((array_agg(i.subject ORDER BY i.subject) FILTER (WHERE i.failed))[1:20], '{{}}')
           AS failures
  FROM checks c LEFT JOIN items i ON i.check_name = c.check_name
 GROUP BY c.check_name, c.description;
"""


def _grants() -> str:
    stmts = [f"REVOKE ALL ON {view} FROM PUBLIC" for view in VIEWS]
    stmts += [f"GRANT SELECT ON {view} TO {MONITOR_ROLE}" for view in VIEWS]
    stmts += [
        f"GRANT SELECT ({', '.join(columns)}) ON {table} TO {MONITOR_ROLE}"
        for table, columns in MONITOR_COLUMNS.items()
    ]
    stmts += [
        f"CREATE POLICY {MONITOR_POLICY} ON {table} AS PERMISSIVE FOR SELECT "
        f"TO {MONITOR_ROLE} USING (true)"
        for table in MONITOR_POLICY_TABLES
    ]
    return "".join(f"{s};\n" for s in stmts)


def forward_sql() -> str:
    """The SQL that deploys the views, the monitor's grants and its policies."""
    return _views().lstrip("\n") + "\n" + _grants()


def reverse_sql() -> str:
    stmts = [f"DROP POLICY IF EXISTS {MONITOR_POLICY} ON {t}" for t in MONITOR_POLICY_TABLES]
    stmts += [
        f"REVOKE SELECT ({', '.join(columns)}) ON {table} FROM {MONITOR_ROLE}"
        for table, columns in MONITOR_COLUMNS.items()
    ]
    stmts += [f"DROP VIEW IF EXISTS {view}" for view in reversed(VIEWS)]
    return "".join(f"{s};\n" for s in stmts)


def read_governance_summary(alias: str = "monitor") -> list[dict[str, Any]]:
    """``kernel.v_governance_summary`` as dicts, one per check, read as the monitor role."""
    from django.db import connections

    with connections[alias].cursor() as cur:
        cur.execute(
            "SELECT check_name, description, status, checked, failed, failures "
            "FROM kernel.v_governance_summary ORDER BY check_name"
        )
        columns = [d.name for d in cur.description]
        return [dict(zip(columns, row, strict=True)) for row in cur.fetchall()]
