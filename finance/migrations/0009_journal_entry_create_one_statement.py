"""Posting in one statement: ``finance.journal_entry_create(...)`` now validates and converts the
request's lines itself (company, accounts, decimals, the FX rate valid on the entry date, the
amount limits: each refusal a ``finance_request_*`` rule with its values in DETAIL), answers an
idempotent replay with the entry it created, and inserts the entry (POSTED when asked, numbered
and checked by the guards once its lines are in) and its lines in one INSERT. It returns the
entry and its lines as JSON, so the service reads nothing back. ``posting_context``, the read the
service sent before, is gone.

SECURITY INVOKER, as before: every protection applies to its statements as to raw SQL. The SQL is
frozen here, not imported from live code.
"""

from django.db import migrations

CREATE = r"""
DROP FUNCTION "finance".journal_entry_create(uuid, uuid, uuid, date, text, text, text, text, text,
    jsonb, jsonb, boolean);
DROP FUNCTION "finance".posting_context(uuid, uuid, uuid[]);
CREATE OR REPLACE FUNCTION "finance".journal_entry_create(
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
    p_accounts uuid[],
    p_sides text[],
    p_amounts numeric[],
    p_memos text[],
    p_post boolean
) RETURNS jsonb
LANGUAGE plpgsql SECURITY INVOKER SET search_path = pg_catalog, pg_temp
AS $$
-- Returns {"created": bool, "entry": the entry's row with "lines": [its rows]}. With an
-- idempotency key already used, the entry it created (the caller compares the request hash).
DECLARE
    v_max CONSTANT numeric := 999999999999999.9999;
    v_base text;
    v_exp integer;
    v_constraint text;
    r record;
    v_field text;
    v_amount numeric;
    v_debits numeric[] := '{}';
    v_credits numeric[] := '{}';
    v_currencies text[] := '{}';
    v_fx_ids uuid[] := '{}';
    v_fx_rates numeric[] := '{}';
    v_total_debit numeric := 0;
    v_total_credit numeric := 0;
    v_result jsonb;
BEGIN
    IF p_idempotency_key IS NOT NULL THEN
        v_result := "finance".journal_entry_as_json(p_tenant_id, NULL, p_idempotency_key);
        IF v_result IS NOT NULL THEN
            RETURN jsonb_build_object('created', false, 'entry', v_result);
        END IF;
    END IF;

    SELECT c.base_currency INTO v_base FROM "finance"."companies" c
     WHERE c.tenant_id = p_tenant_id AND c.id = p_company_id;
    IF v_base IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = '22023', CONSTRAINT = 'finance_request_company_missing', MESSAGE = format('Company %s does not exist.', p_company_id), DETAIL = jsonb_build_object('id', p_company_id)::text;
    END IF;
    v_exp := "finance".currency_exponent(v_base);
    -- Each line in the company currency at the rate valid on the entry date, rounded half away
    -- from zero to the company currency's minor units (docs/ledger.md, "Money").
    FOR r IN
        SELECT i.n, i.account_id, i.side, i.amount, a.company_id, a.currency::text AS currency,
               fx.id AS fx_id, fx.rate AS fx_rate,
               min(i.account_id::text) FILTER (WHERE a.id IS NULL) OVER () AS first_missing
          FROM unnest(p_accounts, p_sides, p_amounts) WITH ORDINALITY AS i(account_id, side, amount, n)
          LEFT JOIN "finance"."accounts" a ON a.tenant_id = p_tenant_id AND a.id = i.account_id
          LEFT JOIN LATERAL (
                SELECT f.id, f.rate FROM "finance"."fx_rates" f
                 WHERE f.tenant_id = p_tenant_id AND f.base = a.currency AND f.quote = v_base
                   AND f.valid_from <= p_entry_date AND (f.valid_to IS NULL OR p_entry_date < f.valid_to)
                 ORDER BY f.valid_from DESC LIMIT 1
          ) fx ON a.currency <> v_base
         ORDER BY i.n
    LOOP
        -- Any account missing (the first by id): a 404 before any other refusal.
        IF r.first_missing IS NOT NULL THEN
            RAISE EXCEPTION USING ERRCODE = '22023', CONSTRAINT = 'finance_request_account_missing', MESSAGE = format('Account %s does not exist.', r.first_missing), DETAIL = jsonb_build_object('id', r.first_missing)::text;
        END IF;
        v_field := format('lines[%s].amount', r.n - 1);
        IF r.company_id <> p_company_id THEN
            RAISE EXCEPTION USING ERRCODE = '22023', CONSTRAINT = 'finance_request_wrong_company', MESSAGE = format('Account %s belongs to another company.', r.account_id), DETAIL = jsonb_build_object('id', r.account_id)::text;
        END IF;
        IF r.side IS NULL OR r.side NOT IN ('debit', 'credit') THEN
            RAISE EXCEPTION USING ERRCODE = '22023', CONSTRAINT = 'finance_request_side', MESSAGE = format('%s: a side is debit or credit, not %s.', v_field, r.side), DETAIL = jsonb_build_object('field', v_field, 'side', r.side)::text;
        END IF;
        IF r.amount <> round(r.amount, "finance".currency_exponent(r.currency)) THEN
            RAISE EXCEPTION USING ERRCODE = '22023', CONSTRAINT = 'finance_request_decimals', MESSAGE = format('%s has more decimals than %s allows.', r.amount, r.currency), DETAIL = jsonb_build_object('amount', r.amount::text, 'currency', r.currency, 'places', "finance".currency_exponent(r.currency))::text;
        END IF;
        IF r.currency <> v_base AND r.fx_id IS NULL THEN
            RAISE EXCEPTION USING ERRCODE = '22023', CONSTRAINT = 'finance_request_no_fx_rate', MESSAGE = format('No %s/%s FX rate is valid on %s.', r.currency, v_base, p_entry_date), DETAIL = jsonb_build_object('base', r.currency, 'quote', v_base, 'date', p_entry_date)::text;
        END IF;
        IF r.amount > v_max THEN
            RAISE EXCEPTION USING ERRCODE = '22023', CONSTRAINT = 'finance_request_amount_limit', MESSAGE = format('%s: %s %s is beyond the limit.', v_field, r.amount, r.currency), DETAIL = jsonb_build_object('field', v_field, 'amount', r.amount::text, 'currency', r.currency, 'what', 'per line')::text;
        END IF;
        v_amount := CASE WHEN r.currency = v_base THEN r.amount ELSE round(r.amount * r.fx_rate, v_exp) END;
        IF v_amount > v_max THEN
            RAISE EXCEPTION USING ERRCODE = '22023', CONSTRAINT = 'finance_request_amount_limit', MESSAGE = format('%s: %s %s is beyond the limit.', v_field, v_amount, v_base), DETAIL = jsonb_build_object('field', v_field, 'amount', v_amount::text, 'currency', v_base, 'what', format('per line once converted from %s %s', r.amount, r.currency))::text;
        END IF;
        v_debits := v_debits || CASE WHEN r.side = 'debit' THEN v_amount ELSE 0 END;
        v_credits := v_credits || CASE WHEN r.side = 'credit' THEN v_amount ELSE 0 END;
        v_currencies := v_currencies || r.currency;
        v_fx_ids := v_fx_ids || r.fx_id;
        v_fx_rates := v_fx_rates || COALESCE(r.fx_rate, 1);
        IF r.side = 'debit' THEN
            v_total_debit := v_total_debit + v_amount;
        ELSE
            v_total_credit := v_total_credit + v_amount;
        END IF;
    END LOOP;
    IF v_total_debit > v_max OR v_total_credit > v_max THEN
        RAISE EXCEPTION USING ERRCODE = '22023', CONSTRAINT = 'finance_request_amount_limit', MESSAGE = format('lines: %s %s is beyond the limit.', GREATEST(v_total_debit, v_total_credit), v_base), DETAIL = jsonb_build_object('field', 'lines', 'amount', GREATEST(v_total_debit, v_total_credit)::text, 'currency', v_base, 'what', CASE WHEN v_total_debit > v_max THEN 'for an entry''s debits' ELSE 'for an entry''s credits' END)::text;
    END IF;

    -- One statement: the entry (POSTED when asked: the guards number and check it once its lines
    -- are in) and its lines.
    BEGIN
        WITH e AS (
            INSERT INTO "finance"."journal_entries" (id, tenant_id, company_id, entry_date, status,
                reference, memo, posted_by, created_by, idempotency_key, request_hash,
                request_payload, line_count)
            VALUES (p_id, p_tenant_id, p_company_id, p_entry_date,
                CASE WHEN p_post THEN 'POSTED' ELSE 'DRAFT' END, p_reference, p_memo, '',
                p_created_by, p_idempotency_key, p_request_hash, p_request_payload,
                cardinality(p_accounts))
            RETURNING *
        ), l AS (
            INSERT INTO "finance"."journal_lines" (id, tenant_id, entry_id, line_no, account_id,
                debit, credit, currency, txn_amount, fx_rate_id, fx_rate, memo)
            SELECT gen_random_uuid(), p_tenant_id, p_id, i.n, i.account_id, i.debit, i.credit,
                   i.currency, i.amount, i.fx_id, i.fx_rate, COALESCE(i.memo, '')
              FROM unnest(p_accounts, v_debits, v_credits, v_currencies, p_amounts, v_fx_ids,
                          v_fx_rates, p_memos)
                   WITH ORDINALITY AS i(account_id, debit, credit, currency, amount, fx_id,
                                        fx_rate, memo, n)
            RETURNING *
        )
        SELECT to_jsonb(e) || jsonb_build_object('lines', COALESCE(
                   (SELECT jsonb_agg(to_jsonb(l) ORDER BY l.line_no) FROM l), '[]'::jsonb))
          INTO v_result FROM e;
    EXCEPTION WHEN unique_violation THEN
        -- Only a concurrent twin with the same idempotency key: it committed first, return its
        -- entry (this insert waited for it, so its row is visible now).
        GET STACKED DIAGNOSTICS v_constraint = CONSTRAINT_NAME;
        IF v_constraint IS DISTINCT FROM 'finance_journalentry_idempotency_unique' THEN
            RAISE;
        END IF;
        RETURN jsonb_build_object(
            'created', false,
            'entry', "finance".journal_entry_as_json(p_tenant_id, NULL, p_idempotency_key));
    END;
    RETURN jsonb_build_object('created', true, 'entry', v_result);
END;
$$;
REVOKE ALL ON FUNCTION "finance".journal_entry_create(uuid, uuid, uuid, date, text, text, text,
    text, text, jsonb, uuid[], text[], numeric[], text[], boolean) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION "finance".journal_entry_create(uuid, uuid, uuid, date, text, text, text,
    text, text, jsonb, uuid[], text[], numeric[], text[], boolean) TO aibos_finance_role;

CREATE OR REPLACE FUNCTION "finance".journal_entry_as_json(p_tenant_id uuid, p_id uuid, p_idempotency_key text)
RETURNS jsonb
LANGUAGE plpgsql STABLE SECURITY INVOKER SET search_path = pg_catalog, pg_temp
AS $$
-- An entry (by id, or else by the idempotency key that created it) with its lines, as
-- journal_entry_create returns a new one; NULL when there is none.
DECLARE
    v_entry "finance"."journal_entries";
BEGIN
    IF p_id IS NOT NULL THEN
        SELECT * INTO v_entry FROM "finance"."journal_entries" e
         WHERE e.tenant_id = p_tenant_id AND e.id = p_id;
    ELSE
        SELECT * INTO v_entry FROM "finance"."journal_entries" e
         WHERE e.tenant_id = p_tenant_id AND e.idempotency_key = p_idempotency_key;
    END IF;
    IF v_entry.id IS NULL THEN
        RETURN NULL;
    END IF;
    RETURN to_jsonb(v_entry) || jsonb_build_object('lines', COALESCE(
        (SELECT jsonb_agg(to_jsonb(l) ORDER BY l.line_no, l.id) FROM "finance"."journal_lines" l
          WHERE l.tenant_id = p_tenant_id AND l.entry_id = v_entry.id), '[]'::jsonb));
END;
$$;
REVOKE ALL ON FUNCTION "finance".journal_entry_as_json(uuid, uuid, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION "finance".journal_entry_as_json(uuid, uuid, text) TO aibos_finance_role;
"""

# Backwards: 0007's two functions as 0007 deployed them.
DROP = r"""
DROP FUNCTION "finance".journal_entry_create(uuid, uuid, uuid, date, text, text, text, text, text,
    jsonb, uuid[], text[], numeric[], text[], boolean);
DROP FUNCTION "finance".journal_entry_as_json(uuid, uuid, text);

CREATE FUNCTION "finance".journal_entry_create(
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

CREATE FUNCTION "finance".posting_context(p_tenant_id uuid, p_company_id uuid, p_account_ids uuid[])
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


class Migration(migrations.Migration):
    dependencies = [
        ("finance", "0008_ledger_insert_posted"),
    ]

    operations = [migrations.RunSQL(CREATE, DROP)]
