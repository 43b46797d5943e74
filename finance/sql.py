"""SQL functions of the posting path that the code declares: one call per journal entry.

``finance/migrations/0007_journal_entry_create.py`` deployed them, frozen; this is the current
declaration, which ``tests/aibos/test_sql_functions.py`` compares with the catalog. Changing a
function here without a migration that deploys the change fails that test.
"""

from __future__ import annotations

POSTING_FUNCTIONS_SQL = r"""CREATE OR REPLACE FUNCTION "finance".journal_entry_create(
    p_id uuid,
    p_tenant_id uuid,
    p_company_id uuid,
    p_entry_date date,
    p_reference text,
    p_memo text,
    p_created_by text,
    p_idempotency_key text,
    p_request_hash text,
    p_request_payload jsonb,
    p_lines jsonb,
    p_post boolean,
    OUT o_posting_seq bigint,
    OUT o_posted_at timestamptz,
    OUT o_posted_by text
)
LANGUAGE plpgsql SECURITY INVOKER SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    INSERT INTO "finance"."journal_entries" (id, tenant_id, company_id, entry_date, status,
        reference, memo, posted_by, created_by, idempotency_key, request_hash, request_payload)
    VALUES (p_id, p_tenant_id, p_company_id, p_entry_date, 'DRAFT', p_reference, p_memo, '',
        p_created_by, p_idempotency_key, p_request_hash, p_request_payload);
    INSERT INTO "finance"."journal_lines" (id, tenant_id, entry_id, line_no, account_id, debit,
        credit, currency, txn_amount, fx_rate_id, fx_rate, memo)
    SELECT l.id, p_tenant_id, p_id, l.line_no, l.account_id, l.debit, l.credit, l.currency,
           l.txn_amount, l.fx_rate_id, l.fx_rate, l.memo
      FROM jsonb_to_recordset(p_lines) AS l(id uuid, line_no integer, account_id uuid,
           debit numeric, credit numeric, currency text, txn_amount numeric, fx_rate_id uuid,
           fx_rate numeric, memo text)
     ORDER BY l.line_no;
    IF p_post THEN
        -- The same UPDATE as any other posting: the guard triggers check, number and book it.
        UPDATE "finance"."journal_entries" e SET status = 'POSTED'
         WHERE e.tenant_id = p_tenant_id AND e.id = p_id AND e.status = 'DRAFT'
        RETURNING e.posting_seq, e.posted_at, e.posted_by
             INTO o_posting_seq, o_posted_at, o_posted_by;
    END IF;
END;
$$;
REVOKE ALL ON FUNCTION "finance".journal_entry_create(uuid, uuid, uuid, date, text, text, text,
    text, text, jsonb, jsonb, boolean) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION "finance".journal_entry_create(uuid, uuid, uuid, date, text, text, text,
    text, text, jsonb, jsonb, boolean) TO aibos_finance_role;

CREATE OR REPLACE FUNCTION "finance".posting_context(p_tenant_id uuid, p_company_id uuid, p_account_ids uuid[])
RETURNS TABLE (base_currency text, account_id uuid, account_company_id uuid, account_currency text)
LANGUAGE plpgsql STABLE SECURITY INVOKER SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    RETURN QUERY
    SELECT c.base_currency::text, a.id, a.company_id, a.currency::text
      FROM "finance"."companies" c
      LEFT JOIN "finance"."accounts" a ON a.tenant_id = c.tenant_id AND a.id = ANY (p_account_ids)
     WHERE c.tenant_id = p_tenant_id AND c.id = p_company_id;
END;
$$;
REVOKE ALL ON FUNCTION "finance".posting_context(uuid, uuid, uuid[]) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION "finance".posting_context(uuid, uuid, uuid[]) TO aibos_finance_role;
"""
