"""Plan shapes of every list query: a page costs the page, not the tenant's rows.

Query-count tests cannot see a list that aggregates or sorts the whole tenant to cut one page.
Here a tenant with enough rows to matter (tens of thousands of entries, lines, payments and
audit events; thousands of companies, accounts and rates) and a second tenant are bulk-loaded
once as the owner (bench/list_scale.py, the guards' effects reproduced) and analyzed; then each
list runs through its real code path (selector + keyset paginator, or the admin changelist) and
every query it sent on the list's table is EXPLAINed as the runtime role inside the tenant
context (so the RLS predicate is in the plan). The plan must read a tenant-leading index in list
order: no Sort, no Seq Scan, no aggregate (an entry's line count is a column of its row).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from django.db import connections
from django.db.models import Count
from django.test import Client
from django.test.utils import CaptureQueriesContext
from rest_framework.request import Request
from rest_framework.test import APIRequestFactory

from aibos.pagination import KeysetPaginator
from aibos.tenancy import tenant_context, without_variables
from bench.list_scale import analyze, bulk, load_balances, load_books, load_entries, load_payments
from finance import selectors
from finance.models import Company, JournalEntry, Payment
from kernel.models import Tenant
from tests.conftest import truncate_governed_tables
from tests.factories import PASSWORD, TenantFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True, databases="__all__")

ENTRIES = 20_000
COMPANIES = 2_000
FX_RATES = 20_000
CROWD_EVENTS = 200_000
CROWD_AUDIT = """
INSERT INTO kernel.audit_events (tenant_id, occurred_at, schema_name, table_name, row_id,
    operation, actor, db_role, txid)
SELECT md5('crowd' || g %% 50)::uuid, now(), 'kernel', 'sessions', md5('s' || g)::uuid::text,
       'INSERT', 'login', 'aibos_kernel_role', txid_current()
  FROM generate_series(1, %s) g
"""
BY_CODE = ("code", "id")
RECENT = ("created_at", "id")

Plan = dict[str, Any]


@pytest.fixture(scope="module")
def big(django_db_setup: None, django_db_blocker: Any) -> Iterator[Tenant]:
    """Tenant A with ENTRIES entries (and a second tenant with half as many), committed."""
    with django_db_blocker.unblock():
        tenant = TenantFactory(slug="tenant-big", name="Big")
        other = TenantFactory(slug="tenant-other", name="Other")
        UserFactory(tenant=tenant, email="ops@big.test", is_superuser=True, is_staff=True)
        with connections["default"].cursor() as cur, bulk(cur):
            for t, n in ((tenant.id, ENTRIES), (other.id, ENTRIES // 2)):
                load_books(cur, t, companies=COMPANIES, fx_rates=FX_RATES)
                load_entries(cur, t, 0, n - 1)
                load_payments(cur, t, 0, n - 1)
                load_balances(cur, t)
            # Other tenants' activity (sign-ins), as in production, where no one tenant owns
            # most of the log: otherwise walking the whole log's key backwards looks as cheap.
            cur.execute(CROWD_AUDIT, [CROWD_EVENTS])
            analyze(cur)
        yield tenant
        for alias in connections:
            connections[alias].close()
        truncate_governed_tables()


# --- plan inspection -----------------------------------------------------------------------


# tenant_context sends the unit's variables in the same query as its first statement; the plan
# to inspect is the statement's, after that prefix.


def explain(tenant_id: uuid.UUID, sql: str, alias: str = "finance") -> Plan:
    statement = without_variables(sql)
    assert ";" not in statement.rstrip(";"), statement
    with tenant_context(tenant_id, using=[alias]), connections[alias].cursor() as cur:
        cur.execute("EXPLAIN (FORMAT JSON) " + statement)
        (doc,) = cur.fetchone()
    plan: Plan = doc[0]["Plan"]
    return plan


def nodes(plan: Plan, in_subplan: bool = False) -> Iterator[tuple[Plan, bool]]:
    yield plan, in_subplan
    for child in plan.get("Plans", []):
        sub = in_subplan or child.get("Parent Relationship") in ("SubPlan", "InitPlan")
        yield from nodes(child, sub)


def assert_page_shaped(plan: Plan, index: str | tuple[str, ...], *, sql: str = "") -> None:
    """An index scan on ``index`` (tenant-leading, list order) drives the plan; nothing is
    sorted, aggregated or scanned sequentially over the tenant's rows."""
    indexes = (index,) if isinstance(index, str) else index
    shown = f"{sql}\n{plan}"
    drivers = [
        n
        for n, sub in nodes(plan)
        if not sub and n["Node Type"] in ("Index Scan", "Index Only Scan")
    ]
    assert drivers, f"no index scan drives the list:\n{shown}"
    assert drivers[0]["Index Name"] in indexes, f"list read through the wrong index:\n{shown}"
    tenant_in = "Filter" if drivers[0]["Index Name"].endswith("_pkey") else "Index Cond"
    assert "tenant_id" in drivers[0].get(tenant_in, ""), f"index not tenant-led:\n{shown}"
    for node, _ in nodes(plan):
        kind = node["Node Type"]
        assert kind not in ("Sort", "Incremental Sort", "Seq Scan", "Bitmap Heap Scan"), (
            f"{kind} in a list plan:\n{shown}"
        )
        assert kind not in ("Hash Join", "Merge Join", "Hash"), f"{kind} in a list plan:\n{shown}"
        assert kind != "Aggregate", f"aggregate in a list plan:\n{shown}"


def request(**params: Any) -> Request:
    return Request(APIRequestFactory().get("/api/v1/list/", params))


def list_queries(tenant_id: uuid.UUID, run: Callable[[], Any], table: str) -> list[str]:
    """The SELECTs on ``table`` that ``run`` sent on the finance alias."""
    with tenant_context(tenant_id, using=["finance"]):
        with CaptureQueriesContext(connections["finance"]) as captured:
            run()
    pattern = re.compile(rf'FROM "finance"\."{table}"')
    return [
        q["sql"]
        for q in captured.captured_queries
        if q["sql"].startswith("SELECT") and pattern.search(q["sql"])
    ]


def check_api_list(
    tenant: Tenant,
    qs: Callable[[], Any],
    fields: tuple[str, ...],
    *,
    descending: bool,
    table: str,
    index: str | tuple[str, ...],
) -> None:
    """First page, then the next page from its cursor: each query page-shaped."""
    paginator = KeysetPaginator(fields, descending=descending)
    pages: dict[str, Any] = {}

    def first() -> None:
        pages["rows"], pages["next"] = paginator.paginate(qs(), request(limit=50))

    queries = list_queries(tenant.id, first, table)
    if pages["next"] is not None:
        (cursor,) = parse_qs(urlsplit(pages["next"]).query)["cursor"]

        def second() -> None:
            paginator.paginate(qs(), request(limit=50, cursor=cursor))

        queries += list_queries(tenant.id, second, table)
        assert len(queries) == 3, queries  # page 1; the cursor's row, page 2
    for sql in queries:
        if re.search(r'WHERE .*"id" = ', sql) and "LIMIT 1" in sql:
            continue  # the cursor's own row: a primary-key probe
        assert_page_shaped(explain(tenant.id, sql), index, sql=sql)


def first_company(tenant: Tenant) -> uuid.UUID:
    with tenant_context(tenant.id, using=["finance"]):
        company = Company.objects.order_by("code").first()
    assert company is not None
    return company.pk


# --- API lists -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("filters", "index"),
    [
        ({}, "finance_entry_recent_idx"),
        ({"status": JournalEntry.Status.POSTED}, "finance_entry_status_idx"),
        ({"status": JournalEntry.Status.DRAFT}, "finance_entry_status_idx"),
        ({"company": True}, "finance_entry_list_idx"),
        ({"company": True, "status": JournalEntry.Status.DRAFT}, "finance_entry_co_status_idx"),
    ],
    ids=["all", "posted", "draft", "company", "company-draft"],
)
def test_journal_list_reads_one_page_of_the_index(
    big: Tenant, filters: dict[str, Any], index: str
) -> None:
    company = first_company(big) if filters.pop("company", False) else None
    check_api_list(
        big,
        lambda: selectors.journal_entries(tenant_id=big.id, company_id=company, **filters),
        RECENT,
        descending=True,
        table="journal_entries",
        index=index,
    )


@pytest.mark.parametrize(
    ("filters", "index"),
    [
        ({}, "finance_payment_recent_idx"),
        ({"status": Payment.Status.CANCELLED}, "finance_payment_st_list_idx"),
        ({"company": True}, "finance_payment_list_idx"),
        ({"company": True, "status": Payment.Status.CANCELLED}, "finance_payment_co_st_idx"),
    ],
    ids=["all", "cancelled", "company", "company-cancelled"],
)
def test_payment_list_reads_one_page_of_the_index(
    big: Tenant, filters: dict[str, Any], index: str
) -> None:
    company = first_company(big) if filters.pop("company", False) else None
    check_api_list(
        big,
        lambda: selectors.payments(tenant_id=big.id, company_id=company, **filters),
        RECENT,
        descending=True,
        table="payments",
        index=index,
    )


@pytest.mark.parametrize(
    ("name", "fields", "descending", "table", "index"),
    [
        ("companies", BY_CODE, False, "companies", "finance_company_list_idx"),
        ("accounts", BY_CODE, False, "accounts", "finance_account_list_idx"),
        ("accounts-company", BY_CODE, False, "accounts", "finance_account_co_list_idx"),
        ("bank_accounts", RECENT, True, "bank_accounts", "finance_bankaccount_list_idx"),
        ("fx_rates", RECENT, True, "fx_rates", "finance_fxrate_list_idx"),
        ("approval_matrices", RECENT, True, "approval_matrices", "finance_matrix_list_idx"),
    ],
    ids=lambda v: v if isinstance(v, str) and not v.startswith("finance") else None,
)
def test_reference_list_reads_one_page_of_the_index(
    big: Tenant,
    name: str,
    fields: tuple[str, ...],
    descending: bool,
    table: str,
    index: str,
) -> None:
    # As the API views call them (the paginator's key replaces the selector's ordering).
    def qs() -> Any:
        if name == "accounts-company":
            return selectors.accounts(tenant_id=big.id, company_id=first_company(big))
        return getattr(selectors, name)(tenant_id=big.id)

    check_api_list(big, qs, fields, descending=descending, table=table, index=index)


# --- admin changelists ---------------------------------------------------------------------


@pytest.fixture
def operator(big: Tenant) -> Client:
    client = Client()
    response = client.post(
        "/admin/login/?next=/admin/",
        {"tenant": big.slug, "username": "ops@big.test", "password": PASSWORD},
    )
    assert response.status_code == 302, response.content
    return client


@pytest.mark.parametrize(
    ("path", "alias", "table", "index"),
    [
        ("finance/journalentry/", "finance", "journal_entries", "finance_entry_recent_idx"),
        (
            "finance/journalentry/?status__exact=POSTED",
            "finance",
            "journal_entries",
            "finance_entry_status_idx",
        ),
        (
            "finance/journalline/",
            "finance",
            "journal_lines",
            "finance_journalline_tenant_key",
        ),
        ("finance/payment/", "finance", "payments", "finance_payment_recent_idx"),
        ("finance/fxrate/", "finance", "fx_rates", "finance_fxrate_list_idx"),
        ("kernel/auditevent/", "kernel", "audit_events", "kernel_auditevent_recent_idx"),
        (
            "kernel/auditevent/?table=finance.payments",
            "kernel",
            "audit_events",
            "kernel_auditevent_table_idx",
        ),
    ],
    ids=["entries", "entries-posted", "lines", "payments", "fx-rates", "audit", "audit-table"],
)
def test_admin_changelist_reads_one_page_and_counts_nothing(
    big: Tenant, operator: Client, path: str, alias: str, table: str, index: str | tuple[str, ...]
) -> None:
    with CaptureQueriesContext(connections[alias]) as captured:
        response = operator.get(f"/admin/{path}")
    assert response.status_code == 200
    own = re.compile(rf'FROM "{alias}"\."{table}"')
    queries = [
        without_variables(q["sql"]) for q in captured.captured_queries if own.search(q["sql"])
    ]
    # Rows are counted only up to a bound (EstimatedCountPaginator), never the whole list.
    counts = [q for q in queries if q.startswith("SELECT COUNT")]
    assert all(q.endswith("LIMIT 1001) subquery") for q in counts), counts
    pages = [q for q in queries if q.startswith("SELECT ") and q not in counts and "LIMIT" in q]
    assert len(pages) == 1, queries
    assert_page_shaped(explain(big.id, pages[0], alias), index, sql=pages[0])


def test_the_line_count_is_the_lines_of_each_entry(big: Tenant) -> None:
    """The count each row carries agrees with counting the lines (the GROUP BY it replaced)."""
    with tenant_context(big.id, using=["finance"]):
        page = list(selectors.journal_entries(tenant_id=big.id).order_by("-created_at")[:20])
        counted = {
            e.pk: e.n
            for e in JournalEntry.objects.filter(pk__in=[e.pk for e in page]).annotate(
                n=Count("lines")
            )
        }
    assert {e.pk: e.line_count for e in page} == counted
    assert set(counted.values()) == {2}
