"""The fixes' operations apply twice without error, and after a build that left an INVALID
index behind."""

from __future__ import annotations

import pytest
from django.db import connections, models
from django.db.migrations.state import ModelState, ProjectState

from guardian.operations import AddConstraintNotValidIfNotExists, AddIndexConcurrentlyIfNotExists

TABLE = 'finance"."guardian_ops'


@pytest.fixture
def ops_table(transactional_db: None):  # type: ignore[no-untyped-def]
    with connections["default"].cursor() as cur:
        cur.execute(
            "CREATE TABLE finance.guardian_ops (id uuid PRIMARY KEY, tenant_id uuid NOT NULL, "
            "created_at timestamptz NOT NULL DEFAULT now(), amount numeric(19,4))"
        )
    state = ProjectState()
    state.add_model(
        ModelState(
            "guardian_ops",
            "Op",
            [
                ("id", models.UUIDField(primary_key=True)),
                ("tenant_id", models.UUIDField()),
                ("created_at", models.DateTimeField()),
                ("amount", models.DecimalField(max_digits=19, decimal_places=4, null=True)),
            ],
            options={"db_table": TABLE},
        )
    )
    try:
        yield state
    finally:
        with connections["default"].cursor() as cur:
            cur.execute("DROP TABLE IF EXISTS finance.guardian_ops")


def _apply(op, state: ProjectState, atomic: bool) -> None:  # type: ignore[no-untyped-def]
    new = state.clone()
    op.state_forwards("guardian_ops", new)
    with connections["default"].schema_editor(atomic=atomic) as editor:
        op.database_forwards("guardian_ops", editor, state, new)


def _index(name: str) -> tuple[bool, str] | None:
    with connections["default"].cursor() as cur:
        cur.execute(
            "SELECT i.indisvalid, pg_get_indexdef(i.indexrelid) FROM pg_index i "
            "JOIN pg_class c ON c.oid = i.indexrelid WHERE c.relname = %s",
            [name],
        )
        row = cur.fetchone()
    return (bool(row[0]), str(row[1])) if row else None


def test_add_index_concurrently_if_not_exists_runs_twice_and_replaces_an_invalid_leftover(
    ops_table: ProjectState,
) -> None:
    op = AddIndexConcurrentlyIfNotExists(
        "op", models.Index(fields=["tenant_id", "created_at"], name="guardian_ops_tenant_created")
    )
    _apply(op, ops_table, atomic=False)
    _apply(op, ops_table, atomic=False)  # Django's AddIndexConcurrently fails here
    valid, definition = _index("guardian_ops_tenant_created") or (False, "")
    assert valid and "(tenant_id, created_at)" in definition

    # A cancelled CONCURRENTLY build leaves an INVALID index; mark it so, as the failure would.
    with connections["default"].cursor() as cur:
        cur.execute(
            "UPDATE pg_index SET indisvalid = false WHERE indexrelid = 'finance.guardian_ops_tenant_created'::regclass"
        )
    assert _index("guardian_ops_tenant_created") == (False, definition)
    _apply(op, ops_table, atomic=False)
    assert _index("guardian_ops_tenant_created") == (True, definition)


def test_add_constraint_not_valid_if_not_exists_runs_twice(ops_table: ProjectState) -> None:
    op = AddConstraintNotValidIfNotExists(
        "op",
        models.CheckConstraint(condition=models.Q(amount__gte=0), name="guardian_ops_amount_ck"),
    )
    _apply(op, ops_table, atomic=True)
    _apply(op, ops_table, atomic=True)
    with connections["default"].cursor() as cur:
        cur.execute(
            "SELECT convalidated FROM pg_constraint WHERE conname = 'guardian_ops_amount_ck'"
        )
        assert cur.fetchall() == [(False,)]


def test_expand_contract_rename_keeps_both_releases_working_and_runs_twice(
    ops_table: ProjectState,
) -> None:
    from guardian.operations import ContractColumnRename, ExpandColumnRename

    expand = ExpandColumnRename("finance.guardian_ops", "amount", "total")
    with connections["default"].cursor() as cur:
        cur.execute(
            "INSERT INTO finance.guardian_ops (id, tenant_id, amount) VALUES (gen_random_uuid(), gen_random_uuid(), 5)"
        )
    _apply(expand, ops_table, atomic=True)
    _apply(expand, ops_table, atomic=True)
    with connections["default"].cursor() as cur:
        cur.execute("SELECT amount, total FROM finance.guardian_ops")
        assert cur.fetchall() == [(5, 5)]  # backfilled
        # The old release writes `amount`, the new one `total`: each sees the other's writes.
        cur.execute(
            "INSERT INTO finance.guardian_ops (id, tenant_id, amount) VALUES (gen_random_uuid(), gen_random_uuid(), 7)"
        )
        cur.execute(
            "INSERT INTO finance.guardian_ops (id, tenant_id, total) VALUES (gen_random_uuid(), gen_random_uuid(), 9)"
        )
        cur.execute("UPDATE finance.guardian_ops SET amount = 6 WHERE amount = 5")
        cur.execute("UPDATE finance.guardian_ops SET total = 10 WHERE total = 9")
        cur.execute("SELECT amount, total FROM finance.guardian_ops ORDER BY total")
        assert cur.fetchall() == [(6, 6), (7, 7), (10, 10)]
    contract = ContractColumnRename("finance.guardian_ops", "amount", "total")
    _apply(contract, ops_table, atomic=True)
    _apply(contract, ops_table, atomic=True)
    with connections["default"].cursor() as cur:
        cur.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_name = 'guardian_ops' ORDER BY 1"
        )
        assert [r[0] for r in cur.fetchall()] == ["created_at", "id", "tenant_id", "total"]
        cur.execute(
            "SELECT count(*) FROM pg_trigger WHERE tgrelid = 'finance.guardian_ops'::regclass"
        )
        assert cur.fetchone() == (0,)
