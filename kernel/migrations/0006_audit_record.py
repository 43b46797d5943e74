"""One writer of the audit log: ``kernel.audit_record(...)`` inserts every event (who acted
comes from the unit of work's variables), and ``kernel.audit_capture()`` calls it. The ledger's
own triggers call it too, so that a posted entry's event can carry its lines (finance 0008).

Frozen here (not imported from aibos.db.bootstrap): what this migration deploys never changes.
"""

from django.db import migrations

FORWARD = r"""
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

# audit_capture as kernel 0001 deployed it (with its own INSERT), then audit_record dropped.
BACKWARD = r"""
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
    INSERT INTO kernel.audit_events (
        tenant_id, occurred_at, schema_name, table_name, row_id, operation,
        old_values, new_values, changed_fields,
        actor, actor_user_id, db_role, correlation_id, txid
    ) VALUES (
        CASE WHEN TG_ARGV[0] = '' THEN NULL ELSE (row_data ->> TG_ARGV[0])::uuid END,
        clock_timestamp(), TG_TABLE_SCHEMA, TG_TABLE_NAME, row_data ->> 'id', TG_OP,
        old_row, new_row, changed,
        COALESCE(NULLIF(current_setting('app.actor', true), ''), 'db:' || session_user),
        NULLIF(current_setting('app.user_id', true), '')::uuid,
        session_user,
        NULLIF(current_setting('app.correlation_id', true), ''),
        txid_current()
    );
    RETURN NULL;
END $$;
DROP FUNCTION kernel.audit_record(uuid, text, text, text, text, jsonb, jsonb, jsonb);
"""


class Migration(migrations.Migration):
    dependencies = [
        ("kernel", "0005_audit_list_indexes"),
    ]

    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
