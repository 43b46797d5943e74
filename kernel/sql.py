"""SQL functions of the identity plane that the code declares: approval grants.

``kernel/migrations/0003_approval_grants.py`` deployed them (with the key table), frozen; this is
the current declaration, which ``tests/aibos/test_sql_functions.py`` compares with the catalog.
Changing a function here without a migration that deploys the change fails that test.
"""

from __future__ import annotations

APPROVAL_GRANT_FUNCTIONS_SQL = r"""
-- HMAC-SHA256 over the canonical JSON array of the grant's fields. Runs as its caller and may
-- be executed by the owner only, i.e. from the SECURITY DEFINER functions and triggers below.
CREATE OR REPLACE FUNCTION kernel.approval_grant_signature(
    p_tenant uuid, p_payment uuid, p_approver text, p_role text, p_decision text, p_expires bigint
) RETURNS text
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    k bytea;
    ipad bytea;
    opad bytea;
    msg bytea;
BEGIN
    SELECT g.key INTO k FROM kernel.approval_grant_keys g WHERE g.id = 1;
    IF k IS NULL THEN
        RAISE EXCEPTION 'no approval grant key is installed' USING ERRCODE = '55000';
    END IF;
    k := k || decode(repeat('00', 64 - length(k)), 'hex');  -- the key padded to the block size
    ipad := k;
    opad := k;
    FOR i IN 0 .. 63 LOOP
        ipad := set_byte(ipad, i, get_byte(k, i) # 54);   -- 0x36
        opad := set_byte(opad, i, get_byte(k, i) # 92);   -- 0x5c
    END LOOP;
    msg := convert_to(jsonb_build_array('aibos.approval-grant.v1', p_tenant, p_payment, p_approver,
                                        p_role, p_decision, p_expires)::text, 'UTF8');
    RETURN encode(sha256(opad || sha256(ipad || msg)), 'hex');
END $$;
REVOKE ALL ON FUNCTION kernel.approval_grant_signature(uuid, uuid, text, text, text, bigint) FROM PUBLIC;

-- The identity plane's signature, for the signed-in user of this transaction only. Runs as the
-- owner (it reads the key), still under FORCE RLS: it sees the context tenant's users only.
CREATE OR REPLACE FUNCTION kernel.approval_grant_issue(p_payment uuid, p_role text, p_decision text)
RETURNS jsonb
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_tenant uuid := NULLIF(current_setting('app.tenant_id', true), '')::uuid;
    v_user uuid := NULLIF(current_setting('app.user_id', true), '')::uuid;
    v_approver text;
    v_expires bigint;
BEGIN
    IF v_tenant IS NULL OR v_user IS NULL THEN
        RAISE EXCEPTION 'an approval grant is issued only to a signed-in user in a tenant context'
            USING ERRCODE = '23514', CONSTRAINT = 'kernel_approvalgrant_user';
    END IF;
    IF p_payment IS NULL OR p_role IS NULL OR p_decision IS NULL
       OR p_decision NOT IN ('APPROVE', 'REJECT') THEN
        RAISE EXCEPTION 'an approval grant names a payment, a role and a decision (APPROVE or REJECT)'
            USING ERRCODE = '23514', CONSTRAINT = 'kernel_approvalgrant_request';
    END IF;
    IF NOT EXISTS (
        SELECT 1 FROM kernel.users u
         WHERE u.tenant_id = v_tenant AND u.id = v_user AND u.is_active AND u.deleted_at IS NULL
    ) THEN
        RAISE EXCEPTION 'user % is not an active user of tenant %', v_user, v_tenant
            USING ERRCODE = '23514', CONSTRAINT = 'kernel_approvalgrant_user';
    END IF;
    IF NOT EXISTS (
        SELECT 1 FROM kernel.user_roles ur
          JOIN kernel.roles r ON r.tenant_id = ur.tenant_id AND r.id = ur.role_id
         WHERE ur.tenant_id = v_tenant AND ur.user_id = v_user
           AND r.name = p_role AND r.deleted_at IS NULL
    ) THEN
        RAISE EXCEPTION 'user % does not hold role %', v_user, p_role
            USING ERRCODE = '23514', CONSTRAINT = 'kernel_approvalgrant_role';
    END IF;
    v_approver := 'user:' || v_user;
    v_expires := floor(extract(epoch FROM clock_timestamp()))::bigint + 300;  -- five minutes
    RETURN jsonb_build_object(
        'version', 1, 'tenant', v_tenant, 'payment', p_payment, 'approver', v_approver,
        'role', p_role, 'decision', p_decision, 'expires', v_expires,
        'signature', kernel.approval_grant_signature(
            v_tenant, p_payment, v_approver, p_role, p_decision, v_expires));
END $$;
REVOKE ALL ON FUNCTION kernel.approval_grant_issue(uuid, text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION kernel.approval_grant_issue(uuid, text, text) TO aibos_kernel_role;
"""
