"""What every governed table relies on: the platform roles and the shared trigger functions.

``ensure_roles`` runs in ``kernel/migrations/0001_initial.py`` and, with the ownership hand-over,
after every ``migrate`` (``kernel.apps``). ``FUNCTIONS_SQL`` is the code's declaration of the
shared functions; migrations deploy frozen copies of it (0001, then 0004 for ``touch_row``), and
``tests/aibos/test_sql_functions.py`` fails when the two differ.
"""

from __future__ import annotations

import os
from typing import Any

from django.core.management.base import CommandError
from psycopg import sql

from aibos.db.roles import OWNER_ROLE, PLATFORM_ROLES, SCHEMAS

ROLE_FLAGS = "NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE NOREPLICATION"

MISSING_ROLE_PRIVILEGE = (
    "The migrating role {owner!r} cannot create roles and these platform roles are missing: "
    "{missing}. Ask a database administrator to run the SQL below (set real passwords), then run "
    "`python manage.py migrate` again.\n\n{sql}"
)
UNSAFE_ROLE = (
    "Platform role {role!r} exists with unsafe attributes (superuser, BYPASSRLS, CREATEROLE or "
    "CREATEDB) and the migrating role cannot fix it. Run: ALTER ROLE {role} {flags};"
)


def _role_ddl(role: str, password: str | None, *, create: bool) -> sql.Composed:
    verb = "CREATE ROLE" if create else "ALTER ROLE"
    stmt = sql.SQL("{} {} LOGIN " + ROLE_FLAGS).format(sql.SQL(verb), sql.Identifier(role))
    if password:
        stmt = sql.SQL("{} PASSWORD {}").format(stmt, sql.Literal(password))
    return stmt


def ensure_roles(apps: Any, schema_editor: Any) -> None:
    """Migration entry point for :func:`ensure_roles_on`."""
    ensure_roles_on(schema_editor.connection)


def ensure_roles_on(conn: Any) -> None:
    """Create the platform login roles, or stop with the exact SQL an administrator must run.

    Run again after every ``migrate``: a role someone widened by hand is narrowed again, and a
    password set in the environment is applied (rotation).
    """
    conn.ensure_connection()
    raw = conn.connection
    with conn.cursor() as cur:
        cur.execute(
            "SELECT current_user, rolsuper OR rolcreaterole FROM pg_roles WHERE rolname = current_user"
        )
        owner, can_manage_roles = cur.fetchone()
        cur.execute(
            "SELECT rolname, rolsuper OR rolbypassrls OR rolcreaterole OR rolcreatedb "
            "FROM pg_roles WHERE rolname = ANY(%s)",
            [list(PLATFORM_ROLES)],
        )
        existing = dict(cur.fetchall())
        missing = [r for r in PLATFORM_ROLES if r not in existing]
        if missing and not can_manage_roles:
            script = ";\n".join(
                _role_ddl(r, "<password>", create=True).as_string(raw) for r in missing
            )
            raise CommandError(
                MISSING_ROLE_PRIVILEGE.format(
                    owner=owner, missing=", ".join(missing), sql=script + ";"
                )
            )
        for role, password_var in PLATFORM_ROLES.items():
            password = os.environ.get(password_var) or None
            if role not in existing:
                cur.execute(_role_ddl(role, password, create=True).as_string(raw))
            elif can_manage_roles:
                cur.execute(_role_ddl(role, password, create=False).as_string(raw))
            elif existing[role]:
                raise CommandError(UNSAFE_ROLE.format(role=role, flags=ROLE_FLAGS))
        cur.execute(
            sql.SQL("GRANT CONNECT ON DATABASE {} TO {}")
            .format(
                sql.Identifier(conn.settings_dict["NAME"]),
                sql.SQL(", ").join(sql.Identifier(r) for r in PLATFORM_ROLES),
            )
            .as_string(raw)
        )


# Shared trigger functions. SECURITY DEFINER functions pin search_path so a caller cannot
# redirect them to objects of its own.
FUNCTIONS_SQL = r"""
CREATE OR REPLACE FUNCTION kernel.touch_row() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF NEW.id IS DISTINCT FROM OLD.id THEN
        RAISE EXCEPTION 'id of %.% row % cannot change', TG_TABLE_SCHEMA, TG_TABLE_NAME, OLD.id
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    NEW.created_at := OLD.created_at;  -- set once, on insert
    NEW.updated_at := now();  -- the unit of work's clock, like created_at and the guards
    RETURN NEW;
END $$;

CREATE OR REPLACE FUNCTION kernel.bump_version() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    NEW.version := OLD.version + 1;
    RETURN NEW;
END $$;

CREATE OR REPLACE FUNCTION kernel.refuse_tenant_change() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF NEW.tenant_id IS DISTINCT FROM OLD.tenant_id THEN
        RAISE EXCEPTION 'tenant_id of %.% row % cannot change', TG_TABLE_SCHEMA, TG_TABLE_NAME, OLD.id
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN NEW;
END $$;

CREATE OR REPLACE FUNCTION kernel.refuse_change() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    RAISE EXCEPTION '%.% is append-only: % refused', TG_TABLE_SCHEMA, TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'insufficient_privilege';
END $$;

-- The one writer of kernel.audit_events, called by every audit trigger in the transaction of the
-- change: who acted comes from the unit of work's variables, never from the caller. Owner only:
-- no runtime role may EXECUTE it (it would let them write the log).
CREATE OR REPLACE FUNCTION kernel.audit_record(
    p_tenant_id uuid, p_schema text, p_table text, p_row_id text, p_operation text,
    p_old jsonb, p_new jsonb, p_changed jsonb
) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    INSERT INTO kernel.audit_events (
        tenant_id, occurred_at, schema_name, table_name, row_id, operation,
        old_values, new_values, changed_fields,
        actor, actor_user_id, db_role, correlation_id, txid
    ) VALUES (
        p_tenant_id, clock_timestamp(), p_schema, p_table, p_row_id, p_operation,
        p_old, p_new, p_changed,
        COALESCE(NULLIF(current_setting('app.actor', true), ''), 'db:' || session_user),
        NULLIF(current_setting('app.user_id', true), '')::uuid,
        session_user,
        NULLIF(current_setting('app.correlation_id', true), ''),
        txid_current()
    );
END $$;
REVOKE ALL ON FUNCTION kernel.audit_record(uuid, text, text, text, text, jsonb, jsonb, jsonb) FROM PUBLIC;

-- Records one kernel.audit_events row per changed row, in the same transaction as the change.
-- TG_ARGV[0]: the column holding the tenant ('' for global rows); TG_ARGV[1..]: redacted columns.
CREATE OR REPLACE FUNCTION kernel.audit_capture() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    old_row jsonb;
    new_row jsonb;
    row_data jsonb;
    changed jsonb;
    i int;
BEGIN
    IF TG_OP <> 'INSERT' THEN old_row := to_jsonb(OLD); END IF;
    IF TG_OP <> 'DELETE' THEN new_row := to_jsonb(NEW); END IF;
    FOR i IN 1 .. TG_NARGS - 1 LOOP
        IF old_row ? TG_ARGV[i] THEN old_row := jsonb_set(old_row, ARRAY[TG_ARGV[i]], '"[redacted]"'); END IF;
        IF new_row ? TG_ARGV[i] THEN new_row := jsonb_set(new_row, ARRAY[TG_ARGV[i]], '"[redacted]"'); END IF;
    END LOOP;
    IF TG_OP = 'UPDATE' THEN
        SELECT jsonb_agg(n.key ORDER BY n.key) INTO changed
        FROM jsonb_each(new_row) AS n
        WHERE n.value IS DISTINCT FROM old_row -> n.key;
    END IF;
    row_data := COALESCE(new_row, old_row);
    PERFORM kernel.audit_record(
        CASE WHEN TG_ARGV[0] = '' THEN NULL ELSE (row_data ->> TG_ARGV[0])::uuid END,
        TG_TABLE_SCHEMA, TG_TABLE_NAME, row_data ->> 'id', TG_OP, old_row, new_row, changed
    );
    RETURN NULL;
END $$;
REVOKE ALL ON FUNCTION kernel.audit_capture() FROM PUBLIC;
"""

# Every object in the governed schemas, with the ALTER statement that gives it a new owner.
_OWNED_OBJECTS_SQL = """
SELECT format('ALTER SCHEMA %%I OWNER TO %%I', n.nspname, %(owner)s)
FROM pg_namespace n WHERE n.nspname = ANY(%(schemas)s) AND n.nspowner <> %(owner)s::regrole
UNION ALL
SELECT format('ALTER TABLE %%I.%%I OWNER TO %%I', n.nspname, c.relname, %(owner)s)
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = ANY(%(schemas)s) AND c.relkind IN ('r', 'p', 'v', 'm')
  AND c.relowner <> %(owner)s::regrole
UNION ALL
SELECT format('ALTER FUNCTION %%s OWNER TO %%I', p.oid::regprocedure, %(owner)s)
FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
WHERE n.nspname = ANY(%(schemas)s) AND p.proowner <> %(owner)s::regrole
"""


def hand_over_ownership(using: str = "default") -> int:
    """When the migrating role is a superuser, give every governed object to OWNER_ROLE.

    A superuser bypasses RLS even with FORCE, and so would anything it owns and runs as
    (SECURITY DEFINER functions, views). Handing ownership to a NOLOGIN, NOBYPASSRLS role keeps
    the forced policies binding on the owner too. A non-superuser owner (production) already is
    that role and nothing changes. Returns the number of objects handed over.
    """
    from django.db import connections

    conn = connections[using]
    with conn.cursor() as cur:
        cur.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
        if not cur.fetchone()[0]:
            return 0
        cur.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [OWNER_ROLE])
        if cur.fetchone() is None:
            cur.execute(
                sql.SQL("CREATE ROLE {} NOLOGIN " + ROLE_FLAGS)
                .format(sql.Identifier(OWNER_ROLE))
                .as_string(conn.connection)
            )
        cur.execute(_OWNED_OBJECTS_SQL, {"owner": OWNER_ROLE, "schemas": list(SCHEMAS)})
        statements = [row[0] for row in cur.fetchall()]
        for statement in statements:
            cur.execute(statement)
    return len(statements)
