"""Governance views (``kernel.v_*``, ``finance.v_*``) and the monitor role's grants: SELECT on the
views, column-level SELECT on what they read, and a read policy naming only aibos_monitor_role.

Frozen here (not imported from assurance.governance_views): what this migration deploys never
changes. ``tests/assurance/test_governance_views.py`` fails when the code's SQL differs.
"""

from django.db import migrations

FORWARD = r"""
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
     WHERE n.nspname = ANY(ARRAY['kernel', 'finance', 'config']::text[])
       AND (c.relkind = 'v'
            OR c.relkind IN ('r', 'p') AND EXISTS (
                SELECT 1 FROM pg_attribute a
                 WHERE a.attrelid = c.oid AND a.attname = 'tenant_id' AND NOT a.attisdropped))
), policies AS (
    SELECT r.oid, p.policyname,
           CASE
             WHEN p.permissive = 'PERMISSIVE' AND p.roles = '{public}' AND p.cmd IN ('ALL', 'SELECT')
                  AND regexp_replace(p.qual, '\s', '', 'g') = '(tenant_id=(SELECT(NULLIF(current_setting(''app.tenant_id''::text,true),''''::text))::uuidAS"nullif"))'
                  AND (p.with_check IS NULL OR regexp_replace(p.with_check, '\s', '', 'g') = '(tenant_id=(SELECT(NULLIF(current_setting(''app.tenant_id''::text,true),''''::text))::uuidAS"nullif"))')
               THEN 'tenant'
             WHEN p.permissive = 'PERMISSIVE' AND p.roles = ARRAY['aibos_monitor_role']::name[]
                  AND p.cmd = 'SELECT' AND p.qual = 'true'
               THEN 'monitor'
             WHEN p.permissive = 'PERMISSIVE' AND p.roles = ARRAY['aibos_sealer_role']::name[]
                  AND (p.cmd = 'SELECT' AND p.qual = 'true'
                       OR p.cmd = 'INSERT' AND p.with_check = 'true')
               THEN 'sealer'
             WHEN p.permissive = 'PERMISSIVE' AND p.cmd = 'INSERT' AND p.with_check = 'true'
                  AND NOT EXISTS (SELECT 1 FROM pg_roles g
                                   WHERE g.rolname = ANY(ARRAY['aibos_kernel_role', 'aibos_finance_role', 'aibos_config_role', 'aibos_monitor_role', 'aibos_sealer_role', 'aibos_readonly']::text[])
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
                    FILTER (WHERE p.kind = 'unexpected'), '{}') AS unexpected_policies,
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
      FROM unnest(ARRAY['aibos_kernel_role', 'aibos_finance_role', 'aibos_config_role', 'aibos_monitor_role', 'aibos_sealer_role', 'aibos_readonly']::text[]) AS d(rolname) LEFT JOIN pg_roles r ON r.rolname = d.rolname
), allowed (role_name, schema_name, privilege) AS (
    VALUES
        ('aibos_kernel_role', 'kernel', 'SELECT'),
        ('aibos_kernel_role', 'kernel', 'INSERT'),
        ('aibos_kernel_role', 'kernel', 'UPDATE'),
        ('aibos_kernel_role', 'kernel', 'DELETE'),
        ('aibos_readonly', 'kernel', 'SELECT'),
        ('aibos_finance_role', 'finance', 'SELECT'),
        ('aibos_finance_role', 'finance', 'INSERT'),
        ('aibos_finance_role', 'finance', 'UPDATE'),
        ('aibos_finance_role', 'finance', 'DELETE'),
        ('aibos_readonly', 'finance', 'SELECT'),
        ('aibos_config_role', 'config', 'SELECT'),
        ('aibos_finance_role', 'config', 'SELECT'),
        ('aibos_kernel_role', 'config', 'SELECT'),
        ('aibos_readonly', 'config', 'SELECT'),
        ('aibos_monitor_role', 'kernel', 'SELECT ON kernel.v_tenant_health'),
        ('aibos_monitor_role', 'kernel', 'SELECT ON kernel.v_tenant_isolation_check'),
        ('aibos_monitor_role', 'kernel', 'SELECT ON kernel.v_schema_boundary_check'),
        ('aibos_monitor_role', 'finance', 'SELECT ON finance.v_double_entry_check'),
        ('aibos_monitor_role', 'finance', 'SELECT ON finance.v_journal_integrity'),
        ('aibos_monitor_role', 'finance', 'SELECT ON finance.v_journal_integrity_summary'),
        ('aibos_monitor_role', 'finance', 'SELECT ON finance.v_immutability_check'),
        ('aibos_monitor_role', 'kernel', 'SELECT ON kernel.v_governance_summary'),
        ('aibos_monitor_role', 'kernel', 'SELECT ON kernel.tenants.id'),
        ('aibos_monitor_role', 'kernel', 'SELECT ON kernel.tenants.slug'),
        ('aibos_monitor_role', 'kernel', 'SELECT ON kernel.tenants.status'),
        ('aibos_monitor_role', 'kernel', 'SELECT ON kernel.users.tenant_id'),
        ('aibos_monitor_role', 'kernel', 'SELECT ON kernel.users.is_active'),
        ('aibos_monitor_role', 'kernel', 'SELECT ON kernel.users.deleted_at'),
        ('aibos_monitor_role', 'finance', 'SELECT ON finance.companies.tenant_id'),
        ('aibos_monitor_role', 'finance', 'SELECT ON finance.companies.id'),
        ('aibos_monitor_role', 'finance', 'SELECT ON finance.journal_entries.tenant_id'),
        ('aibos_monitor_role', 'finance', 'SELECT ON finance.journal_entries.id'),
        ('aibos_monitor_role', 'finance', 'SELECT ON finance.journal_entries.company_id'),
        ('aibos_monitor_role', 'finance', 'SELECT ON finance.journal_entries.status'),
        ('aibos_monitor_role', 'finance', 'SELECT ON finance.journal_entries.line_count'),
        ('aibos_monitor_role', 'finance', 'SELECT ON finance.journal_lines.tenant_id'),
        ('aibos_monitor_role', 'finance', 'SELECT ON finance.journal_lines.entry_id'),
        ('aibos_monitor_role', 'finance', 'SELECT ON finance.journal_lines.currency'),
        ('aibos_monitor_role', 'finance', 'SELECT ON finance.journal_lines.debit'),
        ('aibos_monitor_role', 'finance', 'SELECT ON finance.journal_lines.credit'),
        ('aibos_monitor_role', 'finance', 'SELECT ON finance.journal_lines.txn_amount'),
        ('aibos_sealer_role', 'kernel', 'SELECT ON kernel.audit_events'),
        ('aibos_sealer_role', 'kernel', 'SELECT ON kernel.audit_seals'),
        ('aibos_sealer_role', 'kernel', 'INSERT ON kernel.audit_seals'),
        ('aibos_sealer_role', 'kernel', 'SELECT ON kernel.audit_seal_batches'),
        ('aibos_sealer_role', 'kernel', 'INSERT ON kernel.audit_seal_batches')
), relations AS (
    SELECT c.oid, n.nspname AS schema_name, c.relname, c.relacl
      FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE n.nspname = ANY(ARRAY['kernel', 'finance', 'config']::text[]) AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
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
 WHERE n.nspname = ANY(ARRAY['kernel', 'finance', 'config']::text[] || '{public}'::text[])
UNION ALL
SELECT 'grant', g.role_name, g.object_name, g.privilege,
       CASE WHEN j.problem IS NULL THEN 'PASS' ELSE 'FAIL' END, j.problem
  FROM grants g CROSS JOIN LATERAL (SELECT CASE
         WHEN g.declared_as = ANY(ARRAY['TRUNCATE', 'TRIGGER', 'REFERENCES']::text[]) THEN g.declared_as || ' is forbidden to platform roles'
         WHEN g.role_name = 'PUBLIC' THEN 'granted to PUBLIC (every role)'
         WHEN g.role_name = ANY(ARRAY['aibos_config_role', 'aibos_finance_role', 'aibos_kernel_role', 'aibos_monitor_role', 'aibos_readonly', 'aibos_sealer_role']::text[]) AND NOT EXISTS (
              SELECT 1 FROM allowed a
               WHERE a.role_name = g.role_name AND a.schema_name = g.schema_name
                 AND (a.privilege = g.declared_as
                      OR a.privilege = g.declared_as || ' ON ' || g.object_name))
           THEN 'not declared for ' || g.role_name || ' in schema ' || g.schema_name
       END AS problem) j
 WHERE g.role_name = ANY(ARRAY['aibos_kernel_role', 'aibos_finance_role', 'aibos_config_role', 'aibos_monitor_role', 'aibos_sealer_role', 'aibos_readonly']::text[]) OR g.role_name = 'PUBLIC';

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
                    '{}') AS unbalanced_currencies
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
       COALESCE(array_agg(entry_id ORDER BY entry_id) FILTER (WHERE status = 'FAIL'), '{}')
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
        ('finance.journal_entries', 'guard_finance_journalentry_guard', 'posted entry immutable'),
        ('finance.journal_entries', 'guard_finance_journalentry_check_insert', 'posting checked'),
        ('finance.journal_entries', 'guard_finance_journalentry_check_update', 'posting checked'),
        ('finance.journal_entries', 'guard_finance_journalentry_truncate', 'TRUNCATE refused'),
        ('finance.journal_entries', 'finance_journalentry_tenant_immutable', 'tenant fixed'),
        ('finance.journal_lines', 'guard_finance_journalline_guard', 'posted lines immutable'),
        ('finance.journal_lines', 'guard_finance_journalline_added', 'no line added when posted'),
        ('finance.journal_lines', 'guard_finance_journalline_removed', 'no line removed when posted'),
        ('finance.journal_lines', 'guard_finance_journalline_truncate', 'TRUNCATE refused'),
        ('finance.journal_lines', 'finance_journalline_tenant_immutable', 'tenant fixed'),
        ('kernel.audit_events', 'kernel_auditevent_append_only', 'audit log append-only'),
        ('kernel.events', 'kernel_event_append_only', 'events append-only'),
        ('kernel.audit_seals', 'audit_seals_append_only', 'audit chain append-only'),
        ('kernel.audit_seals', 'audit_seals_no_truncate', 'TRUNCATE refused'),
        ('kernel.audit_seal_batches', 'audit_seal_batches_append_only', 'sealer position append-only')
), installed AS (
    SELECT format('%I.%I', n.nspname, c.relname) AS table_name, t.tgname::text AS trigger_name,
           t.tgenabled, p.prosrc
      FROM pg_trigger t
      JOIN pg_class c ON c.oid = t.tgrelid
      JOIN pg_namespace n ON n.oid = c.relnamespace
      JOIN pg_proc p ON p.oid = t.tgfoid
     WHERE NOT t.tgisinternal AND n.nspname = ANY(ARRAY['kernel', 'finance', 'config']::text[])
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
  FROM unnest(ARRAY['aibos_kernel_role', 'aibos_finance_role', 'aibos_config_role', 'aibos_monitor_role', 'aibos_sealer_role', 'aibos_readonly']::text[]) AS d(rolname)
  JOIN pg_roles r ON r.rolname = d.rolname
  LEFT JOIN (pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
             CROSS JOIN LATERAL aclexplode(c.relacl) a)
    ON n.nspname = ANY(ARRAY['kernel', 'finance', 'config']::text[]) AND a.grantee = r.oid
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
       COALESCE((array_agg(i.subject ORDER BY i.subject) FILTER (WHERE i.failed))[1:20], '{}')
           AS failures
  FROM checks c LEFT JOIN items i ON i.check_name = c.check_name
 GROUP BY c.check_name, c.description;

REVOKE ALL ON kernel.v_tenant_health FROM PUBLIC;
REVOKE ALL ON kernel.v_tenant_isolation_check FROM PUBLIC;
REVOKE ALL ON kernel.v_schema_boundary_check FROM PUBLIC;
REVOKE ALL ON finance.v_double_entry_check FROM PUBLIC;
REVOKE ALL ON finance.v_journal_integrity FROM PUBLIC;
REVOKE ALL ON finance.v_journal_integrity_summary FROM PUBLIC;
REVOKE ALL ON finance.v_immutability_check FROM PUBLIC;
REVOKE ALL ON kernel.v_governance_summary FROM PUBLIC;
GRANT SELECT ON kernel.v_tenant_health TO aibos_monitor_role;
GRANT SELECT ON kernel.v_tenant_isolation_check TO aibos_monitor_role;
GRANT SELECT ON kernel.v_schema_boundary_check TO aibos_monitor_role;
GRANT SELECT ON finance.v_double_entry_check TO aibos_monitor_role;
GRANT SELECT ON finance.v_journal_integrity TO aibos_monitor_role;
GRANT SELECT ON finance.v_journal_integrity_summary TO aibos_monitor_role;
GRANT SELECT ON finance.v_immutability_check TO aibos_monitor_role;
GRANT SELECT ON kernel.v_governance_summary TO aibos_monitor_role;
GRANT SELECT (id, slug, status) ON kernel.tenants TO aibos_monitor_role;
GRANT SELECT (tenant_id, is_active, deleted_at) ON kernel.users TO aibos_monitor_role;
GRANT SELECT (tenant_id, id) ON finance.companies TO aibos_monitor_role;
GRANT SELECT (tenant_id, id, company_id, status, line_count) ON finance.journal_entries TO aibos_monitor_role;
GRANT SELECT (tenant_id, entry_id, currency, debit, credit, txn_amount) ON finance.journal_lines TO aibos_monitor_role;
CREATE POLICY monitor_read ON kernel.users AS PERMISSIVE FOR SELECT TO aibos_monitor_role USING (true);
CREATE POLICY monitor_read ON finance.companies AS PERMISSIVE FOR SELECT TO aibos_monitor_role USING (true);
CREATE POLICY monitor_read ON finance.journal_entries AS PERMISSIVE FOR SELECT TO aibos_monitor_role USING (true);
CREATE POLICY monitor_read ON finance.journal_lines AS PERMISSIVE FOR SELECT TO aibos_monitor_role USING (true);
"""

BACKWARD = r"""
DROP POLICY IF EXISTS monitor_read ON kernel.users;
DROP POLICY IF EXISTS monitor_read ON finance.companies;
DROP POLICY IF EXISTS monitor_read ON finance.journal_entries;
DROP POLICY IF EXISTS monitor_read ON finance.journal_lines;
REVOKE SELECT (id, slug, status) ON kernel.tenants FROM aibos_monitor_role;
REVOKE SELECT (tenant_id, is_active, deleted_at) ON kernel.users FROM aibos_monitor_role;
REVOKE SELECT (tenant_id, id) ON finance.companies FROM aibos_monitor_role;
REVOKE SELECT (tenant_id, id, company_id, status, line_count) ON finance.journal_entries FROM aibos_monitor_role;
REVOKE SELECT (tenant_id, entry_id, currency, debit, credit, txn_amount) ON finance.journal_lines FROM aibos_monitor_role;
DROP VIEW IF EXISTS kernel.v_governance_summary;
DROP VIEW IF EXISTS finance.v_immutability_check;
DROP VIEW IF EXISTS finance.v_journal_integrity_summary;
DROP VIEW IF EXISTS finance.v_journal_integrity;
DROP VIEW IF EXISTS finance.v_double_entry_check;
DROP VIEW IF EXISTS kernel.v_schema_boundary_check;
DROP VIEW IF EXISTS kernel.v_tenant_isolation_check;
DROP VIEW IF EXISTS kernel.v_tenant_health;
"""


class Migration(migrations.Migration):
    dependencies = [("assurance", "0002_audit_chain")]

    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
