"""The catalog queries: one per kind of object, each for every schema at once.

Set-based on purpose: a database with 1,000 tables is read in the same number of round trips
as one with 10 (``tests/guardian/test_catalog.py`` holds the count flat). Every query reads
pg_catalog only — world-readable, unlike information_schema, which shows a role just the
objects it holds privileges on — so the monitor role reads the same catalog as the owner.
Names are read as ``nspname``/``relname`` pairs, never ``oid::regclass::text``, whose output
depends on the reader's search_path. ``%(schemas)s`` is the list of schema names to read.
"""

from __future__ import annotations

SERVER = """
SELECT version(), current_setting('server_version_num')::int, pg_encoding_to_char(d.encoding),
       d.datcollate, current_setting('TimeZone'),
       (SELECT COALESCE(json_agg(json_build_array(e.extname, e.extversion, en.nspname)), '[]')
          FROM pg_extension e JOIN pg_namespace en ON en.oid = e.extnamespace)
  FROM pg_database d WHERE d.datname = current_database()
"""

# With no schemas asked for: every schema but the system ones (pg_catalog, pg_toast, the
# per-session temporary schemas, information_schema).
SCHEMAS = """
SELECT n.nspname, pg_get_userbyid(n.nspowner), obj_description(n.oid, 'pg_namespace')
  FROM pg_namespace n
 WHERE CASE WHEN %(all)s
            THEN n.nspname <> 'information_schema' AND n.nspname NOT LIKE 'pg\\_%%'
            ELSE n.nspname = ANY(%(schemas)s) END
"""

TABLES = """
SELECT n.nspname, c.relname, c.relkind, pg_get_userbyid(c.relowner),
       obj_description(c.oid, 'pg_class'), c.relrowsecurity, c.relforcerowsecurity,
       c.reltuples, c.relpages, pg_total_relation_size(c.oid),
       s.relid IS NOT NULL, s.n_live_tup, s.n_tup_ins, s.n_tup_upd, s.n_tup_del, s.seq_scan,
       s.idx_scan,
       CASE WHEN c.relkind = 'p' THEN pg_get_partkeydef(c.oid) END,
       pn.nspname, pc.relname, pg_get_expr(c.relpartbound, c.oid)
  FROM pg_class c
  JOIN pg_namespace n ON n.oid = c.relnamespace
  LEFT JOIN pg_stat_user_tables s ON s.relid = c.oid
  LEFT JOIN pg_inherits i ON i.inhrelid = c.oid AND c.relispartition
  LEFT JOIN pg_class pc ON pc.oid = i.inhparent
  LEFT JOIN pg_namespace pn ON pn.oid = pc.relnamespace
 WHERE n.nspname = ANY(%(schemas)s) AND c.relkind IN ('r', 'p')
"""

VIEWS = """
SELECT n.nspname, c.relname, c.relkind, pg_get_userbyid(c.relowner),
       obj_description(c.oid, 'pg_class'), COALESCE(c.reloptions, '{}'),
       pg_get_viewdef(c.oid, true)
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE n.nspname = ANY(%(schemas)s) AND c.relkind IN ('v', 'm')
"""

COLUMNS = """
SELECT n.nspname, c.relname, a.attname, a.attnum, format_type(a.atttypid, a.atttypmod),
       NOT a.attnotnull, a.attidentity, a.attgenerated, pg_get_expr(d.adbin, d.adrelid),
       col_description(c.oid, a.attnum)
  FROM pg_attribute a
  JOIN pg_class c ON c.oid = a.attrelid
  JOIN pg_namespace n ON n.oid = c.relnamespace
  LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
 WHERE n.nspname = ANY(%(schemas)s) AND c.relkind IN ('r', 'p', 'v', 'm')
   AND a.attnum > 0 AND NOT a.attisdropped
"""

# conkey/confkey are attnum arrays; WITH ORDINALITY keeps the key order (a composite key's
# order is its meaning: the tenant-leading key is (tenant_id, id), not (id, tenant_id)).
CONSTRAINTS = """
SELECT n.nspname, c.relname, con.conname, con.contype,
       ARRAY(SELECT a.attname FROM unnest(con.conkey) WITH ORDINALITY k(attnum, pos)
               JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.attnum
              ORDER BY k.pos)::text[],
       pg_get_constraintdef(con.oid, true), con.convalidated, con.condeferrable,
       con.condeferred, rn.nspname, rc.relname,
       ARRAY(SELECT a.attname FROM unnest(con.confkey) WITH ORDINALITY k(attnum, pos)
               JOIN pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = k.attnum
              ORDER BY k.pos)::text[],
       con.confdeltype, con.confupdtype
  FROM pg_constraint con
  JOIN pg_class c ON c.oid = con.conrelid
  JOIN pg_namespace n ON n.oid = c.relnamespace
  LEFT JOIN pg_class rc ON rc.oid = con.confrelid
  LEFT JOIN pg_namespace rn ON rn.oid = rc.relnamespace
 WHERE n.nspname = ANY(%(schemas)s) AND con.contype IN ('p', 'u', 'f', 'c', 'x')
"""

# The constraint join is limited to the constraints an index *backs* (pk, unique, exclusion):
# a foreign key's conindid names the referenced table's index, not one of this table.
INDEXES = """
SELECT n.nspname, c.relname, ic.relname, pg_get_indexdef(i.indexrelid),
       ARRAY(SELECT pg_get_indexdef(i.indexrelid, k, true)
               FROM generate_series(1, i.indnkeyatts) k ORDER BY k),
       ARRAY(SELECT pg_get_indexdef(i.indexrelid, k, true)
               FROM generate_series(i.indnkeyatts + 1, i.indnatts) k ORDER BY k),
       am.amname, i.indisunique, i.indisprimary, i.indisvalid,
       pg_get_expr(i.indpred, i.indrelid, true), con.conname
  FROM pg_index i
  JOIN pg_class ic ON ic.oid = i.indexrelid
  JOIN pg_am am ON am.oid = ic.relam
  JOIN pg_class c ON c.oid = i.indrelid
  JOIN pg_namespace n ON n.oid = c.relnamespace
  LEFT JOIN pg_constraint con ON con.conindid = i.indexrelid AND con.conrelid = i.indrelid
                             AND con.contype IN ('p', 'u', 'x')
 WHERE n.nspname = ANY(%(schemas)s) AND c.relkind IN ('r', 'p', 'm')
"""

# Expressions without pretty-printing: the form pg_policies shows and the governance views
# compare with (assurance.governance_views.TENANT_PREDICATE_DEPARSED).
POLICIES = """
SELECT n.nspname, c.relname, p.polname, p.polcmd, p.polpermissive,
       ARRAY(SELECT CASE WHEN r = 0 THEN 'PUBLIC' ELSE pg_get_userbyid(r) END
               FROM unnest(p.polroles) r)::text[],
       pg_get_expr(p.polqual, p.polrelid), pg_get_expr(p.polwithcheck, p.polrelid)
  FROM pg_policy p
  JOIN pg_class c ON c.oid = p.polrelid
  JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE n.nspname = ANY(%(schemas)s)
"""

# Internal triggers (the ones PostgreSQL creates to enforce foreign keys) are left out.
TRIGGERS = """
SELECT n.nspname, c.relname, t.tgname, t.tgtype, fn.nspname, f.proname, t.tgenabled,
       t.tgconstraint <> 0, t.tgdeferrable, t.tginitdeferred, pg_get_triggerdef(t.oid, true)
  FROM pg_trigger t
  JOIN pg_class c ON c.oid = t.tgrelid
  JOIN pg_namespace n ON n.oid = c.relnamespace
  JOIN pg_proc f ON f.oid = t.tgfoid
  JOIN pg_namespace fn ON fn.oid = f.pronamespace
 WHERE n.nspname = ANY(%(schemas)s) AND NOT t.tgisinternal
"""

# Every ACL in one query: relations (tables, views, sequences), columns, functions, schemas.
# A NULL ACL means "the defaults" (the owner holds everything): acldefault() spells them out.
# The third key column is the column name for columns and the identity arguments for functions.
_GRANTEE = "CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE pg_get_userbyid(a.grantee) END"
GRANTS = f"""
SELECT 'relation', n.nspname, c.relname, NULL::text, {_GRANTEE}, a.privilege_type,
       a.is_grantable
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace,
       aclexplode(COALESCE(c.relacl, acldefault(
           CASE WHEN c.relkind = 'S' THEN 's' ELSE 'r' END::"char", c.relowner))) a
 WHERE n.nspname = ANY(%(schemas)s) AND c.relkind IN ('r', 'p', 'v', 'm', 'S')
UNION ALL
SELECT 'column', n.nspname, c.relname, att.attname::text, {_GRANTEE}, a.privilege_type,
       a.is_grantable
  FROM pg_attribute att
  JOIN pg_class c ON c.oid = att.attrelid
  JOIN pg_namespace n ON n.oid = c.relnamespace,
       aclexplode(att.attacl) a
 WHERE n.nspname = ANY(%(schemas)s) AND c.relkind IN ('r', 'p', 'v', 'm')
   AND att.attnum > 0 AND NOT att.attisdropped AND att.attacl IS NOT NULL
UNION ALL
SELECT 'function', n.nspname, p.proname, pg_get_function_identity_arguments(p.oid),
       {_GRANTEE}, a.privilege_type, a.is_grantable
  FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace,
       aclexplode(COALESCE(p.proacl, acldefault('f', p.proowner))) a
 WHERE n.nspname = ANY(%(schemas)s)
UNION ALL
SELECT 'schema', n.nspname, NULL, NULL, {_GRANTEE}, a.privilege_type, a.is_grantable
  FROM pg_namespace n, aclexplode(COALESCE(n.nspacl, acldefault('n', n.nspowner))) a
 WHERE n.nspname = ANY(%(schemas)s)
"""

# Functions that belong to an extension (pg_depend 'e') are the extension's, not the schema's.
FUNCTIONS = """
SELECT n.nspname, p.proname, pg_get_function_identity_arguments(p.oid),
       COALESCE(pg_get_function_result(p.oid), ''), p.prokind, l.lanname, p.prosecdef,
       pg_get_userbyid(p.proowner), p.provolatile, COALESCE(p.proconfig, '{}'),
       obj_description(p.oid, 'pg_proc'), p.prosrc
  FROM pg_proc p
  JOIN pg_namespace n ON n.oid = p.pronamespace
  JOIN pg_language l ON l.oid = p.prolang
 WHERE n.nspname = ANY(%(schemas)s)
   AND NOT EXISTS (SELECT 1 FROM pg_depend d
                    WHERE d.classid = 'pg_proc'::regclass AND d.objid = p.oid
                      AND d.deptype = 'e')
"""

ENUMS = """
SELECT n.nspname, t.typname, pg_get_userbyid(t.typowner),
       ARRAY(SELECT e.enumlabel FROM pg_enum e WHERE e.enumtypid = t.oid
              ORDER BY e.enumsortorder)::text[],
       obj_description(t.oid, 'pg_type')
  FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
 WHERE n.nspname = ANY(%(schemas)s) AND t.typtype = 'e'
"""

# owned_by: the column a serial ('a', auto) or identity ('i', internal) sequence belongs to.
SEQUENCES = """
SELECT n.nspname, c.relname, pg_get_userbyid(c.relowner), format_type(s.seqtypid, NULL),
       s.seqstart, s.seqincrement, s.seqmin, s.seqmax, s.seqcycle,
       (SELECT tn.nspname || '.' || tc.relname || '.' || ta.attname
          FROM pg_depend d
          JOIN pg_class tc ON tc.oid = d.refobjid
          JOIN pg_namespace tn ON tn.oid = tc.relnamespace
          JOIN pg_attribute ta ON ta.attrelid = d.refobjid AND ta.attnum = d.refobjsubid
         WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid
           AND d.refclassid = 'pg_class'::regclass AND d.refobjsubid > 0
           AND d.deptype IN ('a', 'i')
         LIMIT 1)
  FROM pg_sequence s
  JOIN pg_class c ON c.oid = s.seqrelid
  JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE n.nspname = ANY(%(schemas)s)
"""
