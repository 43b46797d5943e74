"""Per-tenant hash chain of ``kernel.audit_events`` (assurance.chain).

``kernel.audit_seals``: one row per sealed event, a gap-free ``seq`` per chain (a tenant, or the
nil UUID for platform-wide events) and ``hash = SHA-256(tag || previous hash || canonical JSON)``.
``kernel.audit_seal_batches``: where sealing stands, one row per sealing transaction. Only
``aibos_sealer_role`` writes them, both append-only; it reads every tenant's events through a
policy of its own (never through a setting another role could make). Tenants read their own
seals (the evidence export). Business writes never touch these tables or their lock: the
sealer runs after commit, in its own process.

Frozen here: what this migration deploys never changes.
"""

from django.db import migrations

FORWARD = r"""
GRANT USAGE ON SCHEMA kernel TO aibos_sealer_role;

CREATE TABLE kernel.audit_seals (
    tenant_id uuid NOT NULL,
    seq bigint NOT NULL CHECK (seq > 0),
    event_id bigint NOT NULL,
    hash bytea NOT NULL CHECK (octet_length(hash) = 32),
    sealed_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    CONSTRAINT audit_seals_pkey PRIMARY KEY (tenant_id, seq),
    CONSTRAINT audit_seals_event_key UNIQUE (event_id)
);
COMMENT ON TABLE kernel.audit_seals IS
    'Hash chain of kernel.audit_events per tenant (nil UUID: platform-wide events); append-only.';

CREATE TABLE kernel.audit_seal_batches (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    last_txid bigint NOT NULL,
    last_event_id bigint NOT NULL,
    horizon_xid bigint NOT NULL,
    events integer NOT NULL CHECK (events > 0),
    sealed_at timestamptz NOT NULL DEFAULT clock_timestamp()
);
COMMENT ON TABLE kernel.audit_seal_batches IS
    'One row per sealing transaction: events up to (last_txid, last_event_id) are sealed.';

REVOKE ALL ON kernel.audit_seals, kernel.audit_seal_batches FROM PUBLIC;
GRANT SELECT, INSERT ON kernel.audit_seals, kernel.audit_seal_batches TO aibos_sealer_role;
-- A tenant reads its own seals, like its own events (RLS below).
GRANT SELECT ON kernel.audit_seals TO aibos_kernel_role, aibos_readonly;
GRANT SELECT ON kernel.audit_events TO aibos_sealer_role;

ALTER TABLE kernel.audit_seals ENABLE ROW LEVEL SECURITY;
ALTER TABLE kernel.audit_seals FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_read ON kernel.audit_seals AS PERMISSIVE FOR SELECT TO PUBLIC
    USING (tenant_id = (SELECT NULLIF(current_setting('app.tenant_id', true), '')::uuid));
CREATE POLICY sealer_read ON kernel.audit_seals AS PERMISSIVE FOR SELECT TO aibos_sealer_role
    USING (true);
CREATE POLICY sealer_append ON kernel.audit_seals AS PERMISSIVE FOR INSERT TO aibos_sealer_role
    WITH CHECK (true);
CREATE POLICY sealer_read ON kernel.audit_events AS PERMISSIVE FOR SELECT TO aibos_sealer_role
    USING (true);

CREATE TRIGGER audit_seals_append_only BEFORE UPDATE OR DELETE ON kernel.audit_seals
    FOR EACH STATEMENT EXECUTE FUNCTION kernel.refuse_change();
CREATE TRIGGER audit_seals_no_truncate BEFORE TRUNCATE ON kernel.audit_seals
    FOR EACH STATEMENT EXECUTE FUNCTION kernel.refuse_change();
CREATE TRIGGER audit_seal_batches_append_only BEFORE UPDATE OR DELETE ON kernel.audit_seal_batches
    FOR EACH STATEMENT EXECUTE FUNCTION kernel.refuse_change();
CREATE TRIGGER audit_seal_batches_no_truncate BEFORE TRUNCATE ON kernel.audit_seal_batches
    FOR EACH STATEMENT EXECUTE FUNCTION kernel.refuse_change();
"""

BACKWARD = r"""
DROP POLICY sealer_read ON kernel.audit_events;
REVOKE SELECT ON kernel.audit_events FROM aibos_sealer_role;
DROP TABLE kernel.audit_seal_batches;
DROP TABLE kernel.audit_seals;
REVOKE USAGE ON SCHEMA kernel FROM aibos_sealer_role;
"""


class Migration(migrations.Migration):
    dependencies = [("assurance", "0001_initial"), ("kernel", "0007_audit_seal_index")]

    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
