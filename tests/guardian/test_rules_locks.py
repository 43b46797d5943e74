"""Lock safety is judged by the table's live size: the same SQL is info on a small or new table
and blocks on a large or busy one."""

from __future__ import annotations

import pytest

from tests.guardian.helpers import findings, live_table, state_with

STATEMENTS = {
    "index-not-concurrent": "CREATE INDEX orders_status_idx ON finance.orders (status);",
    "table-rewrite": "ALTER TABLE finance.orders ALTER COLUMN status TYPE integer USING 0;",
    "not-null-without-check": "ALTER TABLE finance.orders ALTER COLUMN status SET NOT NULL;",
    "constraint-without-not-valid": "ALTER TABLE finance.orders ADD CONSTRAINT orders_status_ck CHECK (status <> '');",
}


def _orders(rows: float, writes: float = 0.0):  # type: ignore[no-untyped-def]
    return state_with(
        live_table("finance.orders", rows, writes, id="uuid", tenant_id="uuid", status="text")
    )


@pytest.mark.parametrize("rule", sorted(STATEMENTS))
def test_ten_rows_is_info_five_million_rows_blocks(rule: str) -> None:
    small = [f for f in findings(STATEMENTS[rule], _orders(10)) if f.rule == rule]
    big = [f for f in findings(STATEMENTS[rule], _orders(5_000_000)) if f.rule == rule]
    assert [f.level for f in small] == ["info"]
    assert "below the thresholds" in small[0].level_reason
    assert [f.level for f in big] == ["block"]
    assert "5,000,000 rows" in big[0].level_reason


def test_a_busy_small_table_blocks_by_its_write_rate() -> None:
    found = findings(STATEMENTS["index-not-concurrent"], _orders(500, writes=400.0))
    (f,) = [f for f in found if f.rule == "index-not-concurrent"]
    assert f.level == "block" and "400.0 writes/s" in f.level_reason


def test_a_table_created_in_the_same_plan_is_info_whatever_is_done_to_it() -> None:
    sql = (
        "CREATE TABLE finance.orders (id uuid PRIMARY KEY, tenant_id uuid, status text);\n"
        + "\n".join(STATEMENTS.values())
    )
    locks = [f for f in findings(sql) if f.rule in STATEMENTS]
    assert locks and {f.level for f in locks} == {"info"}
    assert {f.level_reason for f in locks} == {"table created in this plan"}


def test_a_table_the_database_does_not_know_is_judged_at_the_rule_level() -> None:
    (f,) = [
        f for f in findings(STATEMENTS["index-not-concurrent"]) if f.rule == "index-not-concurrent"
    ]
    assert f.level == "block" and "unknown" in f.level_reason


def test_safe_forms_are_not_reported() -> None:
    big = _orders(5_000_000)
    safe = """
    CREATE INDEX CONCURRENTLY IF NOT EXISTS orders_status_idx ON finance.orders (status);
    ALTER TABLE finance.orders ADD CONSTRAINT orders_status_ck CHECK (status <> '') NOT VALID;
    ALTER TABLE finance.orders VALIDATE CONSTRAINT orders_status_ck;
    ALTER TABLE finance.orders ADD CONSTRAINT orders_status_nn CHECK (status IS NOT NULL) NOT VALID;
    ALTER TABLE finance.orders VALIDATE CONSTRAINT orders_status_nn;
    ALTER TABLE finance.orders ALTER COLUMN status SET NOT NULL;
    ALTER TABLE finance.orders ALTER COLUMN status TYPE text;
    ALTER TABLE finance.orders ADD COLUMN note text DEFAULT 'none' NOT NULL;
    """
    assert [f for f in findings(safe, big) if f.rule in STATEMENTS] == []


def test_djangos_add_with_default_then_drop_default_is_one_safe_change() -> None:
    # What `sqlmigrate` emits for AddField(default=...): squawk 2.70 reports the DROP DEFAULT.
    sql = (
        'ALTER TABLE "finance"."orders" ADD COLUMN "kind" varchar(20) DEFAULT \'new\' NOT NULL;\n'
        'ALTER TABLE "finance"."orders" ALTER COLUMN "kind" DROP DEFAULT;'
    )
    found = findings(sql, _orders(5_000_000))
    assert [f for f in found if f.rule in STATEMENTS or "DROP DEFAULT" in f.statement] == []


def test_a_volatile_default_rewrites_the_table() -> None:
    sql = "ALTER TABLE finance.orders ADD COLUMN ref uuid DEFAULT gen_random_uuid() NOT NULL;"
    (f,) = [f for f in findings(sql, _orders(5_000_000)) if f.rule == "table-rewrite"]
    assert "gen_random_uuid" in f.message and f.level == "block"
