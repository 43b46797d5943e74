"""The project's own schema passes the guardian at block, and the live rules see the database
as it is (real sizes, real grants) — including what a raw-SQL session did to it."""

from __future__ import annotations

import json
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import connections

from guardian.config import parse_config, project_config
from guardian.enforcement import load_baseline
from guardian.reporting import to_sarif
from guardian.runner import baseline_path, run_files, run_live, run_migrations


def test_the_whole_migration_history_passes_at_block_with_only_reasoned_baseline_entries(
    transactional_db: None,
) -> None:
    config = project_config()
    strict = parse_config(
        {
            "global_tables": dict(config.global_tables),
            "levels": {
                "ci": {
                    rule: "block"
                    for rule in ("updated-at-missing", "naming", "tenant-index-missing")
                }
            },
            "baseline": str(baseline_path(config)),
        }
    )
    run = run_migrations(history=True, env="ci", config=strict)
    assert run.verdict.stopping == [], [f"{f.id} {f.message}" for f in run.verdict.stopping]
    assert run.verdict.stale_baseline == []
    # Every operation rendered, the non-atomic (CONCURRENTLY) ones included.
    assert [f.message for f in run.verdict.findings if f.rule == "render-error"] == []
    baseline = load_baseline(baseline_path(config))
    accepted = [f for f in run.verdict.findings if f.accepted]
    assert {f.id for f in accepted} == set(baseline)
    assert all(len(entry.reason) > 30 for entry in baseline.values())
    # Every global table is declared with its reason.
    assert all(len(reason) > 20 for reason in config.global_tables.values())
    assert len(run.units) >= 40
    # In SARIF the accepted findings are suppressions carrying their reason, not open alerts.
    results = json.loads(to_sarif(run))["runs"][0]["results"]
    suppressed = [r for r in results if r.get("suppressions")]
    assert len(suppressed) == len(baseline)
    assert all(r["suppressions"][0]["justification"].startswith("baseline: ") for r in suppressed)


def test_the_live_test_database_passes_too(db: None) -> None:
    run = run_live(env="ci")
    assert run.verdict.ok, [f"{f.id} {f.message}" for f in run.verdict.stopping]


@pytest.fixture
def scratch_table(transactional_db: None):  # type: ignore[no-untyped-def]
    with connections["default"].cursor() as cur:
        cur.execute(
            "CREATE TABLE finance.guardian_scratch (id uuid PRIMARY KEY DEFAULT gen_random_uuid(), "
            "tenant_id uuid NOT NULL, created_at timestamptz NOT NULL DEFAULT now(), "
            "updated_at timestamptz NOT NULL DEFAULT now(), status text)"
        )
        cur.execute(
            "INSERT INTO finance.guardian_scratch (tenant_id, status) "
            "SELECT gen_random_uuid(), 'open' FROM generate_series(1, 5000)"
        )
        cur.execute("ANALYZE finance.guardian_scratch")
    try:
        yield "finance.guardian_scratch"
    finally:
        with connections["default"].cursor() as cur:
            cur.execute("DROP TABLE IF EXISTS finance.guardian_scratch")


def test_live_rules_flag_what_a_raw_sql_session_did(scratch_table: str) -> None:
    with connections["default"].cursor() as cur:
        cur.execute(f"GRANT SELECT, TRUNCATE ON {scratch_table} TO aibos_finance_role")
    got = {(f.rule, f.object) for f in run_live(env="ci").verdict.stopping}
    assert ("rls-not-forced", scratch_table) in got
    assert ("runtime-grant-forbidden", f"{scratch_table}:aibos_finance_role") in got


def test_the_same_sql_is_info_on_a_small_live_table_and_blocks_on_a_big_one(
    scratch_table: str, tmp_path: Path
) -> None:
    sql = tmp_path / "index.sql"
    sql.write_text(f"CREATE INDEX guardian_scratch_status ON {scratch_table} (status);\n")
    base = project_config()

    def level(lock_rows: int) -> str:
        config = parse_config(
            {"global_tables": dict(base.global_tables), "thresholds": {"lock_rows": lock_rows}}
        )
        (f,) = [
            f
            for f in run_files([sql], env="ci", config=config).verdict.findings
            if f.rule == "index-not-concurrent"
        ]
        return f"{f.level}: {f.level_reason}"

    assert level(100_000).startswith("info: ~5,000 rows")
    assert level(1_000).startswith("block: ~5,000 rows")


def test_the_guardian_command_exits_1_with_json_when_a_file_blocks(
    db: None, tmp_path: Path
) -> None:
    bad = tmp_path / "bad.sql"
    bad.write_text("CREATE TABLE finance.ledger_copy (id uuid PRIMARY KEY, amount real);\n")
    out = StringIO()
    with pytest.raises(SystemExit) as exit_:
        call_command("guardian", str(bad), format="json", stdout=out)
    assert exit_.value.code == 1
    data = json.loads(out.getvalue())
    assert {f["rule"] for f in data["findings"] if f["stops"]} >= {
        "tenant-id-missing",
        "float-or-money-type",
    }
    ok = tmp_path / "ok.sql"
    ok.write_text("SELECT id FROM finance.companies WHERE tenant_id = $1;\n")
    call_command("guardian", str(ok), stdout=StringIO())  # no SystemExit: nothing stops


def test_the_schema_document_lists_the_guardians_live_findings_per_table(db: None) -> None:
    from guardian.catalog import read_catalog
    from guardian.runner import findings_by_table

    by_table = findings_by_table(read_catalog(connections["default"], ["kernel", "finance"]))
    audit = {(f.rule, f.level) for f in by_table["kernel.audit_events"]}
    assert audit == {("created-at-missing", "block"), ("id-not-uuid", "warn")}
    assert all("Accepted — baseline:" in f.message for f in by_table["kernel.audit_events"])
    assert "finance.journal_entries" not in by_table


def test_sampling_finds_a_column_that_determines_another(transactional_db: None) -> None:
    with connections["default"].cursor() as cur:
        cur.execute(
            "CREATE TABLE finance.guardian_fd (id uuid PRIMARY KEY DEFAULT gen_random_uuid(), "
            "tenant_id uuid NOT NULL, created_at timestamptz NOT NULL DEFAULT now(), "
            "updated_at timestamptz NOT NULL DEFAULT now(), city text, country text, memo text)"
        )
        # 40 cities, each in one of 8 countries; memo varies freely.
        cur.execute(
            "INSERT INTO finance.guardian_fd (tenant_id, city, country, memo) "
            "SELECT '00000000-0000-0000-0000-000000000001', 'city' || (g % 40), "
            "'country' || ((g % 40) % 8), md5(g::text) FROM generate_series(1, 3000) g"
        )
        cur.execute("ANALYZE finance.guardian_fd")
    try:
        run = run_live(env="ci", sample=True)
        deps = {f.object for f in run.verdict.findings if f.rule == "transitive-dependency"}
        assert deps == {"finance.guardian_fd.city->country"}
        assert run_live(env="ci").verdict.findings == [
            f for f in run.verdict.findings if f.rule != "transitive-dependency"
        ]
    finally:
        with connections["default"].cursor() as cur:
            cur.execute("DROP TABLE finance.guardian_fd")
