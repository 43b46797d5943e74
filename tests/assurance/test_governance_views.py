"""The governance views, read as aibos_monitor_role: platform-wide and read-only for it, closed
to every other platform role, and red when a protection they report on is taken away.

Healthy-database tests commit (the monitor's own connection must see the rows); the tests that
break something do it as the owner inside the test's transaction, and read the views in that
same transaction after ``SET ROLE aibos_monitor_role`` (the monitor's privileges exactly), so
everything is rolled back.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import pytest
from django.db import DatabaseError, connections, transaction

from aibos.tenancy import tenant_context
from assurance.governance_views import VIEWS, forward_sql, read_governance_summary, reverse_sql
from finance.models import JournalEntry
from tests.finance.books import post_simple

pytestmark = pytest.mark.django_db(databases="__all__")

MONITOR = "aibos_monitor_role"
# Every platform alias but the monitor's: none may read the views.
OTHER_ALIASES = ("kernel", "finance", "config", "readonly", "sealer")


def _sqlstate(exc: pytest.ExceptionInfo[BaseException]) -> str | None:
    return getattr(exc.value.__cause__, "sqlstate", None)


def _rows(alias: str, sql: str, params: Any = None) -> list[dict[str, Any]]:
    with connections[alias].cursor() as cur:
        cur.execute(sql, params)
        columns = [d.name for d in cur.description]
        return [dict(zip(columns, row, strict=True)) for row in cur.fetchall()]


@pytest.fixture
def as_monitor() -> Iterator[Any]:
    """Reads on the owner's connection, in its transaction, with the monitor's privileges."""

    def read(sql: str, params: Any = None) -> list[dict[str, Any]]:
        with connections["default"].cursor() as cur:
            cur.execute(f"SET ROLE {MONITOR}")
            try:
                assert _rows("default", "SELECT current_user AS u")[0]["u"] == MONITOR
                return _rows("default", sql, params)
            finally:
                cur.execute("RESET ROLE")

    yield read


def _summary(read: Any) -> dict[str, dict[str, Any]]:
    return {r["check_name"]: r for r in read("SELECT * FROM kernel.v_governance_summary")}


def _owner(*statements: str) -> None:
    with connections["default"].cursor() as cur:
        for statement in statements:
            cur.execute(statement)


# --- the frozen SQL --------------------------------------------------------------------------


def test_the_migration_deploys_the_views_the_code_declares() -> None:
    import importlib

    migration = importlib.import_module("assurance.migrations.0003_governance_views")
    assert migration.FORWARD.lstrip("\n") == forward_sql(), (
        "assurance.governance_views changed: write a migration re-creating the views"
    )
    assert migration.BACKWARD.lstrip("\n") == reverse_sql()


def test_every_view_is_security_invoker_and_granted_to_the_monitor_only() -> None:
    rows = _rows(
        "default",
        "SELECT c.oid::regclass::text AS name, c.reloptions, c.relacl::text[] AS acl "
        "FROM pg_class c WHERE c.oid::regclass::text = ANY(%s)",
        [list(VIEWS)],
    )
    assert sorted(r["name"] for r in rows) == sorted(VIEWS)
    for row in rows:
        assert row["reloptions"] == ["security_invoker=true"], row["name"]
        grantees = {entry.split("=")[0] for entry in row["acl"]}
        assert grantees == {"aibos_migration", MONITOR}, row
        assert f"{MONITOR}=r/aibos_migration" in row["acl"], row


# --- (1) the monitor reads every view, every tenant ---------------------------------------


@pytest.fixture
def two_ledgers(committed: None, books: SimpleNamespace, books_b: Any) -> Iterator[SimpleNamespace]:
    post_simple(books.us)
    post_simple(books.us, "25.00")
    post_simple(books.eu, "40.00")
    post_simple(books_b, "7.50")
    yield SimpleNamespace(a=books.tenant.id, b=books_b.company.tenant_id)


def _posted(tenant_id: uuid.UUID) -> int:
    with tenant_context(tenant_id, using=["finance"]):
        return JournalEntry.objects.filter(status=JournalEntry.Status.POSTED).count()


def test_the_monitor_reads_every_view_across_tenants_and_a_healthy_database_passes(
    two_ledgers: SimpleNamespace,
) -> None:
    a, b = two_ledgers.a, two_ledgers.b
    assert _rows("monitor", "SELECT current_user AS u")[0]["u"] == MONITOR
    # No tenant context on this connection: what it sees comes from its own policy.
    assert _rows("monitor", "SELECT current_setting('app.tenant_id', true) AS t")[0]["t"] in (
        None,
        "",
    )
    for view in VIEWS:
        assert _rows("monitor", f"SELECT count(*) AS n FROM {view}")[0]["n"] > 0, view

    health = {r["tenant_id"]: r for r in _rows("monitor", "SELECT * FROM kernel.v_tenant_health")}
    assert health[a]["companies"] == 2 and health[b]["companies"] == 1
    assert health[a]["posted_entries"] == _posted(a) >= 3
    assert health[b]["posted_entries"] == _posted(b) >= 1

    summary = {
        r["tenant_id"]: r
        for r in _rows("monitor", "SELECT * FROM finance.v_journal_integrity_summary")
    }
    assert set(summary) == {a, b}
    assert summary[a]["posted_entries"] == _posted(a) and summary[a]["companies"] == 2
    assert summary[b]["posted_entries"] == _posted(b)
    assert {r["status"] for r in summary.values()} == {"PASS"}

    per_company = _rows("monitor", "SELECT * FROM finance.v_journal_integrity")
    assert {(r["tenant_id"], r["status"]) for r in per_company} == {(a, "PASS"), (b, "PASS")}
    assert all(r["debit_total"] == r["credit_total"] > 0 for r in per_company)

    entries = _rows("monitor", "SELECT * FROM finance.v_double_entry_check")
    assert {r["tenant_id"] for r in entries} == {a, b}
    assert len(entries) == _posted(a) + _posted(b)
    assert {r["status"] for r in entries} == {"PASS"}

    checks = read_governance_summary()
    assert len(checks) == 8
    assert [c["check_name"] for c in checks if c["status"] != "PASS"] == [], checks
    assert all(c["checked"] > 0 for c in checks), checks
    by_name = {c["check_name"]: c for c in checks}
    assert by_name["double_entry"]["checked"] == len(entries)


# --- (2) the monitor reads nothing else and writes nothing ---------------------------------


@pytest.mark.parametrize(
    "statement",
    [
        "SELECT email FROM kernel.users",
        "SELECT full_name FROM kernel.users",
        "SELECT password FROM kernel.users",
        "SELECT * FROM kernel.users",
        "SELECT name FROM kernel.tenants",
        "SELECT secret_hash FROM kernel.api_credentials",
        "SELECT * FROM kernel.approval_grant_keys",
        "SELECT * FROM kernel.audit_events",
        "SELECT * FROM kernel.sessions",
        "SELECT memo FROM finance.journal_entries",
        "SELECT reference FROM finance.journal_entries",
        "SELECT request_payload FROM finance.journal_entries",
        "SELECT memo FROM finance.journal_lines",
        "SELECT name FROM finance.companies",
        "SELECT * FROM finance.payments",
        "SELECT * FROM config.settings",
        "SELECT * FROM config.provider_profiles",
        "INSERT INTO finance.journal_entries (tenant_id, company_id, entry_date, status) "
        "VALUES (gen_random_uuid(), gen_random_uuid(), now(), 'DRAFT')",
        "UPDATE finance.journal_entries SET status = 'DRAFT'",
        "DELETE FROM finance.journal_lines",
        "UPDATE kernel.tenants SET status = 'SUSPENDED'",
        "DELETE FROM kernel.users",
        "INSERT INTO config.settings (key) VALUES ('x')",
        "TRUNCATE finance.journal_lines",
        "TRUNCATE kernel.audit_events",
        "CREATE TABLE finance.mine (id int)",
        "CREATE VIEW kernel.v_mine AS SELECT 1",
    ],
)
def test_the_monitor_is_refused_everything_but_its_columns(statement: str) -> None:
    with pytest.raises(DatabaseError) as exc, transaction.atomic(using="monitor"):
        with connections["monitor"].cursor() as cur:
            cur.execute(statement)
    assert _sqlstate(exc) == "42501", statement


# --- (3) no other role gets platform-wide visibility --------------------------------------

WIDENING_ATTEMPTS = [
    "SELECT set_config('app.monitor', 'on', true)",
    "SELECT set_config('app.role', 'aibos_monitor_role', true)",
    "SELECT set_config('app.tenant_id', '', true)",
    "SELECT set_config('app.tenant_id', '00000000-0000-0000-0000-000000000000', true)",
]


@pytest.mark.parametrize("alias", OTHER_ALIASES)
@pytest.mark.parametrize("view", VIEWS)
def test_no_other_platform_role_may_read_a_view_whatever_it_sets(
    alias: str, view: str, tenant_a: Any
) -> None:
    with pytest.raises(DatabaseError) as exc, transaction.atomic(using=alias):
        with connections[alias].cursor() as cur:
            cur.execute("SELECT set_config('app.tenant_id', %s, true)", [str(tenant_a.id)])
            for attempt in WIDENING_ATTEMPTS:
                cur.execute(attempt)
            cur.execute(f"SELECT * FROM {view}")
    assert _sqlstate(exc) == "42501"


def test_the_monitor_policy_does_not_widen_the_runtime_roles(
    two_ledgers: SimpleNamespace,
) -> None:
    """The finance role sees its tenant's ledger rows only, whatever variables it sets, and
    cannot become the monitor."""
    a = two_ledgers.a
    probe = (
        "SELECT (SELECT array_agg(DISTINCT tenant_id) FROM finance.journal_entries) AS e, "
        "(SELECT array_agg(DISTINCT tenant_id) FROM finance.journal_lines) AS l, "
        "(SELECT array_agg(DISTINCT tenant_id) FROM finance.companies) AS c"
    )
    with tenant_context(a, using=["finance"]):
        with connections["finance"].cursor() as cur:
            for attempt in WIDENING_ATTEMPTS[:2]:
                cur.execute(attempt)
        seen = _rows("finance", probe)[0]
        assert seen == {"e": [a], "l": [a], "c": [a]}
        with connections["finance"].cursor() as cur:
            cur.execute(WIDENING_ATTEMPTS[2])
        assert _rows("finance", probe)[0] == {"e": None, "l": None, "c": None}
        with pytest.raises(DatabaseError) as exc, transaction.atomic(using="finance"):
            with connections["finance"].cursor() as cur:
                cur.execute(f"SET LOCAL ROLE {MONITOR}")
        assert _sqlstate(exc) == "42501"
    # Users behind the kernel role likewise: its own tenant only.
    with tenant_context(a, using=["kernel"]):
        with connections["kernel"].cursor() as cur:
            cur.execute(WIDENING_ATTEMPTS[0])
        assert {r["t"] for r in _rows("kernel", "SELECT tenant_id AS t FROM kernel.users")} <= {a}


# --- (4) red when a protection is removed ------------------------------------------------


def _assert_fails(read: Any, check: str, *needles: str) -> None:
    summary = _summary(read)
    assert summary[check]["status"] == "FAIL", summary[check]
    text = "\n".join(summary[check]["failures"])
    for needle in needles:
        assert needle in text, text
    others = [name for name, row in summary.items() if row["status"] == "FAIL"]
    assert check in others


def test_the_baseline_inside_a_test_transaction_passes(as_monitor: Any) -> None:
    summary = _summary(as_monitor)
    assert {name: row["status"] for name, row in summary.items()} == dict.fromkeys(summary, "PASS")


def test_rls_not_forced_fails_tenant_isolation(as_monitor: Any) -> None:
    _owner("ALTER TABLE finance.journal_entries NO FORCE ROW LEVEL SECURITY")
    rows = as_monitor(
        "SELECT status, problems FROM kernel.v_tenant_isolation_check "
        "WHERE schema_name = 'finance' AND table_name = 'journal_entries'"
    )
    assert rows == [{"status": "FAIL", "problems": ["RLS not forced"]}]
    _assert_fails(as_monitor, "tenant_isolation", "finance.journal_entries: RLS not forced")


@pytest.mark.parametrize(
    ("statements", "needle"),
    [
        (["ALTER TABLE kernel.roles DISABLE ROW LEVEL SECURITY"], "kernel.roles: RLS not enabled"),
        (
            ["DROP POLICY tenant_isolation ON finance.companies"],
            "finance.companies: no tenant policy",
        ),
        (
            ["CREATE POLICY leak ON finance.journal_lines FOR SELECT TO PUBLIC USING (true)"],
            "finance.journal_lines: unexpected policy leak",
        ),
        (
            # The predicate weakened but still mentioning app.tenant_id and NULLIF.
            [
                "CREATE POLICY almost ON finance.payments FOR SELECT USING ("
                "tenant_id = (SELECT NULLIF(current_setting('app.tenant_id', true), '')::uuid)"
                " OR true)"
            ],
            "finance.payments: unexpected policy almost",
        ),
        (
            [
                "CREATE POLICY monitor_too ON kernel.users FOR SELECT TO aibos_kernel_role USING (true)"
            ],
            "kernel.users: unexpected policy monitor_too",
        ),
        (
            ["ALTER VIEW finance.v_double_entry_check SET (security_invoker = false)"],
            "finance.v_double_entry_check: view is not security_invoker",
        ),
        (
            ["ALTER TABLE finance.payments OWNER TO postgres"],
            "finance.payments: owned by postgres, which bypasses RLS",
        ),
    ],
)
def test_weakened_isolation_fails(as_monitor: Any, statements: list[str], needle: str) -> None:
    _owner(*statements)
    _assert_fails(as_monitor, "tenant_isolation", needle)


@pytest.mark.parametrize(
    ("statement", "check", "needle"),
    [
        (
            "GRANT SELECT ON kernel.users TO aibos_finance_role",
            "schema_boundary_grant",
            "aibos_finance_role SELECT on kernel.users - not declared for aibos_finance_role",
        ),
        (
            "GRANT UPDATE ON config.settings TO aibos_config_role",
            "schema_boundary_grant",
            "aibos_config_role UPDATE on config.settings",
        ),
        (
            "GRANT SELECT (memo) ON finance.journal_entries TO aibos_monitor_role",
            "schema_boundary_grant",
            "aibos_monitor_role SELECT (column) on finance.journal_entries.memo",
        ),
        (
            "GRANT SELECT ON finance.journal_entries TO aibos_monitor_role",
            "schema_boundary_grant",
            "aibos_monitor_role SELECT on finance.journal_entries",
        ),
        (
            # Within the kernel schema's grants, but the audit log's append policy relies on no
            # platform role holding INSERT: the isolation check turns red.
            "GRANT INSERT ON kernel.audit_events TO aibos_kernel_role",
            "tenant_isolation",
            "kernel.audit_events: unexpected policy append",
        ),
        (
            "GRANT SELECT ON finance.payments TO PUBLIC",
            "schema_boundary_grant",
            "PUBLIC SELECT on finance.payments - granted to PUBLIC",
        ),
        (
            "GRANT REFERENCES ON finance.companies TO aibos_sealer_role",
            "schema_boundary_grant",
            "REFERENCES is forbidden",
        ),
        (
            "GRANT TRUNCATE ON finance.journal_lines TO aibos_finance_role",
            "immutability_privilege",
            "aibos_finance_role - TRUNCATE on finance.journal_lines",
        ),
        (
            "GRANT TRIGGER ON kernel.audit_events TO aibos_readonly",
            "immutability_privilege",
            "aibos_readonly - TRIGGER on kernel.audit_events",
        ),
        (
            "GRANT CREATE ON SCHEMA finance TO aibos_finance_role",
            "schema_boundary_schema_create",
            "aibos_finance_role CREATE on finance",
        ),
        (
            "GRANT CREATE ON SCHEMA public TO PUBLIC",
            "schema_boundary_schema_create",
            "PUBLIC CREATE on public",
        ),
        (
            "ALTER TABLE finance.payments OWNER TO aibos_finance_role",
            "schema_boundary_ownership",
            "aibos_finance_role OWNER on aibos_finance_role - owns",
        ),
        (
            # Membership inherits the monitor's policy: platform-wide reads for the finance role.
            "GRANT aibos_monitor_role TO aibos_finance_role",
            "schema_boundary_role",
            "aibos_finance_role on aibos_finance_role - member of aibos_monitor_role",
        ),
    ],
)
def test_a_privilege_beyond_the_declared_boundary_fails(
    as_monitor: Any, statement: str, check: str, needle: str
) -> None:
    _owner(statement)
    _assert_fails(as_monitor, check, needle)


def test_the_forbidden_grant_also_fails_the_boundary_check(as_monitor: Any) -> None:
    _owner("GRANT TRUNCATE ON finance.journal_lines TO aibos_finance_role")
    rows = as_monitor(
        "SELECT status, detail FROM kernel.v_schema_boundary_check "
        "WHERE role_name = 'aibos_finance_role' AND object_name = 'finance.journal_lines' "
        "AND privilege = 'TRUNCATE'"
    )
    assert rows == [{"status": "FAIL", "detail": "TRUNCATE is forbidden to platform roles"}]


@pytest.mark.parametrize(
    ("statement", "needle"),
    [
        (
            "ALTER TABLE finance.journal_entries DISABLE TRIGGER guard_finance_journalentry_guard",
            "finance.journal_entries guard_finance_journalentry_guard - disabled",
        ),
        (
            "ALTER TABLE finance.journal_lines ENABLE REPLICA TRIGGER guard_finance_journalline_guard",
            "finance.journal_lines guard_finance_journalline_guard - fires only in replica mode",
        ),
        (
            "DROP TRIGGER kernel_auditevent_append_only ON kernel.audit_events",
            "kernel.audit_events kernel_auditevent_append_only - missing",
        ),
        (
            "DROP TRIGGER guard_finance_journalline_truncate ON finance.journal_lines",
            "finance.journal_lines guard_finance_journalline_truncate - missing",
        ),
        (
            "ALTER TABLE finance.payments DISABLE TRIGGER ALL",
            "finance.payments",
        ),
        (
            "CREATE OR REPLACE FUNCTION finance.guard_finance_journalentry_guard() RETURNS trigger "
            "LANGUAGE plpgsql AS $$ BEGIN IF _pgtrigger_should_ignore(TG_NAME) THEN RETURN NEW; "
            "END IF; RETURN NEW; END $$",
            "guard_finance_journalentry_guard - has the pgtrigger ignore hook",
        ),
    ],
)
def test_a_guard_switched_off_fails_immutability(
    as_monitor: Any, statement: str, needle: str
) -> None:
    _owner(statement)
    _assert_fails(as_monitor, "immutability_trigger", needle)
    assert any(
        r["status"] == "FAIL" for r in as_monitor("SELECT status FROM finance.v_immutability_check")
    )


# Rows the guards would refuse, written as the test's superuser with triggers (and the foreign
# keys' triggers) skipped: what a restore, a replica or a hand edit could leave behind.
ENTRY = (
    "INSERT INTO finance.journal_entries (id, tenant_id, company_id, entry_date, reference, "
    "memo, status, posting_seq, posted_at, posted_by, created_by, request_hash, line_count) "
    "VALUES (%s, %s, %s, '2026-03-10', 'bad', '', 'POSTED', 1, now(), 'db', 'db', '', %s)"
)
LINE = (
    "INSERT INTO finance.journal_lines (tenant_id, entry_id, account_id, debit, credit, "
    "currency, txn_amount, fx_rate, memo) VALUES (%s, %s, gen_random_uuid(), %s, %s, %s, %s, 1, '')"
)


def _write_bypassing_guards(statements: list[tuple[str, list[Any]]]) -> None:
    with connections["default"].cursor() as cur:
        cur.execute("SET LOCAL session_replication_role = replica")
        for sql, params in statements:
            cur.execute(sql, params)
        cur.execute("SET LOCAL session_replication_role = DEFAULT")


T, U, E, C = (uuid.uuid4() for _ in range(4))


@pytest.mark.parametrize(
    ("statements", "problem", "figure"),
    [
        (
            [
                (ENTRY, [E, T, C, 2]),
                (LINE, [T, E, 100, 0, "USD", 100]),
                (LINE, [T, E, 0, 90, "USD", 90]),
            ],
            "debits 100.0000 <> credits 90.0000",
            "unbalanced_entries",
        ),
        (
            # Balanced in the company currency, not in the lines' own currency.
            [
                (ENTRY, [E, T, C, 2]),
                (LINE, [T, E, 110, 0, "EUR", 100]),
                (LINE, [T, E, 0, 110, "EUR", 99]),
            ],
            "does not balance in EUR",
            "unbalanced_entries",
        ),
        (
            [(ENTRY, [E, T, C, 1]), (LINE, [T, E, 100, 0, "USD", 100])],
            "1 line(s); a posted entry needs two",
            "short_entries",
        ),
        (
            [
                (ENTRY, [E, T, C, 3]),
                (LINE, [T, E, 100, 0, "USD", 100]),
                (LINE, [T, E, 0, 100, "USD", 100]),
            ],
            "line_count 3 but 2 line(s)",
            "line_count_mismatches",
        ),
        (
            [
                (ENTRY, [E, T, C, 2]),
                (LINE, [T, E, 100, 0, "USD", 100]),
                (LINE, [T, E, 0, 100, "USD", 100]),
                (LINE, [U, E, 5, 0, "USD", 5]),
            ],
            "1 line(s) of another tenant",
            "foreign_tenant_lines",
        ),
    ],
)
def test_a_broken_posted_entry_fails_double_entry_by_name(
    as_monitor: Any, statements: list[tuple[str, list[Any]]], problem: str, figure: str
) -> None:
    _write_bypassing_guards(statements)
    rows = as_monitor(
        "SELECT tenant_id, company_id, status, problems FROM finance.v_double_entry_check "
        "WHERE entry_id = %s",
        [E],
    )
    assert [(r["tenant_id"], r["company_id"], r["status"]) for r in rows] == [(T, C, "FAIL")]
    assert problem in rows[0]["problems"]

    (integrity,) = as_monitor(
        "SELECT * FROM finance.v_journal_integrity WHERE tenant_id = %s AND company_id = %s", [T, C]
    )
    assert integrity["status"] == "FAIL" and integrity["failed_entry_ids"] == [E]
    assert integrity[figure] > 0
    (rollup,) = as_monitor(
        "SELECT status, failed_entries FROM finance.v_journal_integrity_summary "
        "WHERE tenant_id = %s",
        [T],
    )
    assert rollup == {"status": "FAIL", "failed_entries": 1}
    _assert_fails(as_monitor, "double_entry", f"entry {E} (tenant {T}): ", problem)


def test_lines_of_no_entry_fail_double_entry(as_monitor: Any) -> None:
    _write_bypassing_guards([(LINE, [T, E, 100, 0, "USD", 100])])
    (integrity,) = as_monitor("SELECT * FROM finance.v_journal_integrity WHERE tenant_id = %s", [T])
    assert integrity["company_id"] is None and integrity["orphan_lines"] == 1
    assert integrity["status"] == "FAIL"
    _assert_fails(
        as_monitor, "double_entry", f"entry {E} (tenant {T}): lines reference no journal entry"
    )


def test_a_draft_is_not_judged(as_monitor: Any) -> None:
    """Drafts may be unbalanced and short; only POSTED entries are checked."""
    _write_bypassing_guards(
        [
            (ENTRY.replace("'POSTED', 1, now()", "'DRAFT', NULL, NULL"), [E, T, C, 1]),
            (LINE, [T, E, 100, 0, "USD", 100]),
        ]
    )
    assert as_monitor("SELECT * FROM finance.v_double_entry_check WHERE entry_id = %s", [E]) == []
    assert _summary(as_monitor)["double_entry"]["status"] == "PASS"
