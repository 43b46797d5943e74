"""SQL functions of the posting path that the code declares: one statement per journal entry.

``finance/migrations/0011_ledger_fail_closed.py`` deployed them, frozen (0009 the first version);
this is the current declaration, which ``tests/aibos/test_sql_functions.py`` compares with the catalog.
Changing a function here without a migration that deploys the change fails that test.

``finance.journal_entry_create`` is SECURITY INVOKER: it runs as the caller
(``aibos_finance_role``), so RLS, the composite keys and every guard apply to its statements
exactly as to raw SQL. It is the service's validation and conversion moved next to the data (one
round trip instead of a read, a write and their transaction), not a path around any rule: the
guards check again what it computed.

A refusal of the *request* (a missing company or account, too many decimals, no FX rate, an
amount beyond the limits) raises SQLSTATE 22023 (invalid_parameter_value) with ``CONSTRAINT`` set to a ``finance_request_*``
rule and ``DETAIL`` a JSON object of the values its message needs; the journals service turns it
into the same 404/422 it always answered (``finance/services/journals.py``).
"""

from __future__ import annotations

from finance.limits import AMOUNT_MAX

# Request refusals: rule -> the DETAIL keys the service reads.
REQUEST_COMPANY_MISSING = "finance_request_company_missing"
REQUEST_ACCOUNT_MISSING = "finance_request_account_missing"
REQUEST_WRONG_COMPANY = "finance_request_wrong_company"
REQUEST_SIDE = "finance_request_side"
REQUEST_DECIMALS = "finance_request_decimals"
REQUEST_NO_FX_RATE = "finance_request_no_fx_rate"
REQUEST_AMOUNT_LIMIT = "finance_request_amount_limit"
REQUEST_SQLSTATE = "22023"  # invalid_parameter_value

_REFUSE = "RAISE EXCEPTION USING ERRCODE = '22023', CONSTRAINT = '{rule}', MESSAGE = {message}, DETAIL = jsonb_build_object({detail})::text"


def _refuse(rule: str, message: str, detail: str) -> str:
    return _REFUSE.format(rule=rule, message=message, detail=detail)


POSTING_FUNCTIONS_SQL = (
    r"""CREATE OR REPLACE FUNCTION "finance".journal_entry_create(
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
    v_max CONSTANT numeric := """
    + str(AMOUNT_MAX)
    + r""";
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
    v_total numeric;
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
        """
    + _refuse(
        REQUEST_COMPANY_MISSING,
        "format('Company %s does not exist.', p_company_id)",
        "'id', p_company_id",
    )
    + r""";
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
            """
    + _refuse(
        REQUEST_ACCOUNT_MISSING,
        "format('Account %s does not exist.', r.first_missing)",
        "'id', r.first_missing",
    )
    + r""";
        END IF;
        v_field := format('lines[%s].amount', r.n - 1);
        IF r.company_id <> p_company_id THEN
            """
    + _refuse(
        REQUEST_WRONG_COMPANY,
        "format('Account %s belongs to another company.', r.account_id)",
        "'id', r.account_id",
    )
    + r""";
        END IF;
        IF r.side IS NULL OR r.side NOT IN ('debit', 'credit') THEN
            """
    + _refuse(
        REQUEST_SIDE,
        "format('%s: a side is debit or credit, not %s.', v_field, r.side)",
        "'field', v_field, 'side', r.side",
    )
    + r""";
        END IF;
        IF r.amount <> round(r.amount, "finance".currency_exponent(r.currency)) THEN
            """
    + _refuse(
        REQUEST_DECIMALS,
        "format('%s has more decimals than %s allows.', r.amount, r.currency)",
        "'amount', r.amount::text, 'currency', r.currency, "
        "'places', \"finance\".currency_exponent(r.currency)",
    )
    + r""";
        END IF;
        IF r.currency <> v_base AND r.fx_id IS NULL THEN
            """
    + _refuse(
        REQUEST_NO_FX_RATE,
        "format('No %s/%s FX rate is valid on %s.', r.currency, v_base, p_entry_date)",
        "'base', r.currency, 'quote', v_base, 'date', p_entry_date",
    )
    + r""";
        END IF;
        IF r.amount > v_max THEN
            """
    + _refuse(
        REQUEST_AMOUNT_LIMIT,
        "format('%s: %s %s is beyond the limit.', v_field, r.amount, r.currency)",
        "'field', v_field, 'amount', r.amount::text, 'currency', r.currency, 'what', 'per line'",
    )
    + r""";
        END IF;
        v_amount := CASE WHEN r.currency = v_base THEN r.amount ELSE round(r.amount * r.fx_rate, v_exp) END;
        IF v_amount > v_max THEN
            """
    + _refuse(
        REQUEST_AMOUNT_LIMIT,
        "format('%s: %s %s is beyond the limit.', v_field, v_amount, v_base)",
        "'field', v_field, 'amount', v_amount::text, 'currency', v_base, "
        "'what', format('per line once converted from %s %s', r.amount, r.currency)",
    )
    + r""";
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
        -- The debits first, as the service always named them.
        v_total := CASE WHEN v_total_debit > v_max THEN v_total_debit ELSE v_total_credit END;
        """
    + _refuse(
        REQUEST_AMOUNT_LIMIT,
        "format('lines: %s %s is beyond the limit.', v_total, v_base)",
        "'field', 'lines', 'amount', v_total::text, "
        "'currency', v_base, 'what', CASE WHEN v_total_debit > v_max "
        "THEN 'for an entry''s debits' ELSE 'for an entry''s credits' END",
    )
    + r""";
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
        -- RETURNING shows the entry as inserted: a draft's count is its lines' (the line
        -- trigger counts them in at the end of the statement).
        SELECT to_jsonb(e) || jsonb_build_object(
                   'line_count', cardinality(p_accounts),
                   'lines', COALESCE((SELECT jsonb_agg(to_jsonb(l) ORDER BY l.line_no) FROM l),
                                     '[]'::jsonb))
          INTO v_result FROM e;
    EXCEPTION WHEN unique_violation THEN
        -- Only a concurrent twin with the same idempotency key: it committed first, return its
        -- entry (this insert waited for it, so its row is visible now).
        GET STACKED DIAGNOSTICS v_constraint = CONSTRAINT_NAME;
        IF v_constraint IS DISTINCT FROM 'finance_journalentry_idempotency_unique' THEN
            RAISE;
        END IF;
        v_result := "finance".journal_entry_as_json(p_tenant_id, NULL, p_idempotency_key);
        IF v_result IS NULL THEN
            RAISE;  -- a snapshot older than the twin's commit (REPEATABLE READ): retry
        END IF;
        RETURN jsonb_build_object('created', false, 'entry', v_result);
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
)
