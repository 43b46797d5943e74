"""Approval matrices and their bands, payments and their approvals.

What every guard shares is in the package docstring and ``_common``.
"""

from __future__ import annotations

from aibos.db.triggers import Rendered, sql_literal, sql_values, table
from finance.triggers._common import (
    CHECK,
    ROW_IN_SESSION_TENANT,
    word,
)

# --- approval matrices ---------------------------------------------------------------------


@Rendered
def matrix_guard() -> str:
    from finance import models as m

    status, graph = m.ApprovalMatrix.Status, m.ApprovalMatrix.transitions
    draft = sql_literal(status.DRAFT)
    return f"""
{ROW_IN_SESSION_TENANT}IF TG_OP = 'INSERT' THEN
    IF NEW.status <> {sql_literal(graph.initial)} THEN
        RAISE EXCEPTION 'approval matrix % must be inserted as {word(graph.initial)} and activated by an UPDATE', NEW.id
            {CHECK}'finance_approvalmatrix_insert_draft';
    END IF;
    RETURN NEW;
END IF;
IF TG_OP = 'DELETE' THEN
    IF OLD.status <> {draft} THEN
        RAISE EXCEPTION 'approval matrix % is %: only drafts can be deleted', OLD.id, OLD.status
            {CHECK}'finance_approvalmatrix_frozen';
    END IF;
    RETURN OLD;
END IF;
IF (to_jsonb(NEW) - ARRAY['status', 'activated_at', 'retired_at', 'updated_at'])
   IS DISTINCT FROM (to_jsonb(OLD) - ARRAY['status', 'activated_at', 'retired_at', 'updated_at'])
   AND OLD.status <> {draft} THEN
    RAISE EXCEPTION 'approval matrix % is %: it cannot be edited; create a new version', OLD.id, OLD.status
        {CHECK}'finance_approvalmatrix_frozen';
END IF;
IF NEW.status IS DISTINCT FROM OLD.status THEN
    -- The graph is ApprovalMatrix.transitions (finance/models/payments.py).
    IF (OLD.status, NEW.status) NOT IN {sql_values(graph.pairs)} THEN
        RAISE EXCEPTION 'approval matrix %: % -> % is not an allowed transition', OLD.id, OLD.status, NEW.status
            {CHECK}'finance_approvalmatrix_transition';
    END IF;
    IF NEW.status = {sql_literal(status.ACTIVE)} THEN
        -- The bands must tile [0, infinity): start at 0, each begins where the previous ends,
        -- and only the last is open-ended.
        SELECT count(*),
               bool_and(CASE WHEN prev_max IS NULL THEN rn = 1 AND min_amount = 0 ELSE min_amount = prev_max END),
               bool_and((max_amount IS NULL) = (rn = total))
          INTO v_count, v_contiguous, v_open_last
          FROM (SELECT min_amount, max_amount,
                       lag(max_amount) OVER w AS prev_max,
                       row_number() OVER w AS rn,
                       count(*) OVER () AS total
                  FROM {table(m.ApprovalBand)}
                 WHERE tenant_id = NEW.tenant_id AND matrix_id = NEW.id
                WINDOW w AS (ORDER BY min_amount)) bands;
        IF v_count = 0 OR NOT v_contiguous OR NOT v_open_last THEN
            RAISE EXCEPTION 'approval matrix %: its bands must cover [0, infinity) without gaps or overlaps', NEW.id
                {CHECK}'finance_approvalmatrix_coverage';
        END IF;
        NEW.activated_at := now();
    ELSIF NEW.status = {sql_literal(status.RETIRED)} THEN
        NEW.retired_at := now();
    END IF;
END IF;
RETURN NEW;
"""


MATRIX_GUARD_DECLARE = [
    ("v_count", "bigint"),
    ("v_contiguous", "boolean"),
    ("v_open_last", "boolean"),
]


@Rendered
def band_guard() -> str:
    from finance import models as m

    return f"""
{ROW_IN_SESSION_TENANT}SELECT m.status INTO v_status FROM {table(m.ApprovalMatrix)} m
 WHERE m.tenant_id = COALESCE(NEW.tenant_id, OLD.tenant_id) AND m.id = COALESCE(NEW.matrix_id, OLD.matrix_id)
   FOR UPDATE;  -- serialises band edits of one matrix, so the overlap check below is race-free
IF v_status IS DISTINCT FROM {sql_literal(m.ApprovalMatrix.Status.DRAFT)} THEN
    RAISE EXCEPTION 'approval matrix % is %: its bands cannot change', COALESCE(NEW.matrix_id, OLD.matrix_id), v_status
        {CHECK}'finance_approvalmatrix_frozen';
END IF;
IF TG_OP = 'DELETE' THEN
    RETURN OLD;
END IF;
IF EXISTS (
    SELECT 1 FROM {table(m.ApprovalBand)} b
     WHERE b.tenant_id = NEW.tenant_id AND b.matrix_id = NEW.matrix_id AND b.id <> NEW.id
       AND numrange(b.min_amount, b.max_amount, '[)') && numrange(NEW.min_amount, NEW.max_amount, '[)')
) THEN
    RAISE EXCEPTION 'approval band [%, %) overlaps another band of matrix %', NEW.min_amount,
        COALESCE(NEW.max_amount::text, 'infinity'), NEW.matrix_id
        USING ERRCODE = '23P01', CONSTRAINT = 'finance_approvalband_no_overlap';
END IF;
RETURN NEW;
"""


# --- payments ------------------------------------------------------------------------------

# Columns that may change after DRAFT; everything else (amount, accounts, the policy snapshot)
# is frozen from submission on.
PAYMENT_MUTABLE = (
    "ARRAY['status', 'submitted_at', 'decided_at', 'paid_at', 'cancelled_at', "
    "'journal_entry_id', 'updated_at', 'version']"
)


@Rendered
def payment_guard() -> str:
    from finance import models as m

    status, graph = m.Payment.Status, m.Payment.transitions
    draft = sql_literal(status.DRAFT)
    approve = sql_literal(m.PaymentApproval.Decision.APPROVE)
    reject = sql_literal(m.PaymentApproval.Decision.REJECT)
    return f"""
{ROW_IN_SESSION_TENANT}IF TG_OP = 'INSERT' THEN
    IF NEW.status <> {sql_literal(graph.initial)} THEN
        RAISE EXCEPTION 'payment % must be inserted as {word(graph.initial)}', NEW.id {CHECK}'finance_payment_insert_draft';
    END IF;
ELSE
    IF OLD.status <> {draft}
       AND (to_jsonb(NEW) - {PAYMENT_MUTABLE}) IS DISTINCT FROM (to_jsonb(OLD) - {PAYMENT_MUTABLE}) THEN
        RAISE EXCEPTION 'payment % is %: its amount, accounts and approval policy are frozen', OLD.id, OLD.status
            {CHECK}'finance_payment_frozen';
    END IF;
    -- The graph is Payment.transitions (finance/models/payments.py), which the services check.
    IF NEW.status IS DISTINCT FROM OLD.status AND (OLD.status, NEW.status) NOT IN {sql_values(graph.pairs)} THEN
        RAISE EXCEPTION 'payment %: % -> % is not an allowed transition', OLD.id, OLD.status, NEW.status
            {CHECK}'finance_payment_transition';
    END IF;
    IF OLD.status <> {draft} AND NEW.status IS NOT DISTINCT FROM OLD.status
       AND NEW.journal_entry_id IS DISTINCT FROM OLD.journal_entry_id THEN
        RAISE EXCEPTION 'payment %: its journal entry is set only when it is marked {word(status.PAID)}', OLD.id
            {CHECK}'finance_payment_frozen';
    END IF;
END IF;

IF NEW.status = {draft} THEN
    IF NOT EXISTS (
        SELECT 1 FROM {table(m.BankAccount)} ba
         WHERE ba.tenant_id = NEW.tenant_id AND ba.id = NEW.bank_account_id
           AND ba.company_id = NEW.company_id AND ba.currency = NEW.currency AND ba.is_active
    ) OR NOT EXISTS (
        SELECT 1 FROM {table(m.Account)} a
         WHERE a.tenant_id = NEW.tenant_id AND a.id = NEW.debit_account_id
           AND a.company_id = NEW.company_id AND a.currency = NEW.currency AND a.is_active
    ) THEN
        RAISE EXCEPTION 'payment %: its bank account and debit account must be active, of company % and in %',
            NEW.id, NEW.company_id, NEW.currency {CHECK}'finance_payment_accounts';
    END IF;
    RETURN NEW;
END IF;
IF TG_OP = 'INSERT' OR NEW.status IS NOT DISTINCT FROM OLD.status THEN
    RETURN NEW;
END IF;

IF NEW.status = {sql_literal(status.SUBMITTED)} THEN
    -- The snapshot must be exactly the band of the company's ACTIVE matrix that holds the amount.
    IF NOT EXISTS (
        SELECT 1 FROM {table(m.ApprovalBand)} b
          JOIN {table(m.ApprovalMatrix)} m ON m.tenant_id = b.tenant_id AND m.id = b.matrix_id
         WHERE b.tenant_id = NEW.tenant_id AND b.id = NEW.policy_band_id AND m.id = NEW.policy_matrix_id
           AND m.status = {sql_literal(m.ApprovalMatrix.Status.ACTIVE)} AND m.company_id = NEW.company_id AND m.payment_type = NEW.payment_type
           AND m.currency = NEW.policy_currency
           AND b.min_amount <= NEW.policy_amount AND (b.max_amount IS NULL OR NEW.policy_amount < b.max_amount)
           AND b.required_approvals = NEW.required_approvals
           AND b.approver_roles = NEW.approver_roles AND b.required_roles = NEW.required_roles
    ) OR NOT (CASE WHEN NEW.policy_currency = NEW.currency
            THEN NEW.policy_amount = NEW.amount AND NEW.policy_fx_rate_id IS NULL
            ELSE NEW.policy_amount = round(NEW.amount * NEW.policy_fx_rate, "finance".currency_exponent(NEW.policy_currency))
                 AND EXISTS (SELECT 1 FROM {table(m.FxRate)} r
                              WHERE r.tenant_id = NEW.tenant_id AND r.id = NEW.policy_fx_rate_id
                                AND r.base = NEW.currency AND r.quote = NEW.policy_currency
                                AND r.rate = NEW.policy_fx_rate)
         END) THEN
        RAISE EXCEPTION 'payment %: the approval policy snapshot does not match the active approval matrix', NEW.id
            {CHECK}'finance_payment_policy_snapshot';
    END IF;
    NEW.submitted_at := now();
ELSIF NEW.status = {sql_literal(status.APPROVED)} THEN
    SELECT count(*) FILTER (WHERE decision = {approve}),
           count(*) FILTER (WHERE decision = {reject}),
           array_agg(approver_role) FILTER (WHERE decision = {approve})
      INTO v_approvals, v_rejections, v_roles
      FROM {table(m.PaymentApproval)}
     WHERE tenant_id = NEW.tenant_id AND payment_id = NEW.id
       AND approval_grant IS NOT NULL;  -- only decisions proven by an identity-plane grant count
    IF v_rejections > 0 OR v_approvals < NEW.required_approvals
       OR NOT (NEW.required_roles::text[] <@ COALESCE(v_roles, ARRAY[]::text[])) THEN
        RAISE EXCEPTION 'payment % has % of % approvals (required roles %, present %, rejections %)',
            NEW.id, v_approvals, NEW.required_approvals, NEW.required_roles, COALESCE(v_roles, ARRAY[]::text[]), v_rejections
            {CHECK}'finance_payment_quorum';
    END IF;
    NEW.decided_at := now();
ELSIF NEW.status = {sql_literal(status.REJECTED)} THEN
    IF NOT EXISTS (SELECT 1 FROM {table(m.PaymentApproval)}
                    WHERE tenant_id = NEW.tenant_id AND payment_id = NEW.id AND decision = {reject}
                      AND approval_grant IS NOT NULL) THEN
        RAISE EXCEPTION 'payment % can only be {word(status.REJECTED)} by a recorded rejection', NEW.id
            {CHECK}'finance_payment_quorum';
    END IF;
    NEW.decided_at := now();
ELSIF NEW.status = {sql_literal(status.PAID)} THEN
    IF (SELECT (e.status, e.company_id) FROM {table(m.JournalEntry)} e  -- by key, as above
         WHERE e.tenant_id = NEW.tenant_id AND e.id = NEW.journal_entry_id)
       IS DISTINCT FROM ({sql_literal(m.JournalEntry.Status.POSTED)}::varchar, NEW.company_id) THEN
        RAISE EXCEPTION 'payment % can only be {word(status.PAID)} with a {word(m.JournalEntry.Status.POSTED)} journal entry of its company', NEW.id
            {CHECK}'finance_payment_paid_entry';
    END IF;
    NEW.paid_at := now();
ELSIF NEW.status = {sql_literal(status.CANCELLED)} THEN
    NEW.cancelled_at := now();
END IF;
RETURN NEW;
"""


PAYMENT_GUARD_DECLARE = [
    ("v_approvals", "bigint"),
    ("v_rejections", "bigint"),
    ("v_roles", "text[]"),
]


def approval_proof() -> str:
    """The proof an approval carries: the approver is an active user of the tenant who holds the
    role, and the identity plane signed a grant for exactly this (tenant, payment, approver,
    role, decision) that has not expired.

    Runs inside the approval guard, which is SECURITY DEFINER: the owner may read kernel users
    and roles and execute kernel.approval_grant_signature (which reads the key); the finance
    role may do none of it. Still under FORCE RLS, and filtered explicitly on the row's tenant.
    Each refusal has its own rule name.
    """
    from kernel import models as k

    return f"""
IF NEW.approver ~ '^user:[0-9a-f]{{8}}-[0-9a-f]{{4}}-[0-9a-f]{{4}}-[0-9a-f]{{4}}-[0-9a-f]{{12}}$' THEN
    v_user := substr(NEW.approver, 6)::uuid;
END IF;
IF v_user IS NULL OR NOT EXISTS (
    SELECT 1 FROM {table(k.User)} u
     WHERE u.tenant_id = NEW.tenant_id AND u.id = v_user AND u.is_active AND u.deleted_at IS NULL
) THEN
    RAISE EXCEPTION 'approver % is not an active user of this tenant', NEW.approver
        {CHECK}'finance_paymentapproval_approver_unknown';
END IF;
IF NOT EXISTS (
    SELECT 1 FROM {table(k.UserRole)} ur
      JOIN {table(k.Role)} r ON r.tenant_id = ur.tenant_id AND r.id = ur.role_id
     WHERE ur.tenant_id = NEW.tenant_id AND ur.user_id = v_user
       AND r.name = NEW.approver_role AND r.deleted_at IS NULL
) THEN
    RAISE EXCEPTION 'approver % does not hold role %', NEW.approver, NEW.approver_role
        {CHECK}'finance_paymentapproval_role_not_held';
END IF;
IF NEW.approval_grant IS NULL OR jsonb_typeof(NEW.approval_grant) <> 'object' THEN
    RAISE EXCEPTION 'the decision of % on payment % carries no approval grant from the identity plane',
        NEW.approver, NEW.payment_id {CHECK}'finance_paymentapproval_grant_missing';
END IF;
IF NEW.approval_grant ->> 'payment' IS DISTINCT FROM NEW.payment_id::text THEN
    RAISE EXCEPTION 'the approval grant was issued for payment %, not for payment %',
        COALESCE(NEW.approval_grant ->> 'payment', 'none'), NEW.payment_id
        {CHECK}'finance_paymentapproval_grant_other_payment';
END IF;
IF (NEW.approval_grant ->> 'tenant', NEW.approval_grant ->> 'approver', NEW.approval_grant ->> 'role',
    NEW.approval_grant ->> 'decision')
   IS DISTINCT FROM (NEW.tenant_id::text, NEW.approver, NEW.approver_role, NEW.decision) THEN
    RAISE EXCEPTION 'the approval grant was issued for another tenant, approver, role or decision (%, %, %)',
        NEW.approval_grant ->> 'approver', NEW.approval_grant ->> 'role', NEW.approval_grant ->> 'decision'
        {CHECK}'finance_paymentapproval_grant_mismatch';
END IF;
IF COALESCE(NEW.approval_grant ->> 'expires', '') ~ '^[0-9]{{1,12}}$' THEN
    v_expires := (NEW.approval_grant ->> 'expires')::bigint;
END IF;
IF v_expires IS NULL OR NEW.approval_grant ->> 'signature' IS DISTINCT FROM "kernel".approval_grant_signature(
        NEW.tenant_id, NEW.payment_id, NEW.approver, NEW.approver_role, NEW.decision, v_expires) THEN
    RAISE EXCEPTION 'the approval grant for % on payment % has no valid signature', NEW.approver, NEW.payment_id
        {CHECK}'finance_paymentapproval_grant_signature';
END IF;
IF v_expires <= extract(epoch FROM clock_timestamp()) THEN
    RAISE EXCEPTION 'the approval grant for % on payment % expired at %', NEW.approver, NEW.payment_id,
        to_timestamp(v_expires) {CHECK}'finance_paymentapproval_grant_expired';
END IF;
"""


@Rendered
def approval_guard() -> str:
    from finance import models as m

    submitted = sql_literal(m.Payment.Status.SUBMITTED)
    approve = sql_literal(m.PaymentApproval.Decision.APPROVE)
    return f"""
{ROW_IN_SESSION_TENANT}-- FOR UPDATE: approvers racing for the last slot queue here; the loser sees the outcome.
SELECT p.status, p.required_approvals, p.approver_roles, p.required_roles
  INTO v_status, v_required, v_eligible, v_required_roles
  FROM {table(m.Payment)} p
 WHERE p.tenant_id = NEW.tenant_id AND p.id = NEW.payment_id
   FOR UPDATE;
IF v_status IS DISTINCT FROM {submitted} THEN
    RAISE EXCEPTION 'payment % is % and no longer awaits approval', NEW.payment_id, COALESCE(v_status, 'missing')
        {CHECK}'finance_paymentapproval_open';
END IF;
{approval_proof()}IF NOT (NEW.approver_role = ANY(v_eligible)) THEN
    RAISE EXCEPTION 'role % may not approve payment % (eligible: %)', NEW.approver_role, NEW.payment_id, v_eligible
        {CHECK}'finance_paymentapproval_role';
END IF;
SELECT count(*), COALESCE(array_agg(approver_role), ARRAY[]::text[]) INTO v_count, v_present
  FROM {table(m.PaymentApproval)}
 WHERE tenant_id = NEW.tenant_id AND payment_id = NEW.payment_id AND decision = {approve}
   AND approval_grant IS NOT NULL;
IF NEW.decision = {approve} AND v_count >= v_required THEN
    RAISE EXCEPTION 'payment % already has its % approvals', NEW.payment_id, v_required
        {CHECK}'finance_paymentapproval_open';
END IF;
-- Slots left must still fit every required role that has not approved yet.
IF NEW.decision = {approve} AND NOT (NEW.approver_role = ANY(v_required_roles)) AND
   v_required - v_count <= (SELECT count(*) FROM unnest(v_required_roles) r WHERE NOT (r = ANY(v_present))) THEN
    RAISE EXCEPTION 'payment %: the remaining approval must come from %', NEW.payment_id,
        (SELECT array_agg(r) FROM unnest(v_required_roles) r WHERE NOT (r = ANY(v_present)))
        {CHECK}'finance_paymentapproval_required_role';
END IF;
NEW.level := v_count + 1;
NEW.decided_at := now();
RETURN NEW;
"""


APPROVAL_GUARD_DECLARE = [
    ("v_status", "text"),
    ("v_required", "integer"),
    ("v_eligible", "text[]"),
    ("v_required_roles", "text[]"),
    ("v_count", "integer"),
    ("v_present", "text[]"),
    ("v_user", "uuid"),
    ("v_expires", "bigint"),
]
