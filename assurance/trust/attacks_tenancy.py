"""Tenant isolation under attack: reading and writing another tenant's rows, raw SQL and the ORM
as the runtime roles (schema boundaries, config, the audit trail, role switching:
attacks_privileges)."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from aibos.tenancy import TenantContextMissing, TenantSwitchRefused, tenant_context
from finance.models import Company, Payment

from .base import (
    CONSTRAINT,
    GUARD,
    ORM,
    RLS,
    Expect,
    Got,
    Registry,
    attacker,
    expect_rows,
    sql,
)
from .dataset import Dataset

ISOLATION = ("CC6.1", "PI1.4")
WRITE_ISOLATION = ("CC6.1", "PI1.5")


def b_sees_posted(ds: Dataset) -> str | None:
    return expect_rows(
        "finance",
        ds.b.id,
        "SELECT status FROM finance.journal_entries WHERE id = %s",
        [ds.b.posted.pk],
        [("POSTED",)],
    )


def b_company_unchanged(ds: Dataset) -> str | None:
    return expect_rows(
        "finance",
        ds.b.id,
        "SELECT name, tenant_id FROM finance.companies WHERE id = %s",
        [ds.b.company.pk],
        [(ds.b.company.name, ds.b.tenant.id)],
    )


def a_company_unchanged(ds: Dataset) -> str | None:
    return expect_rows(
        "finance",
        ds.a.id,
        "SELECT name, tenant_id FROM finance.companies WHERE id = %s",
        [ds.a.company.pk],
        [(ds.a.company.name, ds.a.tenant.id)],
    )


def b_has_no_pwned_company(ds: Dataset) -> str | None:
    return expect_rows(
        "finance",
        ds.b.id,
        "SELECT count(*) FROM finance.companies WHERE code = 'PWNED'",
        [],
        [(0,)],
    )


def b_draft_unchanged(ds: Dataset) -> str | None:
    return expect_rows(
        "finance",
        ds.b.id,
        "SELECT count(*) FROM finance.journal_lines WHERE entry_id = %s",
        [ds.b.draft.pk],
        [(2,)],
    )


def b_payment_submitted(ds: Dataset) -> str | None:
    return expect_rows(
        "finance",
        ds.b.id,
        "SELECT status, (SELECT count(*) FROM finance.payment_approvals pa "
        "WHERE pa.tenant_id = p.tenant_id AND pa.payment_id = p.id) "
        "FROM finance.payments p WHERE id = %s",
        [ds.b.pay_quorum.pk],
        [("SUBMITTED", 0)],
    )


def b_sees_maker(ds: Dataset) -> str | None:
    return expect_rows(
        "kernel",
        ds.b.id,
        "SELECT email FROM kernel.users WHERE id = %s",
        [ds.b.maker.pk],
        [(ds.b.maker.email,)],
    )


def a_sees_own_entries(ds: Dataset) -> str | None:
    return expect_rows(
        "finance",
        ds.a.id,
        "SELECT count(*) FROM finance.journal_entries WHERE id IN (%s, %s)",
        [ds.a.posted.pk, ds.a.draft.pk],
        [(2,)],
    )


def _orm(work: Any) -> Got:
    """An ORM attempt: rows it saw or touched, or the refusal (a savepoint of the attack)."""
    from django.db import DatabaseError, transaction

    try:
        with transaction.atomic(using="finance"):
            return Got(rows=work())
    except (DatabaseError, PermissionError, TenantContextMissing, TenantSwitchRefused) as exc:
        return Got.of(exc)


def _in_a(ds: Dataset, work: Any) -> Any:
    def run() -> Any:
        with tenant_context(attacker(ds.a.id), using=["finance"]):
            return work()

    return run


def _nested_switch(ds: Dataset) -> int:
    with (
        tenant_context(attacker(ds.a.id), using=["finance"]),
        tenant_context(attacker(ds.b.id), using=["finance"]),
    ):
        return Company.objects.count()


def register(r: Registry) -> None:
    f, k = "finance", "kernel"
    # --- reading another tenant's rows ----------------------------------------------------
    r.add(
        name="tenancy.read_other_tenant_journal_sql",
        title="SELECT tenant B's posted journal by id as tenant A (raw SQL)",
        layer=RLS,
        tsc=ISOLATION,
        expect=Expect(rows=0),
        attempt=lambda ds: sql(
            f,
            ds.a.id,
            ("SELECT * FROM finance.journal_entries WHERE id = %s", [ds.b.posted.pk]),
        ),
        unchanged=b_sees_posted,
    )
    r.add(
        name="tenancy.read_other_tenant_by_tenant_id_sql",
        title="SELECT every journal WHERE tenant_id = B as tenant A (raw SQL)",
        layer=RLS,
        tsc=ISOLATION,
        expect=Expect(rows=0),
        attempt=lambda ds: sql(
            f,
            ds.a.id,
            ("SELECT * FROM finance.journal_entries WHERE tenant_id = %s", [ds.b.id]),
        ),
        unchanged=b_sees_posted,
    )
    r.add(
        name="tenancy.read_other_tenant_users_sql",
        title="SELECT tenant B's user by id as tenant A (kernel role, raw SQL)",
        layer=RLS,
        tsc=ISOLATION,
        role="aibos_kernel_role",
        expect=Expect(rows=0),
        attempt=lambda ds: sql(
            k, ds.a.id, ("SELECT * FROM kernel.users WHERE id = %s", [ds.b.maker.pk])
        ),
        unchanged=b_sees_maker,
    )
    r.add(
        name="tenancy.read_without_tenant_context",
        title="SELECT journals with no tenant set at all (fresh transaction, no set_config)",
        layer=RLS,
        tsc=ISOLATION,
        expect=Expect(rows=0),
        attempt=lambda ds: sql(f, None, "SELECT * FROM finance.journal_entries"),
        unchanged=a_sees_own_entries,
    )
    r.add(
        name="tenancy.forged_admin_flags",
        title="set_config('app.is_admin'/'app.bypass'/'app.user_id') then SELECT B's journal",
        layer=RLS,
        tsc=ISOLATION,
        expect=Expect(rows=0),
        attempt=lambda ds: sql(
            f,
            ds.a.id,
            "SELECT set_config('app.is_admin', 'true', true), "
            "set_config('app.bypass', 'on', true), "
            "set_config('app.user_id', gen_random_uuid()::text, true)",
            ("SELECT * FROM finance.journal_entries WHERE id = %s", [ds.b.posted.pk]),
        ),
        unchanged=b_sees_posted,
    )
    r.add(
        name="tenancy.row_security_off",
        title="set_config('row_security', 'off') then SELECT journals",
        layer=RLS,
        tsc=ISOLATION,
        expect=Expect(sqlstate="42501"),
        attempt=lambda ds: sql(
            f,
            ds.a.id,
            "SELECT set_config('row_security', 'off', true)",
            "SELECT * FROM finance.journal_entries",
        ),
        unchanged=b_sees_posted,
    )
    r.add(
        name="tenancy.orm_bare_queryset_read",
        title="ORM: a bare QuerySet (no tenant-scoped manager) for B's company, as tenant A",
        layer=RLS,
        tsc=ISOLATION,
        expect=Expect(rows=0),
        attempt=lambda ds: _orm(
            _in_a(
                ds,
                lambda: QuerySet(model=Company, using="finance").filter(pk=ds.b.company.pk).count(),
            )
        ),
        unchanged=b_company_unchanged,
    )
    r.add(
        name="tenancy.orm_scoped_read",
        title="ORM: Company.objects.filter(pk=<B's company>) as tenant A",
        layer=ORM,
        tsc=ISOLATION,
        expect=Expect(rows=0),
        attempt=lambda ds: _orm(
            _in_a(ds, lambda: Company.objects.filter(pk=ds.b.company.pk).count())
        ),
        unchanged=b_company_unchanged,
    )
    r.add(
        name="tenancy.orm_without_tenant_context",
        title="ORM: Company.objects.count() with no tenant context",
        layer=ORM,
        tsc=ISOLATION,
        expect=Expect(error="TenantContextMissing"),
        attempt=lambda ds: _orm(lambda: Company.objects.count()),
        unchanged=b_company_unchanged,
    )
    r.add(
        name="tenancy.nested_context_switch",
        title="Open tenant B's context inside tenant A's unit of work",
        layer=ORM,
        tsc=ISOLATION,
        expect=Expect(error="TenantSwitchRefused"),
        attempt=lambda ds: _orm(lambda: _nested_switch(ds)),
        unchanged=b_company_unchanged,
    )
    # --- writing another tenant's rows ----------------------------------------------------
    r.add(
        name="tenancy.update_other_tenant_sql",
        title="UPDATE tenant B's company name as tenant A (raw SQL)",
        layer=RLS,
        tsc=WRITE_ISOLATION,
        expect=Expect(rows=0),
        attempt=lambda ds: sql(
            f,
            ds.a.id,
            ("UPDATE finance.companies SET name = 'pwned' WHERE id = %s", [ds.b.company.pk]),
        ),
        unchanged=b_company_unchanged,
    )
    r.add(
        name="tenancy.delete_other_tenant_sql",
        title="DELETE the lines of tenant B's draft journal as tenant A (raw SQL)",
        layer=RLS,
        tsc=WRITE_ISOLATION,
        expect=Expect(rows=0),
        attempt=lambda ds: sql(
            f,
            ds.a.id,
            ("DELETE FROM finance.journal_lines WHERE entry_id = %s", [ds.b.draft.pk]),
        ),
        unchanged=b_draft_unchanged,
    )
    r.add(
        name="tenancy.insert_for_other_tenant_sql",
        title="INSERT a company carrying tenant B's id as tenant A (raw SQL)",
        layer=RLS,
        tsc=WRITE_ISOLATION,
        expect=Expect(sqlstate="42501"),
        attempt=lambda ds: sql(
            f,
            ds.a.id,
            (
                "INSERT INTO finance.companies (tenant_id, code, name, base_currency) "
                "VALUES (%s, 'PWNED', 'pwned', 'USD')",
                [ds.b.id],
            ),
        ),
        unchanged=b_has_no_pwned_company,
    )
    r.add(
        name="tenancy.move_row_to_other_tenant_sql",
        title="UPDATE tenant A's company to tenant_id = B (raw SQL; RLS WITH CHECK backs it)",
        layer=GUARD,
        tsc=WRITE_ISOLATION,
        # kernel.refuse_tenant_change (BEFORE UPDATE OF tenant_id) fires before WITH CHECK.
        expect=Expect(sqlstate="23000"),
        attempt=lambda ds: sql(
            f,
            ds.a.id,
            (
                "UPDATE finance.companies SET tenant_id = %s WHERE id = %s",
                [ds.b.id, ds.a.company.pk],
            ),
        ),
        unchanged=a_company_unchanged,
    )
    r.add(
        name="tenancy.key_to_other_tenant_row_sql",
        title="INSERT a line into A's draft on tenant B's account (raw SQL)",
        layer=CONSTRAINT,
        tsc=WRITE_ISOLATION,
        expect=Expect(sqlstate="23503", rule="finance_journalline_account_fk"),
        attempt=lambda ds: sql(
            f,
            ds.a.id,
            (
                "INSERT INTO finance.journal_lines (tenant_id, entry_id, account_id, debit, "
                "credit, currency, txn_amount, fx_rate, memo) "
                "VALUES (%s, %s, %s, 10, 0, 'USD', 10, 1, '')",
                [ds.a.id, ds.a.draft.pk, ds.b.accounts["5000"].pk],
            ),
        ),
        unchanged=b_draft_unchanged,
    )
    r.add(
        name="tenancy.orm_bare_queryset_update",
        title="ORM: bare QuerySet .update(status='APPROVED') on B's payment, as tenant A",
        layer=RLS,
        tsc=WRITE_ISOLATION,
        expect=Expect(rows=0),
        attempt=lambda ds: _orm(
            _in_a(
                ds,
                lambda: QuerySet(model=Payment, using="finance")
                .filter(pk=ds.b.pay_quorum.pk)
                .update(status="APPROVED"),
            )
        ),
        unchanged=b_payment_submitted,
    )
    r.add(
        name="tenancy.orm_bulk_create_other_tenant",
        title="ORM: bulk_create a company with tenant B's id, as tenant A (skips save())",
        layer=RLS,
        tsc=WRITE_ISOLATION,
        expect=Expect(sqlstate="42501"),
        attempt=lambda ds: _orm(
            _in_a(
                ds,
                lambda: len(
                    Company.objects.bulk_create(
                        [
                            Company(
                                tenant_id=ds.b.id,
                                code="PWNED",
                                name="pwned",
                                base_currency="USD",
                            )
                        ]
                    )
                ),
            )
        ),
        unchanged=b_has_no_pwned_company,
    )
    r.add(
        name="tenancy.orm_save_other_tenant",
        title="ORM: Company(tenant_id=B).save() as tenant A",
        layer=ORM,
        tsc=WRITE_ISOLATION,
        expect=Expect(error="PermissionError"),
        attempt=lambda ds: _orm(
            _in_a(
                ds,
                lambda: Company(
                    tenant_id=ds.b.id, code="PWNED", name="pwned", base_currency="USD"
                ).save(),
            )
        ),
        unchanged=b_has_no_pwned_company,
    )
